/*
 * store/document.c — the tenants document's writer (store.h, "the tenants
 * document"): routing-map entries as one JSON object keyed by tenant id.
 *
 * One writer for every place that prints the document (cellctl export,
 * the data source cellrouter_routing_map, cellrouter_tenants' state), so
 * that they cannot drift apart and `cellctl export > tenants.json` stays a
 * valid configuration. Reading the document is the resource layer's
 * (resource/tenants_doc.c): its errors are Terraform diagnostics.
 *
 * Entries go out one a line, fields in a fixed order. Strings are written
 * as they are, escaping only what JSON requires (quote, backslash, control
 * characters): entries hold strict UTF-8 (cr_entry_check), and the text
 * is for people as much as for parsers.
 *
 * May include: store/store.h, common/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/tbuf.h"
#include "store/store.h"

struct cr_doc_writer {
    cr_tbuf out;
    size_t n;
};

cr_doc_writer *cr_doc_writer_new(void)
{
    return calloc(1, sizeof(cr_doc_writer));
}

void cr_doc_writer_free(cr_doc_writer *w)
{
    if (!w)
        return;
    free(w->out.s);
    free(w);
}

/* A JSON string: runs of plain bytes at once, escapes where needed. NULL
 * (never in a valid entry) is null. */
static void put_str(cr_tbuf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const char *run = s;

    if (!s) {
        cr_tbuf_puts(b, "null");
        return;
    }
    cr_tbuf_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        cr_tbuf_put(b, run, (size_t)(s - run));
        run = s + 1;
        char esc[7] = { '\\', (char)c, 0 };
        switch (c) {
        case '"': case '\\': break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            snprintf(esc, sizeof esc, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
            break;
        }
        cr_tbuf_puts(b, esc);
    }
    cr_tbuf_put(b, run, (size_t)(s - run));
    cr_tbuf_put(b, "\"", 1);
}

/* `, "name": "value"`, or `, "name": null` when there is no value and the
 * style asks for it, or nothing. */
static void put_field(cr_tbuf *b, const char *name, const char *value,
                      bool null_too)
{
    if (!value && !null_too)
        return;
    cr_tbuf_puts(b, ", \"");
    cr_tbuf_puts(b, name);
    cr_tbuf_puts(b, "\": ");
    if (value)
        put_str(b, value);
    else
        cr_tbuf_puts(b, "null");
}

int cr_doc_writer_add(cr_doc_writer *w, const cr_entry *e, unsigned style)
{
    cr_tbuf *b = &w->out;

    cr_tbuf_puts(b, w->n++ ? ",\n  " : "{\n  ");
    put_str(b, e->tenant_id);
    cr_tbuf_puts(b, ": {\"cell_id\": ");
    put_str(b, e->cell_id);
    put_field(b, "endpoint", e->endpoint, true);
    put_field(b, "standby_cell_id", e->standby_cell_id,
              style & CR_DOC_NULL_STANDBY_CELL);
    put_field(b, "standby_endpoint", e->standby_endpoint,
              style & CR_DOC_NULL_STANDBY_ENDPOINT);

    size_t nuser = 0;
    for (size_t i = 0; i < e->nlabels; i++)
        nuser += strcmp(e->labels[i].key, CR_OWNER_LABEL) != 0;
    if (nuser) {
        cr_tbuf_puts(b, ", \"labels\": {");
        size_t k = 0;
        for (size_t i = 0; i < e->nlabels; i++) {
            if (strcmp(e->labels[i].key, CR_OWNER_LABEL) == 0)
                continue;
            if (k++)
                cr_tbuf_puts(b, ", ");
            put_str(b, e->labels[i].key);
            cr_tbuf_puts(b, ": ");
            put_str(b, e->labels[i].value);
        }
        cr_tbuf_puts(b, "}");
    } else if (style & CR_DOC_EMPTY_LABELS) {
        cr_tbuf_puts(b, ", \"labels\": {}");
    } else if (style & CR_DOC_NULL_LABELS) {
        cr_tbuf_puts(b, ", \"labels\": null");
    }
    cr_tbuf_puts(b, "}");
    return b->failed ? -1 : 0;
}

char *cr_doc_writer_finish(cr_doc_writer *w, size_t *len)
{
    if (!w)
        return NULL;
    cr_tbuf_puts(&w->out, w->n ? "\n}\n" : "{}\n");
    char *s = w->out.failed ? NULL : w->out.s;
    if (!s)
        free(w->out.s);
    else if (len)
        *len = w->out.len;
    free(w);
    return s;
}
