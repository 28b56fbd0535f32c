/*
 * tests/unit/support/support.c — the unit tests' shared helpers (see
 * support.h): handler invocation on a detached cr_call, values and
 * Terraform's proposed new state, diagnostics, the resource framework's
 * steps, temporary directories for SQLite routing maps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "support/support.h"

/* ---- handlers ----------------------------------------------------------- */

/* `msg` packed and unpacked as `d` (the wire round trip); never NULL. */
static ProtobufCMessage *round_trip(const ProtobufCMessage *msg,
                                    const ProtobufCMessageDescriptor *d)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(len ? len : 1);
    assert_non_null(buf);
    protobuf_c_message_pack(msg, buf);
    ProtobufCMessage *out = protobuf_c_message_unpack(d, NULL, len, buf);
    free(buf);
    assert_non_null(out);
    return out;
}

void *cr_test_invoke_status(cr_rpc_provider *p, const char *name,
                            const ProtobufCMessage *req, int *status)
{
    const cr_method *m = cr_rpc_method(name);
    assert_non_null(m);
    ProtobufCMessage *in = round_trip(req, m->request_desc);
    cr_call *call = cr_call_new_detached(p);
    assert_non_null(call);

    ProtobufCMessage *resp = NULL, *out = NULL;
    const char *msg = NULL;
    *status = m->handler(call, in, &resp, &msg);
    if (*status == GRPC_STATUS_OK) {
        assert_non_null(resp);
        out = round_trip(resp, resp->descriptor);
    } else {
        assert_non_null(msg);
    }
    protobuf_c_message_free_unpacked(in, NULL);
    cr_call_free_detached(call);
    return out;
}

void *cr_test_invoke(cr_rpc_provider *p, const char *name,
                     const ProtobufCMessage *req)
{
    int status = -1;
    void *out = cr_test_invoke_status(p, name, req, &status);
    assert_int_equal(status, GRPC_STATUS_OK);
    return out;
}

static const cr_schema *schema_of(const char *type)
{
    const cr_resource_type *rt = cr_resource_find(type);
    assert_non_null(rt);
    return rt->schema;
}

Tfplugin6__PlanResourceChange__Response *cr_test_rpc_plan(
    cr_rpc_provider *p, const char *type, const cr_value *prior,
    const cr_value *cfg, const ProtobufCBinaryData *priv)
{
    cr_value *prop = cr_test_proposed(schema_of(type), cfg, prior);
    Tfplugin6__PlanResourceChange__Request req =
        TFPLUGIN6__PLAN_RESOURCE_CHANGE__REQUEST__INIT;
    req.type_name = (char *)type;
    req.prior_state = cr_test_dv(prior);
    req.proposed_new_state = cr_test_dv(prop);
    req.config = cr_test_dv(cfg);
    if (priv)
        req.prior_private = *priv;
    Tfplugin6__PlanResourceChange__Response *r =
        cr_test_invoke(p, "PlanResourceChange", &req.base);
    cr_test_dv_free(req.prior_state);
    cr_test_dv_free(req.proposed_new_state);
    cr_test_dv_free(req.config);
    cr_value_free(prop);
    return r;
}

Tfplugin6__ApplyResourceChange__Response *cr_test_rpc_apply(
    cr_rpc_provider *p, const char *type, const cr_value *prior,
    const cr_value *planned, const cr_value *cfg)
{
    Tfplugin6__ApplyResourceChange__Request req =
        TFPLUGIN6__APPLY_RESOURCE_CHANGE__REQUEST__INIT;
    req.type_name = (char *)type;
    req.prior_state = cr_test_dv(prior);
    req.planned_state = cr_test_dv(planned);
    req.config = cr_test_dv(cfg);
    Tfplugin6__ApplyResourceChange__Response *r =
        cr_test_invoke(p, "ApplyResourceChange", &req.base);
    cr_test_dv_free(req.prior_state);
    cr_test_dv_free(req.planned_state);
    cr_test_dv_free(req.config);
    return r;
}

/* ---- values ------------------------------------------------------------- */

Tfplugin6__DynamicValue *cr_test_dv(const cr_value *v)
{
    if (v == NULL)
        return NULL;
    Tfplugin6__DynamicValue *d = malloc(sizeof *d);
    assert_non_null(d);
    tfplugin6__dynamic_value__init(d);
    void *buf = NULL;
    size_t len = 0;
    assert_int_equal(cr_value_encode_msgpack(v, &buf, &len), 0);
    d->msgpack.data = buf;
    d->msgpack.len = len;
    return d;
}

void cr_test_dv_free(Tfplugin6__DynamicValue *d)
{
    if (d != NULL) {
        free(d->msgpack.data);
        free(d);
    }
}

