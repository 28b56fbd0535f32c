/*
 * tests/fuzz/fuzz_doc.c — libFuzzer target for the documents the provider
 * reads from outside besides cty values: the `tenants_json` document a
 * user writes, the versions cellrouter_tenants keeps in Terraform's private
 * state, and what Cloudflare answers about cells (the serving-state
 * document and a definition's metadata).
 *
 * The first input byte picks the parser (its value modulo 4):
 *
 *   0  cr_tdoc_parse. Returns -1 exactly when there is an error
 *      diagnostic, and then the document is empty. A document parsed
 *      must be sorted and unique, and round-trip: written back with the
 *      store's document writer (cr_doc_writer, in each entry's style) and
 *      parsed again it is cr_tdoc_same, and writing that gives the same
 *      bytes.
 *   1  cr_tversions_decode. -1 leaves no versions. Versions decoded,
 *      encoded (cr_tversions_encode) and decoded again are the same ids,
 *      versions and stamps, and every id is found.
 *   2  cfkv_cells_decode (store/cfkv.h): the rest is
 *      `doc [NUL metadata [NUL value]]`: the serving-state document (empty:
 *      the key is absent), a definition's metadata as JSON (any value) and
 *      its value. The key is `_cellrouter.cell.<its cell_id>` when the
 *      metadata names one. An error comes with a message; a cell decoded
 *      passes the store's cell checks.
 *   3  cfkv_decode (store/cfkv.h): a tenant's pair in Workers KV, the rest
 *      being `metadata [NUL value]` (key "acme"). An entry decoded passes
 *      the store's entry checks and round-trips: its metadata
 *      (cfkv_entry_metadata) and endpoint decode as the same entry.
 *
 * Beyond these, "no crash, no leak, no hang". Build and run with
 * `tests/fuzz/run.sh doc [seconds]` (clang); the same file replays a corpus
 * without libFuzzer when built with -DCR_FUZZ_MAIN (fuzz.mk).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resource/tenants_doc.h"
#include "store/cfkv.h"

static void check(int ok)
{
    if (!ok)
        abort();
}

/* The document written back with the store's writer (malloc'd). */
static char *write_doc(const cr_tdoc *doc, size_t *len)
{
    cr_doc_writer *w = cr_doc_writer_new();
    check(w != NULL);
    for (size_t i = 0; i < doc->len; i++)
        check(cr_doc_writer_add(w, &doc->items[i], doc->style[i]) == 0);
    char *text = cr_doc_writer_finish(w, len);
    check(text != NULL);
    return text;
}

static void fuzz_tdoc(const uint8_t *d, size_t n)
{
    cr_diags diags = CR_DIAGS_INIT;
    cr_tdoc doc = {0};
    int rc = cr_tdoc_parse((const char *)d, n, "tenants_json", NULL, &doc,
                           &diags);
    check(rc == 0 || rc == -1);
    check((rc == -1) == cr_diags_has_error(&diags));
    cr_diags_free(&diags);
    if (rc != 0) {
        check(doc.len == 0);
        cr_tdoc_free(&doc);
        return;
    }
    for (size_t i = 1; i < doc.len; i++)
        check(strcmp(doc.items[i - 1].tenant_id, doc.items[i].tenant_id) < 0);
    for (size_t i = 0; i < doc.len; i++)
        check(cr_tdoc_find(&doc, doc.items[i].tenant_id) == &doc.items[i]);

    size_t len, len2;
    char *text = write_doc(&doc, &len);
    cr_tdoc again = {0};
    cr_path at = {0};
    check(cr_path_push_attr(&at, "tenants_json") == 0);
    rc = cr_tdoc_parse(text, len, "tenants_json", &at, &again, &diags);
    if (rc != 0 || diags.len) {
        for (size_t i = 0; i < diags.len; i++)
            fprintf(stderr, "round trip: %s: %s\n", diags.items[i].summary,
                    diags.items[i].detail ? diags.items[i].detail : "");
        fprintf(stderr, "written back: %.*s\n", (int)len, text);
    }
    check(rc == 0 && diags.len == 0);
    check(cr_tdoc_same(&doc, &again) && cr_tdoc_same(&again, &doc));
    char *text2 = write_doc(&again, &len2);
    check(len == len2 && memcmp(text, text2, len) == 0);
    free(text2);
    free(text);
    cr_path_free(&at);
    cr_tdoc_free(&again);
    cr_tdoc_free(&doc);
}

static void fuzz_tversions(const uint8_t *d, size_t n)
{
    cr_tversions v;
    int rc = cr_tversions_decode(d, n, &v);
    check(rc == 0 || rc == -1);
    if (rc != 0) {
        check(v.len == 0 && v.mem == NULL);
        return;
    }
    for (size_t i = 0; i < v.len; i++) {
        const char *at;
        check(cr_tversions_find(&v, v.ids[i], &at) == v.version[i]);
        check(at == v.at[i]);
    }
    unsigned char *out, *out2;
    size_t len, len2;
    check(cr_tversions_encode(v.len, (const char *const *)v.ids, v.version,
                              (const char *const *)v.at, &out, &len) == 0);
    cr_tversions w;
    check(cr_tversions_decode(out, len, &w) == 0);
    check(w.len == v.len);
    for (size_t i = 0; i < v.len; i++) {
        check(strcmp(v.ids[i], w.ids[i]) == 0);
        check(v.version[i] == w.version[i]);
        check(!v.at[i] == !w.at[i]);
        check(!v.at[i] || strcmp(v.at[i], w.at[i]) == 0);
    }
    check(cr_tversions_encode(w.len, (const char *const *)w.ids, w.version,
                              (const char *const *)w.at, &out2, &len2) == 0);
    check(len == len2 && memcmp(out, out2, len) == 0);
    free(out2);
    free(out);
    cr_tversions_free(&w);
    cr_tversions_free(&v);
}

