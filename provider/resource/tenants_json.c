/*
 * resource/tenants_json.c — cellrouter_tenants with its fleet in
 * `tenants_json`: one JSON document (tenants_doc.h) instead of a map of
 * objects, so that Terraform core carries the fleet as one string, in
 * time linear in its size, and shows a change tenant by tenant (it
 * renders a string that holds JSON by its structure).
 *
 * The rules that make it behave as a user expects of Terraform:
 *
 *   - Semantic equality. `tenants_json` is optional and not computed, so a
 *     plan must give it the configuration's value, or exactly the prior
 *     one: Terraform's objchange.AssertPlanValid accepts a planned value
 *     equal to the prior state's for any attribute set in both (the way
 *     terraform-plugin-framework's semantic equality works). When the
 *     configured document holds the same entries as the prior one (only
 *     its formatting, key order, or fields left out or null differ), the
 *     plan keeps the prior text: no change. Apply then keeps whatever
 *     string was planned, as Terraform requires.
 *   - Refresh answers the prior text unchanged when the routing map holds
 *     the same entries, so there is never a perpetual diff. When entries
 *     changed by hand, it answers a document with those entries as the
 *     map holds them and every other entry as the prior document wrote it
 *     (same fields, same nulls: cr_doc_writer_add with the entry's
 *     style), so the plan shows exactly the changed tenants.
 *   - Versions and write times live in the private state (tenants_doc.h),
 *     never in an attribute: a computed per-tenant value that goes unknown
 *     on a change would make Terraform print the whole fleet.
 *
 * Writes go through cr_tn_write (tenants.c) like the map's: batches
 * conditional on the versions Terraform last read, and after a failure a
 * state (and private state) recording exactly what the map holds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "resource/tenants.h"

#define LOG "tenants"

bool cr_tnj_mode(const cr_value *obj)
{
    const cr_value *v = cr_res_attr(obj, CR_TN_JSON);
    return v && v->kind != CR_NULL;
}

/* The known document string of obj, else NULL. */
static const cr_value *doc_text(const cr_value *obj)
{
    const cr_value *v = cr_res_attr(obj, CR_TN_JSON);
    return v && v->kind == CR_STRING ? v : NULL;
}

static int json_path(cr_path *at)
{
    memset(at, 0, sizeof *at);
    return cr_path_push_attr(at, CR_TN_JSON);
}

static int parse_text(const cr_value *s, cr_tdoc *doc, cr_diags *d)
{
    cr_path at;
    int rc = -1;
    if (json_path(&at) == 0)
        rc = cr_tdoc_parse(s->u.str.ptr, s->u.str.len, CR_TN_JSON, &at, doc,
                           d);
    else
        cr_tn_nomem(d);
    cr_path_free(&at);
    return rc;
}

void cr_tnj_validate(const cr_value *config, cr_diags *d)
{
    const cr_value *s = doc_text(config);
    cr_tdoc doc;
    if (s && parse_text(s, &doc, d) == 0)
        cr_tdoc_free(&doc);
}

/* ---- the prior entries ------------------------------------------------------- */

/* What the prior state holds, in either form, with the version and stamp
 * of each entry (CR_VERSION_ANY, NULL when not known). */
typedef struct pview {
    cr_tdoc doc;
    int64_t *version;
    const char **at;        /* borrowed from tv or from the prior value */
    cr_tversions tv;
} pview;

static void pview_free(pview *v)
{
    cr_tdoc_free(&v->doc);
    free(v->version);
    free(v->at);
    cr_tversions_free(&v->tv);
    memset(v, 0, sizeof *v);
}

static int pview_arrays(pview *v)
{
    size_t n = v->doc.len ? v->doc.len : 1;
    v->version = malloc(n * sizeof *v->version);
    v->at = malloc(n * sizeof *v->at);
    return v->version && v->at ? 0 : -1;
}