cr_value *cr_test_undv(const Tfplugin6__DynamicValue *d, const cr_type *t)
{
    if (d == NULL)
        return NULL;
    cr_diags diags = CR_DIAGS_INIT;
    cr_value *v = cr_value_decode_msgpack(d->msgpack.data, d->msgpack.len, t,
                                          &diags);
    if (cr_diags_has_error(&diags))
        cr_test_print_diags(&diags);
    assert_false(cr_diags_has_error(&diags));
    cr_diags_free(&diags);
    assert_non_null(v);
    if (v->kind == CR_NULL) {
        cr_value_free(v);
        return NULL;
    }
    return v;
}

const cr_type *cr_test_type(const cr_schema *s)
{
    const cr_type *t = cr_schema_type(s);
    assert_non_null(t);
    return t;
}

const cr_type *cr_test_attr_type(const cr_type *t, const char *name)
{
    long i = cr_type_attr_index(t, name);
    if (i < 0)
        fail_msg("no attribute %s", name);
    return t->attrs[i].type;
}

void cr_test_set(cr_value *o, const char *name, cr_value *v)
{
    assert_non_null(v);
    assert_int_equal(cr_value_object_set(o, name, v), 0);
}

void cr_test_set_str(cr_value *o, const char *name, const char *s)
{
    cr_test_set(o, name, s ? cr_value_string(s)
                           : cr_value_null(cr_test_attr_type(o->type, name)));
}

static bool is_null(const cr_value *v)
{
    return v == NULL || v->kind == CR_NULL;
}

/* ProposedNew for one object of schema s, both values known objects. */
static cr_value *proposed_object(const cr_schema *s, const cr_value *cfg,
                                 const cr_value *prior)
{
    cr_value *o = cr_value_copy(cfg);
    assert_non_null(o);
    if (cfg->kind != CR_OBJECT || is_null(prior) || prior->kind != CR_OBJECT)
        return o;
    for (size_t i = 0; i < s->nattrs; i++) {
        const cr_attr_schema *a = &s->attrs[i];
        const cr_value *c = cr_value_get(cfg, a->name);
        const cr_value *pv = cr_value_get(prior, a->name);
        if ((a->flags & CR_ATTR_COMPUTED) && is_null(c)) {
            cr_test_set(o, a->name, cr_value_copy(pv));
            continue;
        }
        if (!a->nested || is_null(c) || is_null(pv))
            continue;
        if (a->nested_mode == CR_NEST_SINGLE) {
            cr_test_set(o, a->name, proposed_object(a->nested, c, pv));
        } else if (a->nested_mode == CR_NEST_MAP && c->kind == CR_MAP) {
            cr_value *m = cr_value_collection(c->type);
            assert_non_null(m);
            for (size_t k = 0; k < c->u.coll.len; k++) {
                const cr_value *ce = c->u.coll.items[k];
                const cr_value *pe = cr_value_get(pv, c->u.coll.keys[k]);
                cr_value *e = pe && !is_null(ce)
                                  ? proposed_object(a->nested, ce, pe)
                                  : cr_value_copy(ce);
                assert_non_null(e);
                assert_int_equal(cr_value_map_put(m, c->u.coll.keys[k], e),
                                 0);
            }
            cr_test_set(o, a->name, m);
        }
    }
    return o;
}

cr_value *cr_test_proposed(const cr_schema *s, const cr_value *cfg,
                           const cr_value *prior)
{
    return cfg ? proposed_object(s, cfg, prior) : NULL;
}

/* ---- diagnostics -------------------------------------------------------- */

size_t cr_test_count(const cr_diags *d, cr_diag_severity sev)
{
    size_t n = 0;
    for (size_t i = 0; i < d->len; i++)
        n += d->items[i].severity == sev;
    return n;
}

size_t cr_test_errors(const cr_diags *d)
{
    return cr_test_count(d, CR_DIAG_ERROR);
}

void cr_test_print_diags(const cr_diags *d)
{
    for (size_t i = 0; i < d->len; i++) {
        char *p = cr_path_format(&d->items[i].path);
        fprintf(stderr, "  diag %d at %s: %s: %s\n", d->items[i].severity,
                p ? p : "?", d->items[i].summary,
                d->items[i].detail ? d->items[i].detail : "");
        free(p);
    }
}

const cr_diag *cr_test_find_diag(const cr_diags *d, const char *summary)
{
    for (size_t i = 0; i < d->len; i++)
        if (strcmp(d->items[i].summary, summary) == 0)
            return &d->items[i];
    cr_test_print_diags(d);
    fail_msg("no diagnostic \"%s\"", summary);
    return NULL;
}

