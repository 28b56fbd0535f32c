/*
 * resource/entry_value.c — routing-map entries <-> resource values: the
 * conversions and the validation every entry-shaped object shares (see
 * entry_value.h for who uses them and for the owner tag).
 *
 * User input is never normalised: strings go to the store and come back
 * byte for byte, and `labels` keeps the user's choice between null and an
 * empty map, because Terraform compares results with the configuration
 * exactly. The rules for single values are the routing map's
 * (store/store.c), so the provider and cellctl accept exactly the same
 * entries; this file only decides where each problem points and what an
 * unknown means (never an error: it may turn out either way).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resource/entry_value.h"

const cr_type cr_ev_map_of_string = {
    .kind = CR_TYPE_MAP, .elem = &cr_type_string, .nattrs = 0,
    .attrs = NULL, .owned = false,
};

const char *const cr_ev_user_attrs[CR_EV_NUSER_ATTRS] = {
    "cell_id", "endpoint", "standby_cell_id", "standby_endpoint", "labels",
};

/* ---- entries to values -------------------------------------------------- */

/* Labels made one put at a time: the slow path, for a label list that is
 * not sorted and unique as the store promises (then the last value of a
 * key wins, as it always has). */
static cr_value *labels_by_put(const cr_entry *e)
{
    cr_value *m = cr_value_collection(&cr_ev_map_of_string);
    if (!m)
        return NULL;
    for (size_t i = 0; i < e->nlabels; i++) {
        if (strcmp(e->labels[i].key, CR_OWNER_LABEL) == 0)
            continue;
        cr_value *s = cr_value_string(e->labels[i].value);
        if (!s || cr_value_map_put(m, e->labels[i].key, s) != 0) {
            cr_value_free(m);
            return NULL;
        }
    }
    return m;
}

cr_value *cr_ev_labels(const cr_entry *e, const cr_value *hint)
{
    size_t nuser = 0, keybytes = 0, room = 0;
    for (size_t i = 0; i < e->nlabels; i++) {
        if (strcmp(e->labels[i].key, CR_OWNER_LABEL) == 0)
            continue;
        nuser++;
        keybytes += strlen(e->labels[i].key) + 1;
        room += CR_VALUE_EMBED_SIZE(strlen(e->labels[i].value) + 1);
    }
    bool want_map;
    if (nuser > 0)
        want_map = true;
    else if (hint && !cr_value_is_unknown(hint))
        want_map = !cr_value_is_null(hint);
    else
        want_map = e->has_labels && e->nlabels == nuser;
    if (!want_map)
        return cr_value_null(&cr_ev_map_of_string);

    /* The map, its keys and its strings in one block (a refresh makes one
     * such map per tenant). */
    char *ks, *at;
    void *embed;
    cr_value *m = cr_value_map_block(&cr_ev_map_of_string, nuser, keybytes,
                                     room, &ks, &embed);
    if (!m)
        return NULL;
    at = embed;
    size_t j = 0;
    for (size_t i = 0; i < e->nlabels; i++) {
        const char *k = e->labels[i].key, *val = e->labels[i].value;
        if (strcmp(k, CR_OWNER_LABEL) == 0)
            continue;
        size_t kn = strlen(k) + 1, vn = strlen(val);
        memcpy(ks, k, kn);
        m->u.coll.keys[j] = ks;
        ks += kn;
        m->u.coll.items[j++] = cr_value_embed_string(at, val, vn);
        at += CR_VALUE_EMBED_SIZE(vn + 1);
    }
    const char *dup;
    if (cr_value_map_seal(m, &dup) < 0) {
        cr_value_free(m);
        return dup ? labels_by_put(e) : NULL;
    }
    return m;
}

static bool has(const cr_value *obj, const char *name)
{
    return cr_type_attr_index(obj->type, name) >= 0;
}

