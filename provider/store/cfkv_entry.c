/*
 * store/cfkv_entry.c — what a Workers KV pair of the routing map means.
 *
 * An entry. Key = tenant id; value = the endpoint URL, which the edge
 * router reads with one getWithMetadata (it needs nothing else, and a
 * router that only reads values keeps working); metadata = the whole entry
 * as JSON, the endpoint included:
 *
 *   {"cell_id":"aws-eu-1","endpoint":"https://...","labels":{"tier":"gold"},
 *    "schema":2,"standby_cell_id":"azure-eu-1","standby_endpoint":"https://...",
 *    "updated_at":"2026-11-26T06:00:00.000000Z","version":3}
 *
 * The endpoint is in the metadata because a key listing returns metadata
 * and not values: with it there, one listing page (1,000 keys) answers the
 * refresh of 1,000 tenants, where reading values costs a request per 100
 * keys at best. Schema 1, the first format, had no endpoint in the
 * metadata; such an entry is read with its value (a bulk read), and the
 * next write of the tenant rewrites it as schema 2.
 *
 * A tombstone. Deleting a tenant leaves `<id>~retired` (value "retired",
 * metadata {"tenant_id":id,"version":N}) recording its last version, so a
 * re-created tenant continues after it and versions never repeat. The
 * first format kept tombstones under "_cellrouter-retired." + SHA-256 of
 * the id; those are still read (and removed once a new tombstone replaces
 * them), and remain the key for ids too long for the suffix.
 *
 * The metadata limit. Cloudflare allows 1,024 bytes of metadata per key
 * and measures "the serialized JSON representation of the metadata object"
 * (developers.cloudflare.com/kv/api/write-key-value-pairs/); its runtime
 * serialises with JSON.stringify and checks the UTF-8 byte length (so does
 * miniflare, Cloudflare's local KV, src/workers/kv/validator.worker.ts).
 * jansson's compact output is byte for byte what JSON.stringify makes of
 * everything an entry may hold (no control characters, no lone
 * surrogates: cr_entry_check), so its length is Cloudflare's measure. How
 * the REST API measures metadata sent in a bulk write is not published: an
 * encoder that escapes '<', '>', '&', U+2028 and U+2029 (some do) would
 * make the text longer, so those count at their escaped length, and a
 * further CFKV_METADATA_MARGIN bytes stay free for what is not published.
 */
#include "store/cfkv.h"

#include <openssl/sha.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- keys ----------------------------------------------------------------- */

#define SUFFIX_LEN (sizeof CFKV_TOMB_SUFFIX - 1)

void cfkv_legacy_key(const char *tenant_id, char out[CFKV_KEYBUF])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)tenant_id, strlen(tenant_id), md);
    size_t o = (size_t)snprintf(out, CFKV_KEYBUF, "%s", CFKV_LEGACY_PREFIX);
    for (size_t i = 0; i < sizeof md; i++)
        o += (size_t)snprintf(out + o, CFKV_KEYBUF - o, "%02x", md[i]);
}

void cfkv_tomb_key(const char *tenant_id, char out[CFKV_KEYBUF])
{
    size_t n = strlen(tenant_id);
    if (n + SUFFIX_LEN > CFKV_KEY_MAX) {
        cfkv_legacy_key(tenant_id, out);
        return;
    }
    memcpy(out, tenant_id, n);
    memcpy(out + n, CFKV_TOMB_SUFFIX, SUFFIX_LEN + 1);
}

/* The first version wrote single keys on the URL, percent-encoding every
 * byte but [A-Za-z0-9._~-]; of a tenant id's bytes that is ':' and '@'. A
 * namespace with supports_url_encoding = false stores such a key as sent
 * ("acme%3Aeu"), where the router never looks. */
