/*
 * gen/hcl.c — HCL literals for the spec's values, and the alignment pass
 * over rendered .tf files (see hcl.h for hclwrite's rules it follows).
 */
#include "hcl.h"

#include <stdlib.h>
#include <string.h>

static void escape_into(cg_buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': cg_buf_puts(b, "\\\""); break;
        case '\\': cg_buf_puts(b, "\\\\"); break;
        case '\n': cg_buf_puts(b, "\\n"); break;
        case '\r': cg_buf_puts(b, "\\r"); break;
        case '\t': cg_buf_puts(b, "\\t"); break;
        case '$':
        case '%':
            /* "${" and "%{" open template sequences; doubling the sigil
             * makes them literal. */
            cg_buf_putc(b, (char)*p);
            if (p[1] == '{') cg_buf_putc(b, (char)*p);
            break;
        default:
            if (*p < 0x20 || *p == 0x7f) cg_buf_printf(b, "\\u%04x", *p);
            else cg_buf_putc(b, (char)*p);
        }
    }
}

char *cg_hcl_escape(const char *s)
{
    cg_buf b = {0};
    escape_into(&b, s);
    return cg_buf_steal(&b);
}

char *cg_hcl_quote(const char *s)
{
    cg_buf b = {0};
    cg_buf_putc(&b, '"');
    escape_into(&b, s);
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

char *cg_hcl_object(const cg_kvlist *kv, bool quote_keys)
{
    if (!kv->len) return cg_xstrdup("{}");
    cg_buf b = {0};
    cg_buf_puts(&b, "{\n");
    for (size_t i = 0; i < kv->len; i++) {
        char *k = quote_keys ? cg_hcl_quote(kv->items[i].key) : cg_hcl_key(kv->items[i].key);
        char *v = cg_hcl_quote(kv->items[i].value);
        cg_buf_printf(&b, "  %s = %s\n", k, v);
        free(k);
        free(v);
    }
    cg_buf_puts(&b, "}");
    return cg_buf_steal(&b);
}

/* ---- alignment ------------------------------------------------------------ */

/* One line as hclwrite sees it: from its start to the newline that is not
 * inside a heredoc or a block comment. */
typedef struct hline {
    size_t start, end;      /* end: after the newline, or the text's end */
    size_t key_end, eq;     /* when has_eq: end of the last token before the
                             * first `=`, and that `=` */
    bool has_eq, attribute;
} hline;

static bool ident_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c >= 0x80;
}

/* Past the quoted string starting at s[i] == '"': escapes are skipped, and
 * ${ } and %{ } sequences may hold strings of their own. Stops before a
 * newline when the string is not closed on its line. */
static size_t skip_string(const char *s, size_t n, size_t i)
{
    int depth = 0;      /* open template sequences */
    bool in_str = true; /* inside string text (not an expression) */
    int str_depth[64];  /* the sequence depth each open string sits at */
    int nstr = 0;
    str_depth[nstr++] = 0;
    i++;
    while (i < n && s[i] != '\n') {
        char c = s[i];
        if (in_str) {
            if (c == '\\' && i + 1 < n && s[i + 1] != '\n') { i += 2; continue; }
            if ((c == '$' || c == '%') && i + 1 < n && s[i + 1] == c && i + 2 < n && s[i + 2] == '{') {
                i += 3; /* $${ and %%{ are literal */
                continue;
            }
            if ((c == '$' || c == '%') && i + 1 < n && s[i + 1] == '{') {
                depth++;
                in_str = false;
                i += 2;
                continue;
            }
            if (c == '"') {
                nstr--;
                i++;
                if (nstr == 0) return i;
                in_str = false;     /* back in the enclosing sequence */
                continue;
            }
            i++;
        } else {
            if (c == '"' && nstr < (int)(sizeof str_depth / sizeof str_depth[0])) {
                str_depth[nstr++] = depth;
                in_str = true;
            } else if (c == '{') {
                depth++;
            } else if (c == '}') {
                depth--;
                /* closing the sequence the innermost string opened */
                if (depth == str_depth[nstr - 1]) in_str = true;
            }
            i++;
        }
    }
    return i;
}