/* Splits d at its first NUL: *rest (NULL when none) and its length. */
static size_t split(const uint8_t *d, size_t n, const char **rest,
                    size_t *rest_len)
{
    const uint8_t *z = memchr(d, 0, n);
    *rest = z ? (const char *)z + 1 : NULL;
    *rest_len = z ? n - (size_t)(z - d) - 1 : 0;
    return z ? (size_t)(z - d) : n;
}

/* A store as far as decoding needs one (messages name the namespace). */
static void store_init(cfkv *s)
{
    memset(s, 0, sizeof *s);
    s->namespace_id = (char *)"0f2ac74b498b48028cb68387c421e279";
}

static json_t *load_md(const char *text, size_t len)
{
    json_error_t jerr;
    json_t *md = json_loadb(text, len, JSON_DECODE_ANY, &jerr);
    return md ? md : json_null();   /* a listing's key without metadata */
}

static void fuzz_cells(const uint8_t *d, size_t n)
{
    const char *md_text, *value = NULL;
    size_t mdlen, vlen = 0, doclen = split(d, n, &md_text, &mdlen);
    json_t *md = NULL;
    if (md_text) {
        const char *v;
        mdlen = split((const uint8_t *)md_text, mdlen, &v, &vlen);
        value = v;
        md = load_md(md_text, mdlen);
    }
    char key[CFKV_KEYBUF] = CFKV_RESERVED_PREFIX "cell.c1";
    const char *id = json_string_value(json_object_get(md, "cell_id"));
    if (id && strlen(id) < CFKV_KEY_MAX - 32)
        snprintf(key, sizeof key, "%scell.%s", CFKV_RESERVED_PREFIX, id);

    cfkv s;
    store_init(&s);
    cr_cell c;
    memset(&c, 0, sizeof c);
    cr_store_err err;
    memset(&err, 0, sizeof err);
    cr_store_rc rc = cfkv_cells_decode(&s, doclen ? (const char *)d : NULL, doclen, key,
                                       md, value, vlen, &c, &err);
    if (rc != CR_STORE_OK) {
        check(rc == CR_STORE_INVALID && err.rc == rc && err.msg[0]);
        check(!c.cell_id && !c.endpoint && !c.serving.reason);
    } else if (md) {
        const char *field;
        check(c.cell_id && strcmp(key + strlen(CFKV_RESERVED_PREFIX "cell."),
                                  c.cell_id) == 0);
        check(cr_cell_check(&c, &field) == NULL);
        check(!value || strlen(c.endpoint) == vlen);
    }
    cr_cell_clear(&c);
    json_decref(md);
}

static void fuzz_tenant_pair(const uint8_t *d, size_t n)
{
    const char *value;
    size_t vlen, mdlen = split(d, n, &value, &vlen);
    json_t *md = load_md((const char *)d, mdlen);
    cfkv s;
    store_init(&s);
    cr_entry e, e2;
    bool need_value, need2;
    cr_store_err err;
    memset(&err, 0, sizeof err);
    cr_store_rc rc = cfkv_decode(&s, "acme", md, value, vlen, &e, &need_value,
                                 &err);
    json_decref(md);
    if (rc != CR_STORE_OK) {
        check(rc == CR_STORE_INVALID && err.rc == rc && err.msg[0]);
        check(!e.tenant_id && !e.cell_id && !e.endpoint);
        return;
    }
    if (need_value) {
        check(!value && !e.tenant_id);
        return;
    }
    const char *field;
    check(strcmp(e.tenant_id, "acme") == 0);
    check(cr_entry_check(&e, &field) == NULL);
    json_t *md2 = cfkv_entry_metadata(&e);
    check(md2 != NULL);
    rc = cfkv_decode(&s, "acme", md2, e.endpoint, strlen(e.endpoint), &e2,
                     &need2, &err);
    if (rc != CR_STORE_OK)
        fprintf(stderr, "round trip: %s\n", err.msg);
    check(rc == CR_STORE_OK && !need2);
    check(cr_tdoc_same_entry(&e, &e2) && e.version == e2.version &&
          strcmp(e.updated_at, e2.updated_at) == 0);
    json_decref(md2);
    cr_entry_clear(&e2);
    cr_entry_clear(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    switch (data[0] % 4) {
    case 0: fuzz_tdoc(data + 1, size - 1); break;
    case 1: fuzz_tversions(data + 1, size - 1); break;
    case 2: fuzz_cells(data + 1, size - 1); break;
    default: fuzz_tenant_pair(data + 1, size - 1); break;
    }
    return 0;
}

#ifdef CR_FUZZ_MAIN
/* Corpus replay without libFuzzer: each argument is one input file. */
int main(int argc, char **argv)
{
    static uint8_t buf[1 << 20];
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            return 1;
        }
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, n);
    }
    return 0;
}
#endif