bool cr_test_diag_at(const cr_diags *d, const char *path)
{
    for (size_t i = 0; i < d->len; i++) {
        char *p = cr_path_format(&d->items[i].path);
        bool ok = p && strcmp(p, path) == 0;
        free(p);
        if (ok)
            return true;
    }
    cr_test_print_diags(d);
    fprintf(stderr, "no diagnostic at %s\n", path);
    return false;
}

void cr_test_assert_contains(const char *hay, const char *needle)
{
    if (!hay || !strstr(hay, needle))
        fail_msg("expected \"%s\" in \"%s\"", needle, hay ? hay : "(null)");
}

size_t cr_test_pb_errors(Tfplugin6__Diagnostic *const *d, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += d[i]->severity == TFPLUGIN6__DIAGNOSTIC__SEVERITY__ERROR;
    return k;
}

void cr_test_print_pb_diags(Tfplugin6__Diagnostic *const *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "  diag %d: %s: %s\n", d[i]->severity, d[i]->summary,
                d[i]->detail);
}

/* ---- a temporary directory with a routing map --------------------------- */

void cr_test_dir_make(cr_test_dir *d, const char *tag)
{
    int n = snprintf(d->path, sizeof d->path, "/tmp/cr-%s-XXXXXX", tag);
    assert_true(n > 0 && (size_t)n < sizeof d->path);
    assert_non_null(mkdtemp(d->path));
    n = snprintf(d->db, sizeof d->db, "%s/map.db", d->path);
    assert_true(n > 0 && (size_t)n < sizeof d->db);
}

void cr_test_dir_remove(cr_test_dir *d)
{
    static const char *const files[] = { "map.db", "map.db-wal",
                                         "map.db-shm", "map.db-journal" };
    char path[sizeof d->path + 32];

    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", d->path, files[i]);
        unlink(path);
    }
    assert_int_equal(rmdir(d->path), 0);
}

/* ---- a resource against a real routing map ------------------------------ */

cr_test_rfx *cr_test_rfx_new(const char *tag, const char *type_name)
{
    cr_test_rfx *fx = calloc(1, sizeof *fx);
    cr_store_err err;
    assert_non_null(fx);
    cr_test_dir_make(&fx->tmp, tag);
    assert_int_equal(cr_store_sqlite_open(fx->tmp.db, &fx->p.store, &err),
                     CR_STORE_OK);
    assert_int_equal(cr_store_sqlite_open(fx->tmp.db, &fx->oob, &err),
                     CR_STORE_OK);
    fx->type = cr_resource_find(type_name);
    assert_non_null(fx->type);
    return fx;
}

void cr_test_rfx_free(cr_test_rfx *fx)
{
    cr_provider_close(&fx->p);
    cr_store_close(fx->oob);
    cr_test_dir_remove(&fx->tmp);
    free(fx);
}

/* The bytes Terraform holds (NULL: none), as a request carries them. */
static cr_bytes priv_in(const cr_private *priv)
{
    return priv ? (cr_bytes){ priv->data, priv->len } : (cr_bytes){ NULL, 0 };
}

/* What Terraform keeps after a response: the resource's bytes when it set
 * them, else what it had. */
static void priv_keep(cr_private *priv, cr_private *answered)
{
    if (priv && answered->set) {
        free(priv->data);
        *priv = *answered;
        priv->set = false;
        memset(answered, 0, sizeof *answered);
    }
    cr_private_clear(answered);
}

void cr_test_read_p(const cr_resource_type *rt, cr_provider_state *p,
                    const cr_value *state, cr_private *priv,
                    cr_value **new_state, cr_diags *d)
{
    cr_read_req req = { state, priv_in(priv) };
    cr_read_resp resp = { NULL, CR_DIAGS_INIT, {NULL, 0, false} };
    cr_resource_read(rt, p, &req, &resp);
    *new_state = resp.new_state;
    cr_diags_move(d, &resp.diags);
    priv_keep(priv, &resp.priv);
}

void cr_test_read(const cr_resource_type *rt, cr_provider_state *p,
                  const cr_value *state, cr_value **new_state, cr_diags *d)
{
    cr_test_read_p(rt, p, state, NULL, new_state, d);
}

void cr_test_import_p(const cr_resource_type *rt, cr_provider_state *p,
                      const char *id, cr_private *priv, cr_value **state,
                      cr_diags *d)
{
    cr_import_req req = { .id = id };
    cr_import_resp resp = { NULL, CR_DIAGS_INIT, {NULL, 0, false} };
    cr_resource_import(rt, p, &req, &resp);
    *state = resp.state;
    cr_diags_move(d, &resp.diags);
    if (priv)
        cr_private_clear(priv);
    priv_keep(priv, &resp.priv);
}

void cr_test_import(const cr_resource_type *rt, cr_provider_state *p,
                    const char *id, cr_value **state, cr_diags *d)
{
    cr_test_import_p(rt, p, id, NULL, state, d);
}