/* From a document and the private state's versions. */
static int pview_doc(pview *v, const cr_value *text, cr_bytes priv,
                     cr_diags *d)
{
    if (parse_text(text, &v->doc, d) != 0)
        return -1;
    if (cr_tversions_decode(priv.data, priv.len, &v->tv) != 0)
        cr_log_warn(LOG, "the private state holds no tenant versions this "
                    "provider reads: writes are not conditional until the "
                    "next refresh");
    if (pview_arrays(v) != 0) {
        cr_tn_nomem(d);
        return -1;
    }
    /* Both sorted by tenant id: one merge walk. */
    size_t j = 0;
    for (size_t i = 0; i < v->doc.len; i++) {
        const char *id = v->doc.items[i].tenant_id;
        while (j < v->tv.len && strcmp(v->tv.ids[j], id) < 0)
            j++;
        bool hit = j < v->tv.len && strcmp(v->tv.ids[j], id) == 0;
        v->version[i] = hit ? v->tv.version[j] : CR_VERSION_ANY;
        v->at[i] = hit ? v->tv.at[j] : NULL;
    }
    return 0;
}

/* From the `tenants` map of a prior state (the resource moves to the
 * document form): entries borrowing the map's strings. */
static int pview_map(pview *v, const cr_value *m, cr_diags *d)
{
    cr_ev_slots s;
    const cr_type *et = m->type && m->type->elem ? m->type->elem : NULL;
    cr_ev_slots_init(&s, et);
    for (size_t i = 0; i < m->u.coll.len; i++) {
        const cr_value *o = m->u.coll.items[i];
        cr_entry *e = cr_tdoc_push(&v->doc, 0);
        if (!e)
            goto oom;
        e->tenant_id = m->u.coll.keys[i];
        e->cell_id = (char *)cr_res_cstr(cr_ev_slot(&s, o, CR_EV_SLOT_CELL_ID));
        e->endpoint = (char *)cr_res_cstr(cr_ev_slot(&s, o, CR_EV_SLOT_ENDPOINT));
        e->standby_cell_id = (char *)cr_res_cstr(
            cr_ev_slot(&s, o, CR_EV_SLOT_STANDBY_CELL_ID));
        e->standby_endpoint = (char *)cr_res_cstr(
            cr_ev_slot(&s, o, CR_EV_SLOT_STANDBY_ENDPOINT));
        const cr_value *l = cr_ev_slot(&s, o, CR_EV_SLOT_LABELS);
        if (l && l->kind == CR_MAP) {
            e->has_labels = true;
            e->labels = cr_tdoc_alloc(&v->doc, l->u.coll.len * sizeof *e->labels);
            if (!e->labels)
                goto oom;
            for (size_t k = 0; k < l->u.coll.len; k++) {
                const char *val = cr_res_cstr(l->u.coll.items[k]);
                e->labels[e->nlabels++] = (cr_label){ l->u.coll.keys[k],
                                                      (char *)(val ? val : "") };
            }
        }
    }
    if (pview_arrays(v) != 0)
        goto oom;
    for (size_t i = 0; i < m->u.coll.len; i++) {
        const cr_value *o = m->u.coll.items[i];
        const cr_value *ver = cr_ev_slot(&s, o, CR_EV_SLOT_VERSION);
        v->version[i] = ver && ver->kind == CR_NUMBER && ver->u.num.is_int &&
                        ver->u.num.i >= 1 ? ver->u.num.i : CR_VERSION_ANY;
        v->at[i] = cr_res_cstr(cr_ev_slot(&s, o, CR_EV_SLOT_UPDATED_AT));
    }
    return 0;
oom:
    cr_tn_nomem(d);
    return -1;
}

/* The prior state's entries in either form; an empty view for none. */
static int pview_load(pview *v, const cr_value *prior, cr_bytes priv,
                      cr_diags *d)
{
    memset(v, 0, sizeof *v);
    const cr_value *text = doc_text(prior);
    const cr_value *m = cr_res_attr(prior, CR_TN_MAP);
    if (text)
        return pview_doc(v, text, priv, d);
    if (m && m->kind == CR_MAP)
        return pview_map(v, m, d);
    if (pview_arrays(v) != 0) {
        cr_tn_nomem(d);
        return -1;
    }
    return 0;
}

/* ---- private state ------------------------------------------------------------ */

/* Per-tenant versions gathered for the private state of a result. */
typedef struct vlist {
    size_t len;
    const char **ids;
    int64_t *version;
    const char **at;
} vlist;