int cr_ev_fill(cr_value *obj, const cr_entry *e, const cr_value *labels_hint)
{
    if (!obj || obj->kind != CR_OBJECT)
        return -1;
    if ((has(obj, "id") && cr_res_set_str(obj, "id", e->tenant_id)) ||
        (has(obj, "tenant_id") &&
         cr_res_set_str(obj, "tenant_id", e->tenant_id)) ||
        cr_res_set_str(obj, "cell_id", e->cell_id) ||
        cr_res_set_str(obj, "endpoint", e->endpoint) ||
        cr_res_set_str(obj, "standby_cell_id", e->standby_cell_id) ||
        cr_res_set_str(obj, "standby_endpoint", e->standby_endpoint) ||
        cr_res_set_str(obj, "updated_at", e->updated_at) ||
        cr_res_set(obj, "labels", cr_ev_labels(e, labels_hint)) ||
        cr_res_set(obj, "version", cr_value_int(e->version)))
        return -1;
    return 0;
}

static const char *const slot_names[CR_EV_NSLOTS] = {
    "cell_id", "endpoint", "standby_cell_id", "standby_endpoint", "labels",
    "version", "updated_at", "id", "tenant_id",
};

void cr_ev_slots_init(cr_ev_slots *s, const cr_type *t)
{
    s->type = t;
    for (int k = 0; k < CR_EV_NSLOTS; k++)
        s->at[k] = t && t->kind == CR_TYPE_OBJECT
                       ? cr_type_attr_index(t, slot_names[k]) : -1;
}

const cr_value *cr_ev_slot(const cr_ev_slots *s, const cr_value *obj, int k)
{
    /* An object has one slot per attribute of its type, in order. */
    if (obj && obj->kind == CR_OBJECT && obj->type == s->type
        && s->at[k] >= 0 && (size_t)s->at[k] < obj->u.coll.len)
        return obj->u.coll.items[s->at[k]];
    return cr_res_attr(obj, slot_names[k]);
}

/* The slow path: an object of nulls, then filled. */
static cr_value *entry_object_slow(const cr_type *t, const cr_entry *e,
                                   const cr_value *labels_hint)
{
    cr_value *v = cr_value_object(t);
    if (!v || cr_ev_fill(v, e, labels_hint)) {
        cr_value_free(v);
        return NULL;
    }
    return v;
}

cr_value *cr_ev_entry_object(const cr_ev_slots *s, const cr_entry *e,
                             const cr_value *labels_hint)
{
    const cr_type *t = s->type;
    /* What goes in each slot: a string (NULL: null), the version, the
     * labels, or (any other attribute) a null of its type. */
    enum src { SRC_NULL, SRC_STR, SRC_VERSION, SRC_LABELS };
    static const size_t str_off[CR_EV_NSLOTS] = {
        [CR_EV_SLOT_CELL_ID] = offsetof(cr_entry, cell_id),
        [CR_EV_SLOT_ENDPOINT] = offsetof(cr_entry, endpoint),
        [CR_EV_SLOT_STANDBY_CELL_ID] = offsetof(cr_entry, standby_cell_id),
        [CR_EV_SLOT_STANDBY_ENDPOINT] = offsetof(cr_entry, standby_endpoint),
        [CR_EV_SLOT_UPDATED_AT] = offsetof(cr_entry, updated_at),
        [CR_EV_SLOT_ID] = offsetof(cr_entry, tenant_id),
        [CR_EV_SLOT_TENANT_ID] = offsetof(cr_entry, tenant_id),
    };
    enum { MAXA = 16 };
    unsigned char src[MAXA];
    const char *str[MAXA];
    size_t room = 0;

    /* cr_ev_fill sets every attribute but id and tenant_id, and fails on
     * a type that lacks one: the slow path fails the same way. */
    bool all = t && t->kind == CR_TYPE_OBJECT && t->nattrs <= MAXA;
    for (int k = 0; all && k < CR_EV_SLOT_ID; k++)
        all = s->at[k] >= 0;
    if (!all)
        return entry_object_slow(t, e, labels_hint);
    memset(src, SRC_NULL, sizeof src);
    for (int k = 0; k < CR_EV_NSLOTS; k++) {
        long i = s->at[k];
        if (i < 0)
            continue;
        src[i] = k == CR_EV_SLOT_LABELS ? SRC_LABELS
               : k == CR_EV_SLOT_VERSION ? SRC_VERSION : SRC_STR;
        if (src[i] == SRC_STR)
            str[i] = *(char *const *)((const char *)e + str_off[k]);
    }
    for (size_t i = 0; i < t->nattrs; i++)
        room += src[i] == SRC_STR && str[i]
                    ? CR_VALUE_EMBED_SIZE(strlen(str[i]) + 1)
              : src[i] == SRC_VERSION ? CR_VALUE_EMBED_SIZE(CR_VALUE_INT_TEXT)
              : src[i] == SRC_LABELS ? 0
                                     : CR_VALUE_EMBED_SIZE(0);

    void *embed;
    cr_value *v = cr_value_object_block(t, room, &embed);
    if (!v)
        return NULL;
    char *at = embed;
    for (size_t i = 0; i < t->nattrs; i++) {
        cr_value *av;
        switch (src[i]) {
        case SRC_STR:
            if (str[i]) {
                size_t n = strlen(str[i]);
                av = cr_value_embed_string(at, str[i], n);
                at += CR_VALUE_EMBED_SIZE(n + 1);
            } else {
                av = cr_value_embed(at, CR_NULL, &cr_type_string);
                at += CR_VALUE_EMBED_SIZE(0);
            }
            break;
        case SRC_VERSION:
            av = cr_value_embed_int(at, e->version);
            at += CR_VALUE_EMBED_SIZE(CR_VALUE_INT_TEXT);
            break;
        case SRC_LABELS:
            av = cr_ev_labels(e, labels_hint);
            if (!av) {
                cr_value_free(v);
                return NULL;
            }
            break;
        default:
            av = cr_value_embed(at, CR_NULL, t->attrs[i].type);
            at += CR_VALUE_EMBED_SIZE(0);
            break;
        }
        v->u.coll.items[i] = av;
    }
    return v;
}