/* ---- the framework's steps on a fixture ---------------------------------- */

void cr_test_plan(cr_test_rfx *fx, const cr_value *prior, const cr_value *cfg,
                  cr_plan_resp *resp)
{
    cr_test_plan_p(fx, prior, NULL, cfg, resp);
}

void cr_test_plan_p(cr_test_rfx *fx, const cr_value *prior,
                    const cr_private *priv, const cr_value *cfg,
                    cr_plan_resp *resp)
{
    const cr_schema *s = fx->type->schema;
    cr_value *prop = cr_test_proposed(s, cfg, prior);
    cr_plan_req req = { prior, prop, cfg, NULL, priv_in(priv) };
    memset(resp, 0, sizeof *resp);
    cr_resource_plan(fx->type, &fx->p, &req, resp);
    if (resp->planned && !cr_test_errors(&resp->diags))
        cr_rpc_check_plan(s, prior, cfg, resp->planned, &resp->diags);
    cr_value_free(prop);
}

cr_value *cr_test_apply(cr_test_rfx *fx, const cr_value *prior,
                        const cr_value *planned, const cr_value *cfg,
                        cr_diags *d)
{
    return cr_test_apply_p(fx, prior, planned, cfg, NULL, d);
}

cr_value *cr_test_apply_p(cr_test_rfx *fx, const cr_value *prior,
                          const cr_value *planned, const cr_value *cfg,
                          cr_private *priv, cr_diags *d)
{
    cr_apply_req req = { prior, planned, cfg, priv_in(priv) };
    cr_apply_resp resp;
    memset(&resp, 0, sizeof resp);
    cr_resource_apply(fx->type, &fx->p, &req, &resp);
    cr_diags_move(d, &resp.diags);
    priv_keep(priv, &resp.priv);
    return resp.new_state;
}

cr_value *cr_test_converge(cr_test_rfx *fx, const cr_value *prior,
                           const cr_value *cfg)
{
    cr_private priv = {NULL, 0, false};
    cr_value *st = cr_test_converge_p(fx, prior, &priv, cfg);
    cr_private_clear(&priv);
    return st;
}

cr_value *cr_test_converge_p(cr_test_rfx *fx, const cr_value *prior,
                             cr_private *priv, const cr_value *cfg)
{
    cr_plan_resp pr;
    cr_diags d = CR_DIAGS_INIT;
    cr_test_plan_p(fx, prior, priv, cfg, &pr);
    if (cr_test_errors(&pr.diags))
        cr_test_print_diags(&pr.diags);
    assert_int_equal(cr_test_errors(&pr.diags), 0);
    /* Apply gets the plan's private state: the resource's, or the prior's
     * echoed. */
    if (pr.priv.set) {
        free(priv->data);
        priv->data = pr.priv.data;
        priv->len = pr.priv.len;
        memset(&pr.priv, 0, sizeof pr.priv);
    }
    cr_value *st = cr_test_apply_p(fx, prior, pr.planned, cfg, priv, &d);
    if (pr.planned)
        cr_rpc_check_apply(pr.planned, st, &d);
    else
        assert_null(st);
    if (cr_test_errors(&d))
        cr_test_print_diags(&d);
    assert_int_equal(cr_test_errors(&d), 0);
    cr_diags_free(&d);
    cr_plan_resp_free(&pr);
    return st;
}

cr_entry *cr_test_map_get(cr_store *s, const char *tid)
{
    cr_entry *e = NULL;
    cr_store_err err;
    assert_int_equal(cr_store_get(s, tid, &e, &err), CR_STORE_OK);
    return e;
}

void cr_test_map_set_cell(cr_store *s, const char *tid, const char *cell)
{
    cr_entry *e = cr_test_map_get(s, tid);
    cr_store_err err;
    assert_non_null(e);
    free(e->cell_id);
    e->cell_id = strdup(cell);
    assert_non_null(e->cell_id);
    free(e->standby_cell_id);
    free(e->standby_endpoint);
    e->standby_cell_id = e->standby_endpoint = NULL;
    assert_int_equal(cr_store_put(s, e, CR_VERSION_ANY, NULL, &err),
                     CR_STORE_OK);
    cr_entry_free(e);
}

/* ---- a provider against a temporary directory ---------------------------- */

cr_test_pfx *cr_test_pfx_new(const char *tag)
{
    cr_test_pfx *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    cr_test_dir_make(&fx->tmp, tag);
    fx->p = cr_rpc_provider_new();
    assert_non_null(fx->p);
    return fx;
}

void cr_test_pfx_free(cr_test_pfx *fx)
{
    cr_rpc_provider_free(fx->p);
    cr_test_dir_remove(&fx->tmp);
    free(fx);
}