static int vlist_init(vlist *l, size_t cap)
{
    cap = cap ? cap : 1;
    l->len = 0;
    l->ids = malloc(cap * sizeof *l->ids);
    l->version = malloc(cap * sizeof *l->version);
    l->at = malloc(cap * sizeof *l->at);
    return l->ids && l->version && l->at ? 0 : -1;
}

static void vlist_add(vlist *l, const char *id, int64_t version,
                      const char *at)
{
    l->ids[l->len] = id;
    l->version[l->len] = version >= 1 ? version : 0;
    l->at[l->len++] = at && *at ? at : NULL;
}

static void vlist_free(vlist *l)
{
    free(l->ids);
    free(l->version);
    free(l->at);
    memset(l, 0, sizeof *l);
}

/* The private state of l (versions not known, 0, are left out: the next
 * write of such a key is unconditional until a refresh reads it). */
static int vlist_private(vlist *l, cr_private *out)
{
    size_t k = 0;
    for (size_t i = 0; i < l->len; i++) {
        if (l->version[i] < 1)
            continue;
        l->ids[k] = l->ids[i];
        l->version[k] = l->version[i];
        l->at[k++] = l->at[i];
    }
    unsigned char *bytes;
    size_t len;
    if (cr_tversions_encode(k, l->ids, l->version, l->at, &bytes, &len) != 0)
        return -1;
    cr_private_adopt(out, bytes, len);
    return 0;
}

/* obj (a resource object) with tenants_json = text (adopted, even on
 * failure) and tenants null. 0, or -1 on ENOMEM. */
static int set_doc(cr_value *obj, char *text, size_t len)
{
    cr_value *v = text ? cr_value_stringn(text, len) : NULL;
    long i = cr_type_attr_index(obj->type, CR_TN_MAP);
    free(text);
    return cr_res_set(obj, CR_TN_JSON, v) || i < 0 ||
           cr_res_set(obj, CR_TN_MAP, cr_value_null(obj->type->attrs[i].type));
}

/* ---- plan ------------------------------------------------------------------------ */

/* The store's own limits (Workers KV's metadata size) for an entry that
 * will be written, with its owner tag. */
static void check_fits(cr_provider_state *p, const cr_entry *e,
                       const char *owner, const cr_path *at, cr_diags *d)
{
    char buf[512];
    if (!p || !p->store || !p->store->ops->fits || !owner)
        return;
    cr_entry t = *e;
    t.labels = cr_tn_tagged_labels(e, owner, &t.nlabels);
    t.has_labels = true;
    if (!t.labels) {
        cr_tn_nomem(d);
        return;
    }
    const char *msg = cr_store_entry_fits(p->store, &t, buf, sizeof buf);
    if (msg)
        cr_diags_error(d, at, "Entry too large for the routing map",
                       "%s: tenant \"%.80s\": %s", CR_TN_JSON, e->tenant_id,
                       msg);
    free(t.labels);
}