/* Scans one hclwrite line from s[i]; fills l and returns its end. */
static size_t scan_line(const char *s, size_t n, size_t i, hline *l)
{
    *l = (hline){ .start = i };
    size_t ntok = 0, last_end = i;
    int net = 0; /* brackets opened after the first `=` */
    while (i < n && s[i] != '\n') {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '\t' || c == '\r') { i++; continue; }
        if (c == '#' || (c == '/' && i + 1 < n && s[i + 1] == '/')) {
            while (i < n && s[i] != '\n') i++;
            break;
        }
        if (c == '/' && i + 1 < n && s[i + 1] == '*') {
            const char *close = i + 2 < n ? memmem(s + i + 2, n - i - 2, "*/", 2) : NULL;
            i = close ? (size_t)(close - s) + 2 : n;
        } else if (c == '"') {
            i = skip_string(s, n, i);
        } else if (c == '<' && i + 2 < n && s[i + 1] == '<' &&
                   (s[i + 2] == '-' || ident_byte((unsigned char)s[i + 2]))) {
            /* A heredoc: its body, up to the line holding only the marker,
             * is part of this line. */
            size_t m = i + 2 + (s[i + 2] == '-');
            size_t ms = m;
            while (m < n && ident_byte((unsigned char)s[m])) m++;
            size_t mlen = m - ms;
            i = m;
            while (i < n && s[i] != '\n') i++;
            while (i < n) {
                size_t ls = ++i;
                while (i < n && s[i] != '\n') i++;
                size_t a = ls, b = i;
                while (a < b && (s[a] == ' ' || s[a] == '\t')) a++;
                while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r')) b--;
                if (b - a == mlen && !memcmp(s + a, s + ms, mlen)) break;
            }
        } else if (c == '(' || c == '[' || c == '{') {
            if (l->has_eq) net++;
            i++;
        } else if (c == ')' || c == ']' || c == '}') {
            if (l->has_eq) net--;
            i++;
        } else if (c == '=') {
            if (i + 1 < n && (s[i + 1] == '=' || s[i + 1] == '>')) {
                i += 2;
            } else {
                if (!l->has_eq && ntok > 0) {
                    l->has_eq = true;
                    l->eq = i;
                    l->key_end = last_end;
                }
                i++;
            }
        } else if ((c == '!' || c == '<' || c == '>') && i + 1 < n && s[i + 1] == '=') {
            i += 2;
        } else if (ident_byte(c)) {
            while (i < n && ident_byte((unsigned char)s[i])) i++;
        } else {
            i++;
        }
        ntok++;
        last_end = i;
    }
    l->attribute = l->has_eq && net == 0;
    l->end = i < n ? i + 1 : i;
    return l->end;
}

/* Columns from the line's start to the end of its key: UTF-8 characters. */
static size_t columns(const char *s, size_t from, size_t to)
{
    size_t c = 0;
    for (size_t i = from; i < to; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80) c++;
    return c;
}

static void emit_line(const char *s, const hline *l, size_t eq_col, cg_buf *out)
{
    if (!l->has_eq) {
        cg_buf_put(out, s + l->start, l->end - l->start);
        return;
    }
    cg_buf_put(out, s + l->start, l->key_end - l->start);
    size_t key = columns(s, l->start, l->key_end);
    cg_buf_spaces(out, l->attribute && eq_col > key ? eq_col - key : 1);
    cg_buf_put(out, s + l->eq, l->end - l->eq);
}

void cg_hcl_align(const char *text, size_t len, cg_buf *out)
{
    hline *lines = NULL;
    size_t nlines = 0, cap = 0;
    for (size_t i = 0; i < len;) {
        if (nlines == cap) {
            cap = cap ? cap * 2 : 256;
            lines = cg_xrealloc(lines, cap * sizeof *lines);
        }
        i = scan_line(text, len, i, &lines[nlines++]);
    }
    for (size_t i = 0; i < nlines;) {
        if (!lines[i].attribute) {
            emit_line(text, &lines[i++], 0, out);
            continue;
        }
        size_t j = i, width = 0;
        for (; j < nlines && lines[j].attribute; j++) {
            size_t w = columns(text, lines[j].start, lines[j].key_end);
            if (w > width) width = w;
        }
        for (; i < j; i++) emit_line(text, &lines[i], width + 1, out);
    }
    free(lines);
}