/* ---- values to entries -------------------------------------------------- */

static int dup_field(char **dst, const char *src)
{
    if (!src) {
        *dst = NULL;
        return 0;
    }
    *dst = strdup(src);
    return *dst ? 0 : -1;
}

int cr_ev_to_entry(const cr_value *obj, const char *tenant_id, cr_entry *e,
                   const cr_path *at, cr_diags *d)
{
    const cr_value *labels = cr_res_attr(obj, "labels");

    memset(e, 0, sizeof *e);
    for (size_t i = 0; i < CR_EV_NUSER_ATTRS; i++) {
        const cr_value *v = cr_res_attr(obj, cr_ev_user_attrs[i]);
        if (!v || !cr_value_is_wholly_known(v)) {
            char detail[200];
            snprintf(detail, sizeof detail,
                     "`%s` is still unknown when the entry is written; "
                     "Terraform should have resolved it. This is a bug in "
                     "the provider or in Terraform.", cr_ev_user_attrs[i]);
            cr_res_error(d, at, cr_ev_user_attrs[i], NULL,
                         "Unknown value at apply", detail);
            return -1;
        }
        if (cr_res_has_nul(v)) {
            cr_res_error(d, at, cr_ev_user_attrs[i], NULL, "Invalid value",
                         "The value contains a NUL character.");
            return -1;
        }
    }
    if (dup_field(&e->tenant_id, tenant_id) ||
        dup_field(&e->cell_id, cr_res_cstr(cr_res_attr(obj, "cell_id"))) ||
        dup_field(&e->endpoint, cr_res_cstr(cr_res_attr(obj, "endpoint"))) ||
        dup_field(&e->standby_cell_id,
                  cr_res_cstr(cr_res_attr(obj, "standby_cell_id"))) ||
        dup_field(&e->standby_endpoint,
                  cr_res_cstr(cr_res_attr(obj, "standby_endpoint"))))
        goto nomem;
    if (!e->tenant_id || !e->cell_id || !e->endpoint) {
        cr_res_error(d, at, NULL, NULL, "Missing required argument",
                     "`tenant_id`, `cell_id` and `endpoint` must be set.");
        cr_entry_clear(e);
        return -1;
    }
    e->has_labels = !cr_res_is_null(labels);
    if (e->has_labels) {
        for (size_t i = 0; i < labels->u.coll.len; i++) {
            const char *k = labels->u.coll.keys[i];
            const cr_value *lv = labels->u.coll.items[i];
            const char *s = cr_res_cstr(lv);
            if (!s || strcmp(k, CR_OWNER_LABEL) == 0) {
                cr_res_error(d, at, "labels", k, "Invalid label",
                             !s && cr_res_is_null(lv)
                                ? "A label's value must not be null."
                             : !s ? "The label's value contains a NUL "
                                   "character."
                                 : "The label " CR_OWNER_LABEL " is "
                                   "reserved for the provider.");
                cr_entry_clear(e);
                return -1;
            }
            if (cr_entry_set_label(e, k, s) != 0)
                goto nomem;
        }
    }
    return 0;
nomem:
    cr_entry_clear(e);
    cr_res_error(d, at, NULL, NULL, "Out of memory",
                 "The provider ran out of memory building the entry.");
    return -1;
}