void cr_tnj_plan(cr_provider_state *p, const cr_plan_req *req,
                 cr_plan_resp *resp)
{
    cr_value *planned = resp->planned;
    cr_diags *d = &resp->diags;
    const cr_value *text = doc_text(planned);
    const cr_value *prior_text = doc_text(req->prior);
    const cr_value *name = cr_res_attr(planned, "name");
    const char *owner = cr_res_cstr(name);
    bool renamed = req->prior &&
                   !cr_value_equal(cr_res_attr(req->prior, "name"), name);

    if (!text)
        return;             /* not known yet: checked when it is */
    /* The common no-change plan: the very text in state. */
    if (prior_text && !renamed && prior_text->u.str.len == text->u.str.len &&
        memcmp(prior_text->u.str.ptr, text->u.str.ptr, text->u.str.len) == 0)
        return;

    cr_tdoc q;
    pview pv;
    cr_path at;
    const char **new_keys = NULL;
    if (parse_text(text, &q, d) != 0)
        return;
    if (pview_load(&pv, req->prior, req->priv, d) != 0 || json_path(&at)) {
        if (!cr_diags_has_error(d))
            cr_tn_nomem(d);
        cr_tdoc_free(&q);
        pview_free(&pv);
        return;
    }
    /* The same entries written differently: the prior text stays, and
     * Terraform plans no change (a rename still re-tags every entry). */
    if (prior_text && cr_tdoc_same(&pv.doc, &q)) {
        if (cr_res_set(planned, CR_TN_JSON, cr_value_copy(prior_text)))
            cr_tn_nomem(d);
        if (!renamed)
            goto out;
    }
    new_keys = malloc((q.len ? q.len : 1) * sizeof *new_keys);
    if (!new_keys) {
        cr_tn_nomem(d);
        goto out;
    }
    size_t nnew = 0, j = 0;
    for (size_t i = 0; i < q.len; i++) {
        const cr_entry *e = &q.items[i];
        while (j < pv.doc.len &&
               strcmp(pv.doc.items[j].tenant_id, e->tenant_id) < 0)
            j++;
        const cr_entry *was = j < pv.doc.len &&
                              strcmp(pv.doc.items[j].tenant_id,
                                     e->tenant_id) == 0
                                  ? &pv.doc.items[j] : NULL;
        if (!was)
            new_keys[nnew++] = e->tenant_id;
        if (renamed || !was || !cr_tdoc_same_entry(was, e))
            check_fits(p, e, owner, &at, d);
    }
    cr_tn_check_new_keys(p, new_keys, nnew, owner, CR_TN_JSON, d);
out:
    free(new_keys);
    cr_path_free(&at);
    cr_tdoc_free(&q);
    pview_free(&pv);
}

/* ---- apply ------------------------------------------------------------------------ */

/* The merge of the prior entries P and the planned Q: op k is the change
 * of a key (ops are in key order). */
static size_t collect_ops(const pview *pv, const cr_tdoc *q, bool renamed,
                          cr_tn_op *ops)
{
    size_t i = 0, j = 0, n = 0;
    const cr_tdoc *P = &pv->doc;
    while (i < P->len || j < q->len) {
        int c = i >= P->len ? 1 : j >= q->len ? -1
                : strcmp(P->items[i].tenant_id, q->items[j].tenant_id);
        cr_tn_op *op = &ops[n];
        memset(op, 0, sizeof *op);
        if (c < 0) {                        /* removed */
            op->key = P->items[i].tenant_id;
            op->expect = pv->version[i++];
            n++;
        } else if (c > 0) {                 /* new */
            op->key = q->items[j].tenant_id;
            op->entry = &q->items[j++];
            op->expect = CR_VERSION_ABSENT;
            n++;
        } else {
            if (renamed || !cr_tdoc_same_entry(&P->items[i], &q->items[j])) {
                op->key = q->items[j].tenant_id;
                op->entry = &q->items[j];
                op->expect = pv->version[i];
                n++;
            }
            i++;
            j++;
        }
    }
    return n;
}

/* The entries the map now holds for this resource after the ops: the
 * document (as text) and the private state. Unchanged and applied keys
 * of q as q writes them, keys not applied as P had them. */
static int result(const pview *pv, const cr_tdoc *q, const cr_tn_op *ops,
                  size_t nops, bool text_too, char **text, size_t *tlen,
                  cr_private *priv)
{
    const cr_tdoc *P = &pv->doc;
    cr_doc_writer *w = text_too ? cr_doc_writer_new() : NULL;
    vlist vl;
    size_t i = 0, j = 0, k = 0;
    int rc = -1;

    if ((text_too && !w) || vlist_init(&vl, P->len + q->len) != 0)
        goto out;
    while (i < P->len || j < q->len) {
        int c = i >= P->len ? 1 : j >= q->len ? -1
                : strcmp(P->items[i].tenant_id, q->items[j].tenant_id);
        const char *key = c <= 0 ? P->items[i].tenant_id
                                 : q->items[j].tenant_id;
        const cr_tn_op *op = k < nops && strcmp(ops[k].key, key) == 0
                                 ? &ops[k++] : NULL;
        const cr_entry *e = NULL;
        unsigned style = 0;
        int64_t ver = 0;
        const char *at = NULL;
        if (!op) {                          /* unchanged: in both */
            e = &q->items[j];
            style = q->style[j];
            ver = pv->version[i];
            at = pv->at[i];
        } else if (op->applied) {
            if (op->entry) {
                e = op->entry;
                style = q->style[j];
                ver = op->version;
                at = op->updated_at;
            }
        } else if (c <= 0) {                /* as it was */
            e = &P->items[i];
            style = P->style[i];
            ver = pv->version[i];
            at = pv->at[i];
        }
        if (c <= 0)
            i++;
        if (c >= 0)
            j++;
        if (!e)
            continue;
        if (w && cr_doc_writer_add(w, e, style) != 0)
            goto out;
        vlist_add(&vl, key, ver, at);
    }
    if (vlist_private(&vl, priv) != 0)
        goto out;
    if (w) {
        *text = cr_doc_writer_finish(w, tlen);
        w = NULL;
        if (!*text)
            goto out;
    }
    rc = 0;
out:
    cr_doc_writer_free(w);
    vlist_free(&vl);
    return rc;
}