bool cfkv_stray_key(const char *tenant_id, char out[CFKV_KEYBUF])
{
    size_t o = 0;
    bool any = false;
    for (const char *p = tenant_id; *p; p++) {
        if (o + 4 > CFKV_KEYBUF)
            return false;           /* too long to have been written */
        if (*p == ':' || *p == '@') {
            o += (size_t)snprintf(out + o, CFKV_KEYBUF - o, "%%%02X",
                                  (unsigned char)*p);
            any = true;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
    return any;
}

/* Decodes %XX sequences; false when the key has a bad one. */
static bool percent_decode(const char *key, char out[CFKV_KEYBUF])
{
    size_t o = 0;
    for (const char *p = key; *p; p++) {
        if (o + 1 >= CFKV_KEYBUF)
            return false;
        if (*p != '%') {
            out[o++] = *p;
            continue;
        }
        unsigned v;
        if (sscanf(p + 1, "%2x", &v) != 1 || !p[1] || !p[2])
            return false;
        out[o++] = (char)v;
        p += 2;
    }
    out[o] = '\0';
    return true;
}

cfkv_key_kind cfkv_key_kind_of(const cfkv *s, const char *key)
{
    size_t n = strlen(key);
    if (strncmp(key, CFKV_RESERVED_PREFIX, sizeof CFKV_RESERVED_PREFIX - 1) == 0)
        return CFKV_KEY_RESERVED;
    if (strncmp(key, CFKV_LEGACY_PREFIX, sizeof CFKV_LEGACY_PREFIX - 1) == 0)
        return CFKV_KEY_LEGACY_TOMB;
    if (n > SUFFIX_LEN && strcmp(key + n - SUFFIX_LEN, CFKV_TOMB_SUFFIX) == 0)
        return CFKV_KEY_TOMB;
    if (!cr_tenant_id_check(key))
        return CFKV_KEY_TENANT;
    char dec[CFKV_KEYBUF], back[CFKV_KEYBUF];
    if (s->url_decoding != 1 && strchr(key, '%') &&
        percent_decode(key, dec) && !cr_tenant_id_check(dec) &&
        cfkv_stray_key(dec, back) && strcmp(back, key) == 0)
        return CFKV_KEY_STRAY;
    return CFKV_KEY_OTHER;
}

/* ---- metadata ------------------------------------------------------------- */

static int set_str(json_t *o, const char *k, const char *v)
{
    return v ? json_object_set_new(o, k, json_string(v)) : 0;
}

json_t *cfkv_entry_metadata(const cr_entry *e)
{
    json_t *o = json_object();
    bool nomem = false;
    json_t *labels = cr_store_labels_to_json(e, &nomem);
    int bad = !o || nomem ||
              set_str(o, "cell_id", e->cell_id) ||
              set_str(o, "endpoint", e->endpoint) ||
              set_str(o, "standby_cell_id", e->standby_cell_id) ||
              set_str(o, "standby_endpoint", e->standby_endpoint) ||
              set_str(o, "updated_at", e->updated_at) ||
              json_object_set_new(o, "version", json_integer(e->version)) ||
              json_object_set_new(o, "schema", json_integer(CFKV_SCHEMA)) ||
              (labels && json_object_set(o, "labels", labels));
    json_decref(labels);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *cfkv_tomb_metadata(const char *tenant_id, int64_t version)
{
    return json_pack("{s:I,s:s}", "version", (json_int_t)version,
                     "tenant_id", tenant_id);
}

int64_t cfkv_md_version(json_t *md)
{
    json_t *v = json_object_get(md, "version");
    return json_is_integer(v) && json_integer_value(v) > 0
               ? json_integer_value(v) : 0;
}

/* Bytes an encoder that escapes them would add: '<', '>', '&' become
 * \u003c (5 more), U+2028/U+2029 (3 bytes) become \u2028 (3 more). */
static size_t escape_growth(const char *t)
{
    size_t g = 0;
    for (const unsigned char *p = (const unsigned char *)t; *p; p++) {
        if (*p == '<' || *p == '>' || *p == '&')
            g += 5;
        else if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9))
            g += 3;
    }
    return g;
}

size_t cfkv_metadata_size(json_t *md)
{
    char *t = json_dumps(md, JSON_COMPACT | JSON_SORT_KEYS);
    size_t n = t ? strlen(t) : SIZE_MAX;
    free(t);
    return n;
}

size_t cfkv_md_measure(json_t *md, size_t *plain)
{
    char *t = md ? json_dumps(md, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (!t) {
        *plain = SIZE_MAX;
        return SIZE_MAX;
    }
    *plain = strlen(t);
    size_t grown = *plain + escape_growth(t);
    free(t);
    return grown;
}

const char *cfkv_md_fits(json_t *md, const char *what, const char *holds,
                         const char *advice, char *buf, size_t cap)
{
    size_t n, grown = cfkv_md_measure(md, &n);
    if (grown == SIZE_MAX) {
        snprintf(buf, cap, "out of memory measuring the %s", what);
        return buf;
    }
    const size_t room = CR_CFKV_METADATA_MAX - CFKV_METADATA_MARGIN;
    if (grown <= room)
        return NULL;
    snprintf(buf, cap,
             "The %s's metadata would take up to %zu bytes in Workers KV%s; "
             "Cloudflare allows at most %d, and cellrouter keeps %d of them "
             "free, so one may use %zu. The metadata holds %s as JSON. %s.",
             what, grown,
             grown > n ? " (counting '<', '>' and '&' at their escaped "
                         "length)" : "",
             CR_CFKV_METADATA_MAX, CFKV_METADATA_MARGIN, room, holds, advice);
    return buf;
}

const char *cfkv_fits(const cr_entry *e, char *buf, size_t cap)
{
    cr_entry w = *e;
    w.version = INT64_MAX;                              /* 19 digits */
    w.updated_at = (char *)"0000-00-00T00:00:00.000000Z";
    json_t *md = cfkv_entry_metadata(&w);
    const char *msg = cfkv_md_fits(md, "entry", "cell_id, endpoint, the "
                                   "standby cell and endpoint, labels, "
                                   "version and updated_at", "Use fewer or "
                                   "shorter labels, or shorter endpoints",
                                   buf, cap);
    json_decref(md);
    return msg;
}

/* ---- decoding ------------------------------------------------------------- */

const char *cfkv_md_str(json_t *md, const char *k, bool optional,
                        char **out)
{
    json_t *v = json_object_get(md, k);
    *out = NULL;
    if (!v || json_is_null(v))
        return optional ? NULL : "is missing";
    if (!json_is_string(v) ||
        strlen(json_string_value(v)) != json_string_length(v))
        return "is not a string";
    if (!(*out = strdup(json_string_value(v))))
        return "could not be copied";
    return NULL;
}

cr_store_rc cfkv_decode(cfkv *s, const char *key, json_t *md,
                        const char *value, size_t vlen, cr_entry *e,
                        bool *need_value, cr_store_err *err)
{
    const char *bad = NULL, *field = NULL;
    char where[160], what[300];
    bool nomem = false;
    memset(e, 0, sizeof *e);
    *need_value = false;
    if (!json_is_object(md)) {
        field = "metadata";
        bad = md && !json_is_null(md) ? "is not a JSON object"
              : "is missing (not written by cellrouter)";
        goto invalid;
    }
    json_t *sv = json_object_get(md, "schema");
    json_int_t schema = json_is_integer(sv) ? json_integer_value(sv) : 0;
    if (schema != 1 && schema != CFKV_SCHEMA) {
        field = "metadata schema";
        bad = json_is_integer(sv) ? "is a version this cellrouter does not "
              "know (upgrade cellrouter)" : "is missing (not written by "
              "cellrouter)";
        goto invalid;
    }
    if (schema == 1 && !value) {
        *need_value = true;
        return CR_STORE_OK;
    }
    if (!(e->tenant_id = strdup(key)))
        goto nomem;
    if (schema == 1) {
        field = "value (endpoint)";
        if (memchr(value, '\0', vlen) || vlen > CR_ENDPOINT_MAX) {
            bad = vlen > CR_ENDPOINT_MAX ? "is too long"
                                         : "contains a NUL byte";
            goto invalid;
        }
        if (!(e->endpoint = strndup(value, vlen)))
            goto nomem;
    } else {
        field = "endpoint";
        if ((bad = cfkv_md_str(md, "endpoint", false, &e->endpoint)))
            goto invalid;
        /* The router routes by the value: a value that says otherwise was
         * written by something other than cellrouter. */
        if (value && (vlen != strlen(e->endpoint) ||
                      memcmp(value, e->endpoint, vlen) != 0)) {
            field = "value";
            bad = "differs from the endpoint in its metadata (the router "
                  "uses the value)";
            goto invalid;
        }
    }
    static const struct { const char *k; bool opt; size_t off; } strs[] = {
        {"cell_id", false, offsetof(cr_entry, cell_id)},
        {"standby_cell_id", true, offsetof(cr_entry, standby_cell_id)},
        {"standby_endpoint", true, offsetof(cr_entry, standby_endpoint)},
        {"updated_at", false, offsetof(cr_entry, updated_at)},
    };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        field = strs[i].k;
        if ((bad = cfkv_md_str(md, strs[i].k, strs[i].opt,
                          (char **)((char *)e + strs[i].off))))
            goto invalid;
    }
    if (!cr_store_time_ok(e->updated_at)) {
        field = "updated_at";
        bad = "is not an RFC 3339 time";
        goto invalid;
    }
    json_t *ver = json_object_get(md, "version");
    field = "version";
    if (!json_is_integer(ver) || json_integer_value(ver) < 1) {
        bad = "is not a positive integer";
        goto invalid;
    }
    e->version = json_integer_value(ver);
    json_t *labels = json_object_get(md, "labels");
    if (labels && !json_is_null(labels)) {
        field = NULL;
        if ((bad = cr_store_labels_from_json(labels, e, &nomem))) {
            if (nomem)
                goto nomem;
            goto invalid;
        }
    }
    const char *f2 = NULL;
    if ((bad = cr_entry_check(e, &f2))) {
        field = NULL;
        goto invalid;
    }
    return CR_STORE_OK;
invalid:
    cr_entry_clear(e);
    snprintf(where, sizeof where, "Workers KV namespace %s", s->namespace_id);
    snprintf(what, sizeof what, "%s%s%s", field ? field : "", field ? " " : "",
             bad);
    return cr_store_err_damaged(err, where, key, what);
nomem:
    cr_entry_clear(e);
    return cr_store_err_nomem(err);
}