void cr_ev_check_fits(cr_store *s, const cr_value *obj, const char *tenant_id,
                      const char *owner, const cr_path *at, cr_diags *d)
{
    cr_diags local = CR_DIAGS_INIT;
    cr_entry e;
    char buf[512];

    if (!s || !s->ops->fits || !tenant_id)
        return;
    for (size_t i = 0; i < CR_EV_NUSER_ATTRS; i++) {
        const cr_value *v = cr_res_attr(obj, cr_ev_user_attrs[i]);
        if (v && !cr_value_is_wholly_known(v))
            return;
    }
    if (cr_ev_to_entry(obj, tenant_id, &e, NULL, &local) == 0) {
        const char *msg = NULL;
        if (!owner || cr_entry_set_label(&e, CR_OWNER_LABEL, owner) == 0)
            msg = cr_store_entry_fits(s, &e, buf, sizeof buf);
        if (msg)
            cr_diags_error(d, at, "Entry too large for the routing map",
                           "Tenant %s: %s", tenant_id, msg);
        cr_entry_clear(&e);
    }
    cr_diags_free(&local);              /* validation reports those */
}

/* ---- validation --------------------------------------------------------- */

static bool cache_has(const cr_ev_cache *c, const char *s)
{
    for (size_t i = 0; c && i < CR_EV_CACHE_SLOTS && c->ok[i]; i++)
        if (strcmp(c->ok[i], s) == 0)
            return true;
    return false;
}

static void check_value(const cr_value *obj, const char *name,
                        const char *(*check)(const char *),
                        const cr_path *at, cr_ev_cache *cache, cr_diags *d)
{
    const char *s = cr_res_cstr(cr_res_attr(obj, name));
    if (!s || cache_has(cache, s))
        return;
    const char *msg = check(s);
    if (!msg && cache) {
        cache->ok[cache->next] = s;
        cache->next = (cache->next + 1) % CR_EV_CACHE_SLOTS;
    }
    if (msg) {
        char summary[64];
        snprintf(summary, sizeof summary, "Invalid %s", name);
        cr_res_error(d, at, name, NULL, summary, msg);
    }
}

void cr_ev_validate_labels(const cr_value *labels, const cr_path *at,
                           bool owner_reserved, cr_diags *d)
{
    if (!labels || labels->kind != CR_MAP)
        return;
    for (size_t i = 0; i < labels->u.coll.len; i++) {
        const char *k = labels->u.coll.keys[i];
        const cr_value *lv = labels->u.coll.items[i];
        const char *msg = NULL;
        if (owner_reserved && strcmp(k, CR_OWNER_LABEL) == 0)
            msg = "The label " CR_OWNER_LABEL " is reserved: the "
                  "provider records there which cellrouter_tenants "
                  "resource manages the entry.";
        else if (cr_value_is_unknown(lv))
            msg = cr_label_check(k, "");    /* the key alone */
        else if (cr_res_is_null(lv))
            msg = "A label's value must not be null.";
        else if (cr_res_has_nul(lv))
            msg = "The label's value contains a NUL character.";
        else
            msg = cr_label_check(k, cr_res_cstr(lv));
        if (msg)
            cr_res_error(d, at, "labels", k, "Invalid label", msg);
    }
}

