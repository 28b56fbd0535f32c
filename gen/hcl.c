/*
 * gen/hcl.c — the canonical-layout HCL writer (see hcl.h for the rules).
 */
#include "hcl.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void flush_run(cg_hcl *h)
{
    size_t width = 0;
    for (size_t i = 0; i < h->nrun; i++) {
        size_t n = strlen(h->run[i].key);
        if (n > width) width = n;
    }
    for (size_t i = 0; i < h->nrun; i++) {
        cg_buf_spaces(&h->out, (size_t)h->indent * 2);
        cg_buf_puts(&h->out, h->run[i].key);
        cg_buf_spaces(&h->out, width - strlen(h->run[i].key) + 1);
        cg_buf_puts(&h->out, "= ");
        cg_buf_puts(&h->out, h->run[i].value);
        cg_buf_putc(&h->out, '\n');
        free(h->run[i].key);
        free(h->run[i].value);
    }
    h->nrun = 0;
}

static void add_attr(cg_hcl *h, const char *key, char *value)
{
    if (h->nrun == h->caprun) {
        h->caprun = h->caprun ? h->caprun * 2 : 16;
        h->run = cg_xrealloc(h->run, h->caprun * sizeof *h->run);
    }
    h->run[h->nrun++] = (cg_hcl_attr_line){ cg_xstrdup(key), value };
}

void cg_hcl_attr(cg_hcl *h, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *value = cg_xvasprintf(fmt, ap);
    va_end(ap);
    add_attr(h, key, value);
}

void cg_hcl_attr_str(cg_hcl *h, const char *key, const char *value)
{
    add_attr(h, key, cg_hcl_quote(value));
}

static void vline(cg_hcl *h, const char *fmt, va_list ap)
{
    flush_run(h);
    cg_buf_spaces(&h->out, (size_t)h->indent * 2);
    cg_buf_vprintf(&h->out, fmt, ap);
    cg_buf_putc(&h->out, '\n');
}

void cg_hcl_open(cg_hcl *h, const char *fmt, ...)
{
    flush_run(h);
    cg_buf_spaces(&h->out, (size_t)h->indent * 2);
    va_list ap;
    va_start(ap, fmt);
    cg_buf_vprintf(&h->out, fmt, ap);
    va_end(ap);
    cg_buf_puts(&h->out, " {\n");
    h->indent++;
}

void cg_hcl_open_line(cg_hcl *h, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline(h, fmt, ap);
    va_end(ap);
    h->indent++;
}

void cg_hcl_close(cg_hcl *h, const char *closer)
{
    flush_run(h);
    if (h->indent > 0) h->indent--;
    cg_buf_spaces(&h->out, (size_t)h->indent * 2);
    cg_buf_puts(&h->out, closer);
    cg_buf_putc(&h->out, '\n');
}

void cg_hcl_line(cg_hcl *h, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline(h, fmt, ap);
    va_end(ap);
}

void cg_hcl_comment(cg_hcl *h, const char *text)
{
    /* One "# " line per line of text; empty lines become a bare "#". */
    flush_run(h);
    const char *p = text;
    for (;;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        cg_buf_spaces(&h->out, (size_t)h->indent * 2);
        cg_buf_put(&h->out, n ? "# " : "#", n ? 2 : 1);
        cg_buf_put(&h->out, p, n);
        cg_buf_putc(&h->out, '\n');
        if (!nl || !nl[1]) break;
        p = nl + 1;
    }
}

void cg_hcl_blank(cg_hcl *h)
{
    flush_run(h);
    cg_buf_putc(&h->out, '\n');
}

void cg_hcl_end(cg_hcl *h)
{
    cg_hcl_close(h, "}");
    cg_hcl_blank(h);
}

void cg_hcl_block1(cg_hcl *h, const char *header, const char *key, const char *value)
{
    cg_hcl_open(h, "%s", header);
    cg_hcl_attr(h, key, "%s", value);
    cg_hcl_close(h, "}");
}

void cg_hcl_empty_block(cg_hcl *h, const char *header)
{
    flush_run(h);
    cg_buf_spaces(&h->out, (size_t)h->indent * 2);
    cg_buf_puts(&h->out, header);
    cg_buf_puts(&h->out, " {}\n");
}

char *cg_hcl_finish(cg_hcl *h)
{
    flush_run(h);
    free(h->run);
    h->run = NULL;
    h->nrun = h->caprun = 0;
    h->indent = 0;
    return cg_buf_steal(&h->out);
}

char *cg_hcl_quote(const char *s)
{
    cg_buf b = {0};
    cg_buf_putc(&b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': cg_buf_puts(&b, "\\\""); break;
        case '\\': cg_buf_puts(&b, "\\\\"); break;
        case '\n': cg_buf_puts(&b, "\\n"); break;
        case '\r': cg_buf_puts(&b, "\\r"); break;
        case '\t': cg_buf_puts(&b, "\\t"); break;
        case '$':
        case '%':
            /* "${" and "%{" open template sequences; doubling the sigil
             * makes them literal. */
            cg_buf_putc(&b, (char)*p);
            if (p[1] == '{') cg_buf_putc(&b, (char)*p);
            break;
        default:
            if (*p < 0x20 || *p == 0x7f) cg_buf_printf(&b, "\\u%04x", *p);
            else cg_buf_putc(&b, (char)*p);
        }
    }
    cg_buf_putc(&b, '"');
    return cg_buf_steal(&b);
}

char *cg_hcl_key(const char *s)
{
    bool ident = (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_';
    for (const char *p = s; *p && ident; p++)
        ident = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                *p == '_' || *p == '-';
    /* Keywords would be read as literals, not names. */
    if (ident && (!strcmp(s, "true") || !strcmp(s, "false") || !strcmp(s, "null") ||
                  !strcmp(s, "for") || !strcmp(s, "in") || !strcmp(s, "if")))
        ident = false;
    return ident ? cg_xstrdup(s) : cg_hcl_quote(s);
}