void cr_tnj_write(cr_provider_state *p, const cr_apply_req *req,
                  cr_apply_resp *resp)
{
    const cr_value *prior = req->prior, *planned = req->planned;
    cr_diags *d = &resp->diags;
    const cr_value *text = doc_text(planned);
    cr_tdoc q = {0};
    pview pv;
    cr_tn_op *ops = NULL;

    memset(&pv, 0, sizeof pv);
    if (planned && !text) {
        cr_diags_error(d, NULL, "Unknown value at apply", "%s",
                       "`tenants_json` is still unknown when the entries are "
                       "written; Terraform should have resolved it. This is "
                       "a bug in the provider or in Terraform.");
        return;
    }
    if ((text && parse_text(text, &q, d) != 0) ||
        pview_load(&pv, prior, req->priv, d) != 0)
        goto out;
    const char *owner = cr_res_cstr(cr_res_attr(planned ? planned : prior,
                                                "name"));
    bool renamed = prior && planned &&
                   !cr_value_equal(cr_res_attr(prior, "name"),
                                   cr_res_attr(planned, "name"));
    ops = malloc((pv.doc.len + q.len + 1) * sizeof *ops);
    if (!ops) {
        cr_tn_nomem(d);
        goto out;
    }
    size_t nops = collect_ops(&pv, &q, renamed, ops), nwritten = 0;
    bool failed = !cr_tn_write(p, ops, nops, owner, d);
    for (size_t i = 0; i < nops; i++)
        nwritten += ops[i].applied;

    /* A successful destroy is null; a failure that wrote nothing leaves
     * the object as it was (the framework answers the prior state). */
    if ((!planned && !failed) || (failed && nwritten == 0))
        goto out;
    /* The plan's object, its text exactly as planned; after a failure the
     * prior object (the plan's for a create) with a document of what the
     * map now holds. */
    const cr_value *base = planned && !(failed && prior) ? planned : prior;
    char *out_text = NULL;
    size_t out_len = 0;
    cr_value *st = cr_value_copy(base);
    if (!st || result(&pv, &q, ops, nops, failed, &out_text, &out_len,
                      &resp->priv) != 0 ||
        (failed && set_doc(st, out_text, out_len))) {
        cr_value_free(st);
        cr_private_clear(&resp->priv);
        cr_tn_nomem(d);
        goto out;
    }
    resp->new_state = st;
out:
    free(ops);
    cr_tdoc_free(&q);
    pview_free(&pv);
}

/* ---- read ------------------------------------------------------------------------- */