void cr_ev_validate_filters(const cr_value *config, cr_diags *d)
{
    const cr_value *cell = cr_res_attr(config, "cell_id");
    const cr_value *prefix = cr_res_attr(config, "tenant_id_prefix");
    const char *s;

    if (cr_res_has_nul(cell))
        cr_res_error(d, NULL, "cell_id", NULL, "Invalid cell_id",
                     "The value contains a NUL character.");
    else if ((s = cr_res_cstr(cell)) && cr_cell_id_check(s))
        cr_res_error(d, NULL, "cell_id", NULL, "Invalid cell_id",
                     cr_cell_id_check(s));
    if (cr_res_has_nul(prefix))
        cr_res_error(d, NULL, "tenant_id_prefix", NULL,
                     "Invalid tenant_id_prefix",
                     "The value contains a NUL character.");
    else if ((s = cr_res_cstr(prefix)) && *s && cr_tenant_id_check(s))
        cr_res_error(d, NULL, "tenant_id_prefix", NULL,
                     "Invalid tenant_id_prefix",
                     "No tenant id can start with this prefix: tenant ids "
                     "are letters, digits and . _ : @ -, starting with a "
                     "letter or a digit.");
    cr_ev_validate_labels(cr_res_attr(config, "labels"), NULL, true, d);
}

/* Probe values standing in for unknowns in the whole-entry check below;
 * valid by the map's rules, and chosen to differ from each other. */
#define PROBE_TENANT   "probe"
#define PROBE_ENDPOINT "https://probe.invalid/"

void cr_ev_validate(const cr_value *obj, const cr_path *at,
                    cr_ev_cache *cache, cr_diags *d)
{
    size_t errors_before = d->len;

    if (!obj || obj->kind != CR_OBJECT)
        return;                         /* null or unknown as a whole */
    for (size_t i = 0; i < CR_EV_NUSER_ATTRS; i++) {
        const char *name = cr_ev_user_attrs[i];
        const cr_value *v = cr_res_attr(obj, name);
        bool required = i < 2;          /* cell_id, endpoint */
        if (required && cr_res_is_null(v) && !cr_value_is_unknown(v))
            cr_res_error(d, at, name, NULL, "Missing required argument",
                         "This argument is required.");
        else if (cr_res_has_nul(v))
            cr_res_error(d, at, name, NULL, "Invalid value",
                         "The value contains a NUL character, which the "
                         "routing map cannot hold.");
    }
    check_value(obj, "cell_id", cr_cell_id_check, at, cache, d);
    check_value(obj, "endpoint", cr_endpoint_check, at, cache, d);
    check_value(obj, "standby_cell_id", cr_cell_id_check, at, cache, d);
    check_value(obj, "standby_endpoint", cr_endpoint_check, at, cache, d);

    cr_ev_validate_labels(cr_res_attr(obj, "labels"), at, true, d);
    if (d->len != errors_before)
        return;

    /* The rules between values (standby both or neither, standby cell not
     * the primary), by the map's whole-entry check. An unknown value is
     * replaced by one that satisfies the rules given the known values, so
     * it never makes a rule fail; labels were checked above. */
    const cr_value *vc = cr_res_attr(obj, "standby_cell_id");
    const cr_value *ve = cr_res_attr(obj, "standby_endpoint");
    const char *cell = cr_res_cstr(cr_res_attr(obj, "cell_id"));
    const char *sb_cell = cr_res_cstr(vc), *sb_ep = cr_res_cstr(ve);
    bool vc_unknown = vc && cr_value_is_unknown(vc);
    bool ve_unknown = ve && cr_value_is_unknown(ve);
    cr_entry e;

    memset(&e, 0, sizeof e);
    e.tenant_id = (char *)PROBE_TENANT;
    e.endpoint = (char *)PROBE_ENDPOINT;
    if (cell)
        e.cell_id = (char *)cell;
    else
        e.cell_id = (char *)(sb_cell && strcmp(sb_cell, "a") == 0 ? "b"
                                                                   : "a");
    if (sb_cell || sb_ep) {
        if (sb_cell)
            e.standby_cell_id = (char *)sb_cell;
        else if (vc_unknown)
            e.standby_cell_id =
                (char *)(strcmp(e.cell_id, "c") == 0 ? "d" : "c");
        if (sb_ep)
            e.standby_endpoint = (char *)sb_ep;
        else if (ve_unknown)
            e.standby_endpoint = (char *)PROBE_ENDPOINT;
    }
    const char *field = NULL;
    const char *msg = cr_entry_check(&e, &field);
    if (msg) {
        char summary[64];
        snprintf(summary, sizeof summary, "Invalid %s",
                 field ? field : "tenant");
        cr_res_error(d, at, field && strcmp(field, "tenant_id") != 0 ? field
                                                                    : NULL,
                     NULL, summary, msg);
    }
}