void cr_tnj_read(cr_provider_state *p, const cr_read_req *req,
                 cr_read_resp *resp)
{
    const cr_value *state = req->state;
    cr_diags *d = &resp->diags;
    const cr_value *text = doc_text(state);
    const char *name = cr_res_cstr(cr_res_attr(state, "name"));
    cr_tdoc doc;
    cr_entry_list got = {0};
    const char **keys = NULL;
    const cr_entry **match = NULL;
    cr_doc_writer *w = NULL;
    vlist vl = {0};
    cr_store_err err;

    if (!text) {
        cr_diags_error(d, NULL, "Invalid state", "%s",
                       "`tenants_json` is unknown in the state. This is a "
                       "bug in the provider or in Terraform.");
        return;
    }
    if (parse_text(text, &doc, d) != 0)
        return;
    keys = malloc((doc.len ? doc.len : 1) * sizeof *keys);
    match = malloc((doc.len ? doc.len : 1) * sizeof *match);
    if (!keys || !match || vlist_init(&vl, doc.len) != 0) {
        cr_tn_nomem(d);
        goto out;
    }
    for (size_t i = 0; i < doc.len; i++)
        keys[i] = doc.items[i].tenant_id;
    memset(&err, 0, sizeof err);
    cr_store_rc rc = cr_store_get_many(p->store, keys, doc.len, &got, &err);
    if (rc != CR_STORE_OK) {
        cr_res_store_error(d, rc, &err, "Could not read tenants",
                           "Reading %zu tenants from the routing map failed",
                           doc.len);
        goto out;
    }

    /* Both sorted by tenant id: one merge walk. */
    cr_tn_keylist retagged = {{0}, 0};
    size_t j = 0, ndrift = 0;
    for (size_t i = 0; i < doc.len; i++) {
        const cr_entry *e = &doc.items[i];
        while (j < got.len && strcmp(got.items[j].tenant_id, e->tenant_id) < 0)
            j++;
        const cr_entry *g = j < got.len &&
                            strcmp(got.items[j].tenant_id, e->tenant_id) == 0
                                ? &got.items[j] : NULL;
        match[i] = g;
        if (!g) {
            ndrift++;                   /* gone: drift on this key */
            continue;
        }
        const char *tag = cr_entry_label(g, CR_OWNER_LABEL);
        if (tag && (!name || strcmp(tag, name) != 0))
            cr_tn_keylist_add(&retagged, e->tenant_id, NULL);
        if (!cr_tdoc_same_entry(e, g))
            ndrift++;
        vlist_add(&vl, e->tenant_id, g->version, g->updated_at);
    }
    cr_tn_warn_retagged(d, &retagged);
    cr_value *st = cr_value_copy(state);
    if (!st || vlist_private(&vl, &resp->priv) != 0)
        goto oom_st;
    if (ndrift) {
        /* The changed entries as the map holds them, every other one as
         * the document wrote it; gone ones left out. */
        if (!(w = cr_doc_writer_new()))
            goto oom_st;
        for (size_t i = 0; i < doc.len; i++) {
            const cr_entry *g = match[i];
            if (g && cr_doc_writer_add(w, cr_tdoc_same_entry(&doc.items[i], g)
                                              ? &doc.items[i] : g,
                                       doc.style[i]) != 0)
                goto oom_st;
        }
        size_t len = 0;
        char *out = cr_doc_writer_finish(w, &len);
        w = NULL;
        if (!out || set_doc(st, out, len))
            goto oom_st;
        cr_log_info(LOG, "%s: %zu tenant(s) changed outside Terraform",
                    name ? name : "?", ndrift);
    }
    resp->new_state = st;
    goto out;
oom_st:
    cr_value_free(st);
    cr_private_clear(&resp->priv);
    cr_tn_nomem(d);
out:
    cr_doc_writer_free(w);
    vlist_free(&vl);
    free(keys);
    free(match);
    cr_entry_list_free(&got);
    cr_tdoc_free(&doc);
}

/* ---- import ------------------------------------------------------------------------ */

void cr_tnj_import(cr_provider_state *p, const cr_type *obj_type,
                   const char *name, const cr_entry_list *listed,
                   const char *const *keys, size_t nkeys,
                   cr_import_resp *resp)
{
    cr_diags *d = &resp->diags;
    cr_store *store = cr_res_store(p, d);
    cr_entry_list got = {0};
    cr_store_err err;
    cr_doc_writer *w = NULL;
    vlist vl = {0};

    if (!store)
        return;
    if (!listed) {
        memset(&err, 0, sizeof err);
        cr_store_rc rc = cr_store_get_many(store, keys, nkeys, &got, &err);
        if (rc != CR_STORE_OK) {
            cr_res_store_error(d, rc, &err, "Could not read tenants",
                               "Reading %zu tenants from the routing map "
                               "failed", nkeys);
            return;
        }
        listed = &got;
        /* Every key named must exist. */
        cr_tn_keylist missing = {{0}, 0};
        size_t j = 0;
        for (size_t i = 0; i < nkeys; i++) {
            while (j < got.len && strcmp(got.items[j].tenant_id, keys[i]) < 0)
                j++;
            if (j >= got.len || strcmp(got.items[j].tenant_id, keys[i]) != 0)
                cr_tn_keylist_add(&missing, keys[i], NULL);
        }
        cr_tn_keylist none = {{0}, 0};
        if (cr_tn_import_refusals(d, &missing, &none, false, "tenants_json/"))
            goto out;
    }
    /* Not another resource's; without a name, the one tag they agree on. */
    cr_tn_keylist foreign = {{0}, 0};
    const char *adopted = NULL;
    bool disagree = false;
    for (size_t i = 0; i < listed->len; i++) {
        const cr_entry *e = &listed->items[i];
        const char *tag = cr_entry_label(e, CR_OWNER_LABEL);
        if (!tag)
            continue;
        if (name && strcmp(tag, name) != 0) {
            char note[100];
            snprintf(note, sizeof note, "(\"%.64s\")", tag);
            cr_tn_keylist_add(&foreign, e->tenant_id, note);
        } else if (!name) {
            disagree |= adopted && strcmp(adopted, tag) != 0;
            adopted = tag;
        }
    }
    cr_tn_keylist none = {{0}, 0};
    if (cr_tn_import_refusals(d, &none, &foreign, disagree, "tenants_json/"))
        goto out;
    if (!name)
        name = adopted;

    if (!(w = cr_doc_writer_new()) || vlist_init(&vl, listed->len) != 0)
        goto oom;
    for (size_t i = 0; i < listed->len; i++) {
        const cr_entry *e = &listed->items[i];
        if (cr_doc_writer_add(w, e, 0) != 0)
            goto oom;
        vlist_add(&vl, e->tenant_id, e->version, e->updated_at);
    }
    size_t len = 0;
    char *text = cr_doc_writer_finish(w, &len);
    w = NULL;
    cr_value *obj = text ? cr_value_object(obj_type) : NULL;
    if (!obj || set_doc(obj, text, len) || cr_res_set_str(obj, "name", name) ||
        cr_res_set_str(obj, "id", name) ||
        vlist_private(&vl, &resp->priv) != 0) {
        if (!obj)
            free(text);
        cr_value_free(obj);
        goto oom;
    }
    resp->state = obj;
    goto out;
oom:
    cr_private_clear(&resp->priv);
    cr_tn_nomem(d);
out:
    cr_doc_writer_free(w);
    vlist_free(&vl);
    cr_entry_list_free(&got);
}

/* ---- the document as the map ------------------------------------------------------ */

cr_value *cr_tnj_as_map(const cr_value *obj, cr_bytes priv,
                        const cr_type *map_type, cr_diags *d)
{
    const cr_value *text = doc_text(obj);
    pview pv;
    cr_ev_slots slots;

    if (!text || !map_type) {
        cr_diags_error(d, NULL, "Invalid state", "%s",
                       "The prior `tenants_json` is not known. This is a bug "
                       "in the provider or in Terraform.");
        return NULL;
    }
    if (pview_load(&pv, obj, priv, d) != 0)
        return NULL;
    cr_ev_slots_init(&slots, map_type->elem);
    cr_value *m = cr_value_collection(map_type);
    for (size_t i = 0; m && i < pv.doc.len; i++) {
        cr_entry e = pv.doc.items[i];
        e.version = pv.version[i] >= 1 ? pv.version[i] : 0;
        e.updated_at = (char *)pv.at[i];
        cr_value *v = cr_ev_entry_object(&slots, &e, NULL);
        if (!v || cr_value_map_put(m, e.tenant_id, v) != 0) {
            cr_value_free(m);
            m = NULL;
        }
    }
    if (!m)
        cr_tn_nomem(d);
    pview_free(&pv);
    return m;
}
