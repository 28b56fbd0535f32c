/*
 * tests/unit/test_identity_list.c — resource identity and list resources
 * (Terraform 1.12+ and 1.14+) through the tfplugin6 service, the way the
 * plugin server drives it: GetResourceIdentitySchemas (never an error),
 * UpgradeResourceIdentity, the identity of every read, plan, apply and
 * import answer, import by identity, the list schemas, and ListResource's
 * producer run message by message on a real SQLite map of 1,200 entries
 * (every event packed and unpacked as Terraform would read it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "resource/entry_value.h"
#include "rpc/internal.h"
#include "support/support.h"

typedef cr_test_pfx fixture;

static int setup(void **state)
{
    *state = cr_test_pfx_new("ident");
    return 0;
}

static int teardown(void **state)
{
    cr_test_pfx_free(*state);
    return 0;
}

static void resp_free(void *m)
{
    protobuf_c_message_free_unpacked(m, NULL);
}

static const cr_resource_type *tenant_rt(void)
{
    const cr_resource_type *rt = cr_resource_find("cellrouter_tenant");
    assert_non_null(rt);
    return rt;
}

static const cr_type *T(void)
{
    return cr_test_type(tenant_rt()->schema);
}

static const cr_type *ID(void)
{
    return cr_test_type(tenant_rt()->identity_schema);
}

static const cr_type *LT(void)
{
    return cr_test_type(tenant_rt()->list_schema);
}

static void configure(fixture *fx)
{
    const cr_type *t = cr_schema_type(cr_provider_schema());
    cr_value *cfg = cr_value_object(t);
    assert_non_null(cfg);
    cr_test_set_str(cfg, "path", fx->tmp.db);
    Tfplugin6__ConfigureProvider__Request req =
        TFPLUGIN6__CONFIGURE_PROVIDER__REQUEST__INIT;
    req.terraform_version = "1.15.0";
    req.config = cr_test_dv(cfg);
    Tfplugin6__ConfigureProvider__Response *r =
        cr_test_invoke(fx->p, "ConfigureProvider", &req.base);
    assert_int_equal(cr_test_pb_errors(r->diagnostics, r->n_diagnostics), 0);
    resp_free(r);
    cr_test_dv_free(req.config);
    cr_value_free(cfg);
}

/* The tenant id of an identity answer; NULL when there is none. The
 * string is the value's, freed with it: copied into `buf`. */
static const char *identity_tid(const Tfplugin6__ResourceIdentityData *d,
                                char *buf, size_t n)
{
    if (d == NULL)
        return NULL;
    assert_non_null(d->identity_data);
    cr_value *v = cr_test_undv(d->identity_data, ID());
    assert_non_null(v);
    const cr_value *tid = cr_value_get(v, "tenant_id");
    assert_non_null(tid);
    if (tid->kind == CR_UNKNOWN)
        snprintf(buf, n, "<unknown>");
    else
        snprintf(buf, n, "%s", tid->u.str.ptr);
    cr_value_free(v);
    return buf;
}

static cr_value *tenant_config(const char *tid, const char *cell)
{
    cr_value *o = cr_value_object(T());
    assert_non_null(o);
    if (tid)
        cr_test_set_str(o, "tenant_id", tid);
    else
        cr_test_set(o, "tenant_id", cr_value_unknown(&cr_type_string));
    cr_test_set_str(o, "cell_id", cell);
    cr_test_set_str(o, "endpoint", "https://a.example.com");
    return o;
}

/* ---- identity schemas ------------------------------------------------------ */

static void test_identity_schemas(void **state)
{
    fixture *fx = *state;
    Tfplugin6__GetResourceIdentitySchemas__Request req =
        TFPLUGIN6__GET_RESOURCE_IDENTITY_SCHEMAS__REQUEST__INIT;
    /* Unconfigured, as Terraform calls it: never a diagnostic. */
    Tfplugin6__GetResourceIdentitySchemas__Response *r =
        cr_test_invoke(fx->p, "GetResourceIdentitySchemas", &req.base);
    assert_int_equal(r->n_diagnostics, 0);
    /* cellrouter_tenants has no identity: it is not listed. */
    assert_int_equal(r->n_identity_schemas, 2);
    size_t ti = !strcmp(r->identity_schemas[0]->key, "cellrouter_tenant")
                    ? 0 : 1;
    assert_string_equal(r->identity_schemas[ti]->key, "cellrouter_tenant");
    assert_string_equal(r->identity_schemas[1 - ti]->key, "cellrouter_cell");
    const Tfplugin6__ResourceIdentitySchema *cs =
        r->identity_schemas[1 - ti]->value;
    assert_int_equal(cs->n_identity_attributes, 1);
    assert_string_equal(cs->identity_attributes[0]->name, "cell_id");
    assert_true(cs->identity_attributes[0]->required_for_import);
    const Tfplugin6__ResourceIdentitySchema *s = r->identity_schemas[ti]->value;
    assert_int_equal(s->version, 0);
    assert_int_equal(s->n_identity_attributes, 1);
    const Tfplugin6__ResourceIdentitySchema__IdentityAttribute *a =
        s->identity_attributes[0];
    assert_string_equal(a->name, "tenant_id");
    assert_int_equal(a->type.len, strlen("\"string\""));
    assert_memory_equal(a->type.data, "\"string\"", a->type.len);
    assert_true(a->required_for_import);
    assert_false(a->optional_for_import);
    assert_true(strlen(a->description) > 10);
    resp_free(r);

    /* Every registered type passes Terraform's identity rules. */
    size_t n = 0;
    const cr_resource_type *const *all = cr_resources(&n);
    for (size_t i = 0; i < n; i++) {
        cr_diags d = CR_DIAGS_INIT;
        cr_rpc_identity_schema_check(all[i], &d);
        if (d.len)
            cr_test_print_diags(&d);
        assert_int_equal(d.len, 0);
        cr_diags_free(&d);
    }
}

/* What Terraform would refuse, found by the check GetProviderSchema runs
 * (so GetResourceIdentitySchemas never has to fail on it). */
static const cr_attr_schema bad_attrs[] = {
    { .name = "name", .type = &cr_type_string, .flags = CR_ATTR_REQUIRED,
      .description = "x" },
    { .name = "tags", .type = &cr_ev_map_of_string, .flags = CR_ATTR_OPTIONAL,
      .description = "x" },
};
static const cr_schema bad_state = { .nattrs = 2, .attrs = bad_attrs };
static const cr_attr_schema bad_id_attrs[] = {
    { .name = "name", .type = &cr_type_string,
      .flags = CR_ATTR_REQUIRED | CR_ATTR_OPTIONAL, .description = "x" },
    { .name = "tags", .type = &cr_ev_map_of_string, .flags = CR_ATTR_REQUIRED,
      .description = "x" },
    { .name = "other", .type = &cr_type_string, .flags = CR_ATTR_REQUIRED,
      .description = "x" },
};
static const cr_schema bad_identity = {
    .version = -1, .nattrs = 3, .attrs = bad_id_attrs,
};

static void test_identity_schema_check(void **state)
{
    (void)state;
    cr_resource_type rt = { .type_name = "cellrouter_bad", .schema = &bad_state,
                            .identity_schema = &bad_identity };
    cr_diags d = CR_DIAGS_INIT;
    cr_rpc_identity_schema_check(&rt, &d);
    assert_non_null(cr_test_find_diag(&d, "Invalid provider schema"));
    char all[4096] = "";
    for (size_t i = 0; i < d.len; i++)
        strncat(all, d.items[i].detail, sizeof all - strlen(all) - 1);
    cr_test_assert_contains(all, "version must be >= 0");
    cr_test_assert_contains(all, "\"name\": an identity attribute is "
                            "required or optional for import, not both");
    cr_test_assert_contains(all, "\"tags\": an identity attribute is of a "
                            "primitive or list type");
    cr_test_assert_contains(all, "\"other\": an identity attribute is an "
                            "attribute of the same type");
    cr_diags_free(&d);

    /* A list resource without an identity. */
    cr_resource_type lr = { .type_name = "cellrouter_bad", .schema = &bad_state,
                            .list_schema = &bad_state };
    cr_rpc_identity_schema_check(&lr, &d);
    assert_int_equal(cr_test_errors(&d), 1);
    cr_test_assert_contains(d.items[0].detail, "needs an identity schema");
    cr_diags_free(&d);
}

static Tfplugin6__UpgradeResourceIdentity__Response *
upgrade(fixture *fx, const char *type, int64_t version, const char *json)
{
    Tfplugin6__UpgradeResourceIdentity__Request req =
        TFPLUGIN6__UPGRADE_RESOURCE_IDENTITY__REQUEST__INIT;
    Tfplugin6__RawState raw = TFPLUGIN6__RAW_STATE__INIT;
    req.type_name = (char *)type;
    req.version = version;
    raw.json.data = (uint8_t *)json;
    raw.json.len = strlen(json);
    req.raw_identity = &raw;
    return cr_test_invoke(fx->p, "UpgradeResourceIdentity", &req.base);
}

static void test_upgrade_identity(void **state)
{
    fixture *fx = *state;
    char buf[64];
    Tfplugin6__UpgradeResourceIdentity__Response *r =
        upgrade(fx, "cellrouter_tenant", 0, "{\"tenant_id\":\"acme\"}");
    assert_int_equal(r->n_diagnostics, 0);
    assert_string_equal(identity_tid(r->upgraded_identity, buf, sizeof buf),
                        "acme");
    resp_free(r);
    /* No identity stored: none comes back, no error. */
    r = upgrade(fx, "cellrouter_tenant", 0, "");
    assert_int_equal(r->n_diagnostics, 0);
    assert_null(r->upgraded_identity);
    resp_free(r);
    static const struct { const char *type; int64_t v; const char *json,
                                                          *says; } bad[] = {
        {"cellrouter_tenant", 1, "{\"tenant_id\":\"a\"}", "newer version"},
        {"cellrouter_tenant", 0, "{\"tenant_id\":[1]}", ""},
        {"cellrouter_tenant", 0, "{\"tenant\":", ""},
        {"cellrouter_tenants", 0, "{\"name\":\"a\"}", "no identity"},
        {"cellrouter_nope", 0, "{}", "no resource type"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = upgrade(fx, bad[i].type, bad[i].v, bad[i].json);
        assert_true(cr_test_pb_errors(r->diagnostics, r->n_diagnostics) >= 1);
        assert_non_null(strstr(r->diagnostics[0]->detail, bad[i].says));
        assert_null(r->upgraded_identity);
        resp_free(r);
    }
}

/* ---- identities in answers -------------------------------------------------- */

static void test_identity_lifecycle(void **state)
{
    fixture *fx = *state;
    char buf[64];
    configure(fx);

    /* A create plan: known where tenant_id is, unknown where it is not. */
    cr_value *cfg = tenant_config("acme", "cell-a");
    Tfplugin6__PlanResourceChange__Response *pr =
        cr_test_rpc_plan(fx->p, "cellrouter_tenant", NULL, cfg, NULL);
    assert_int_equal(cr_test_pb_errors(pr->diagnostics, pr->n_diagnostics), 0);
    assert_string_equal(identity_tid(pr->planned_identity, buf, sizeof buf),
                        "acme");
    cr_value *planned = cr_test_undv(pr->planned_state, T());
    resp_free(pr);
    cr_value *ucfg = tenant_config(NULL, "cell-a");
    pr = cr_test_rpc_plan(fx->p, "cellrouter_tenant", NULL, ucfg, NULL);
    assert_string_equal(identity_tid(pr->planned_identity, buf, sizeof buf),
                        "<unknown>");
    resp_free(pr);
    cr_value_free(ucfg);

    /* Apply, read, no-change plan, import: always the same identity. */
    Tfplugin6__ApplyResourceChange__Response *ar =
        cr_test_rpc_apply(fx->p, "cellrouter_tenant", NULL, planned, cfg);
    assert_int_equal(cr_test_pb_errors(ar->diagnostics, ar->n_diagnostics), 0);
    assert_string_equal(identity_tid(ar->new_identity, buf, sizeof buf),
                        "acme");
    cr_value *s1 = cr_test_undv(ar->new_state, T());
    resp_free(ar);

    Tfplugin6__ReadResource__Request rreq =
        TFPLUGIN6__READ_RESOURCE__REQUEST__INIT;
    rreq.type_name = "cellrouter_tenant";
    rreq.current_state = cr_test_dv(s1);
    Tfplugin6__ReadResource__Response *rr =
        cr_test_invoke(fx->p, "ReadResource", &rreq.base);
    assert_string_equal(identity_tid(rr->new_identity, buf, sizeof buf),
                        "acme");
    resp_free(rr);

    pr = cr_test_rpc_plan(fx->p, "cellrouter_tenant", s1, cfg, NULL);
    assert_string_equal(identity_tid(pr->planned_identity, buf, sizeof buf),
                        "acme");
    resp_free(pr);
    /* A destroy plan keeps the object's identity; the destroy has none. */
    pr = cr_test_rpc_plan(fx->p, "cellrouter_tenant", s1, NULL, NULL);
    assert_string_equal(identity_tid(pr->planned_identity, buf, sizeof buf),
                        "acme");
    resp_free(pr);

    /* Import by ID, and by identity (id empty, as Terraform sends it). */
    Tfplugin6__ImportResourceState__Request ireq =
        TFPLUGIN6__IMPORT_RESOURCE_STATE__REQUEST__INIT;
    ireq.type_name = "cellrouter_tenant";
    ireq.id = "acme";
    Tfplugin6__ImportResourceState__Response *ir =
        cr_test_invoke(fx->p, "ImportResourceState", &ireq.base);
    assert_int_equal(ir->n_imported_resources, 1);
    assert_string_equal(identity_tid(ir->imported_resources[0]->identity, buf,
                                     sizeof buf), "acme");
    resp_free(ir);

    cr_value *ident = cr_value_object(ID());
    cr_test_set_str(ident, "tenant_id", "acme");
    Tfplugin6__ResourceIdentityData idd =
        TFPLUGIN6__RESOURCE_IDENTITY_DATA__INIT;
    idd.identity_data = cr_test_dv(ident);
    ireq.id = "";
    ireq.identity = &idd;
    ir = cr_test_invoke(fx->p, "ImportResourceState", &ireq.base);
    assert_int_equal(cr_test_pb_errors(ir->diagnostics, ir->n_diagnostics), 0);
    assert_int_equal(ir->n_imported_resources, 1);
    assert_string_equal(identity_tid(ir->imported_resources[0]->identity, buf,
                                     sizeof buf), "acme");
    cr_value *imp = cr_test_undv(ir->imported_resources[0]->state, T());
    assert_string_equal(cr_value_get_str(imp, "tenant_id"), "acme");
    cr_value_free(imp);
    resp_free(ir);
    cr_test_dv_free(idd.identity_data);

    /* An identity without its required tenant_id, or an invalid one. */
    cr_test_set(ident, "tenant_id", cr_value_null(&cr_type_string));
    idd.identity_data = cr_test_dv(ident);
    ir = cr_test_invoke(fx->p, "ImportResourceState", &ireq.base);
    assert_int_equal(ir->n_imported_resources, 0);
    assert_non_null(strstr(ir->diagnostics[0]->summary,
                           "Missing identity attribute"));
    resp_free(ir);
    cr_test_dv_free(idd.identity_data);
    cr_test_set_str(ident, "tenant_id", "-bad");
    idd.identity_data = cr_test_dv(ident);
    ir = cr_test_invoke(fx->p, "ImportResourceState", &ireq.base);
    assert_int_equal(ir->n_imported_resources, 0);
    assert_string_equal(ir->diagnostics[0]->summary, "Invalid import identity");
    resp_free(ir);
    cr_test_dv_free(idd.identity_data);
    cr_value_free(ident);

    ar = cr_test_rpc_apply(fx->p, "cellrouter_tenant", s1, NULL, NULL);
    assert_int_equal(cr_test_pb_errors(ar->diagnostics, ar->n_diagnostics), 0);
    assert_null(ar->new_identity);
    resp_free(ar);
    cr_test_dv_free(rreq.current_state);
    cr_value_free(s1);
    cr_value_free(planned);
    cr_value_free(cfg);
}

/* cellrouter_tenants has no identity: none in any answer, and an import
 * by identity is refused. */
static void test_tenants_have_no_identity(void **state)
{
    fixture *fx = *state;
    configure(fx);
    const cr_resource_type *rt = cr_resource_find("cellrouter_tenants");
    assert_non_null(rt);
    assert_null(rt->identity_schema);
    const cr_type *t = cr_test_type(rt->schema);
    cr_value *cfg = cr_value_object(t);
    cr_test_set_str(cfg, "name", "fleet");
    cr_value *tenants = cr_value_collection(cr_test_attr_type(t, "tenants"));
    cr_value *one = cr_value_object(cr_test_attr_type(t, "tenants")->elem);
    cr_test_set_str(one, "cell_id", "cell-a");
    cr_test_set_str(one, "endpoint", "https://a.example.com");
    assert_int_equal(cr_value_map_put(tenants, "t1", one), 0);
    cr_test_set(cfg, "tenants", tenants);
    Tfplugin6__PlanResourceChange__Response *pr =
        cr_test_rpc_plan(fx->p, "cellrouter_tenants", NULL, cfg, NULL);
    assert_int_equal(cr_test_pb_errors(pr->diagnostics, pr->n_diagnostics), 0);
    assert_null(pr->planned_identity);
    cr_value *planned = cr_test_undv(pr->planned_state, t);
    resp_free(pr);
    Tfplugin6__ApplyResourceChange__Response *ar =
        cr_test_rpc_apply(fx->p, "cellrouter_tenants", NULL, planned, cfg);
    assert_int_equal(cr_test_pb_errors(ar->diagnostics, ar->n_diagnostics), 0);
    assert_null(ar->new_identity);
    resp_free(ar);

    cr_value *ident = cr_value_object(ID());
    cr_test_set_str(ident, "tenant_id", "t1");
    Tfplugin6__ResourceIdentityData idd =
        TFPLUGIN6__RESOURCE_IDENTITY_DATA__INIT;
    idd.identity_data = cr_test_dv(ident);
    Tfplugin6__ImportResourceState__Request ireq =
        TFPLUGIN6__IMPORT_RESOURCE_STATE__REQUEST__INIT;
    ireq.type_name = "cellrouter_tenants";
    ireq.id = "";
    ireq.identity = &idd;
    Tfplugin6__ImportResourceState__Response *ir =
        cr_test_invoke(fx->p, "ImportResourceState", &ireq.base);
    assert_int_equal(ir->n_imported_resources, 0);
    assert_string_equal(ir->diagnostics[0]->summary,
                        "Resource Identity Not Supported");
    resp_free(ir);
    cr_test_dv_free(idd.identity_data);
    cr_value_free(ident);
    cr_value_free(planned);
    cr_value_free(cfg);
}

/* ---- list schemas ------------------------------------------------------------ */

static void test_list_schema(void **state)
{
    fixture *fx = *state;
    Tfplugin6__GetProviderSchema__Request req =
        TFPLUGIN6__GET_PROVIDER_SCHEMA__REQUEST__INIT;
    Tfplugin6__GetProviderSchema__Response *r =
        cr_test_invoke(fx->p, "GetProviderSchema", &req.base);
    assert_int_equal(r->n_diagnostics, 0);
    assert_int_equal(r->n_list_resource_schemas, 1);
    assert_string_equal(r->list_resource_schemas[0]->key, "cellrouter_tenant");
    const Tfplugin6__Schema__Block *b = r->list_resource_schemas[0]->value->block;
    assert_int_equal(b->n_attributes, 3);
    static const char *const names[] = {"cell_id", "tenant_id_prefix",
                                        "labels"};
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(b->attributes[i]->name, names[i]);
        assert_true(b->attributes[i]->optional);
        assert_false(b->attributes[i]->required || b->attributes[i]->computed);
    }
    assert_true(strlen(b->description) > 20);
    resp_free(r);

    Tfplugin6__GetMetadata__Request mreq =
        TFPLUGIN6__GET_METADATA__REQUEST__INIT;
    Tfplugin6__GetMetadata__Response *m =
        cr_test_invoke(fx->p, "GetMetadata", &mreq.base);
    assert_int_equal(m->n_list_resources, 1);
    assert_string_equal(m->list_resources[0]->type_name, "cellrouter_tenant");
    resp_free(m);
}

static Tfplugin6__ValidateListResourceConfig__Response *
validate_list(fixture *fx, const char *type, const cr_value *cfg)
{
    Tfplugin6__ValidateListResourceConfig__Request req =
        TFPLUGIN6__VALIDATE_LIST_RESOURCE_CONFIG__REQUEST__INIT;
    req.type_name = (char *)type;
    req.config = cr_test_dv(cfg);
    Tfplugin6__ValidateListResourceConfig__Response *r =
        cr_test_invoke(fx->p, "ValidateListResourceConfig", &req.base);
    cr_test_dv_free(req.config);
    return r;
}

static cr_value *list_config(const char *cell, const char *prefix,
                             const char *label_k, const char *label_v)
{
    cr_value *o = cr_value_object(LT());
    assert_non_null(o);
    if (cell)
        cr_test_set_str(o, "cell_id", cell);
    if (prefix)
        cr_test_set_str(o, "tenant_id_prefix", prefix);
    if (label_k) {
        cr_value *m = cr_value_collection(&cr_ev_map_of_string);
        assert_int_equal(cr_value_map_put(m, label_k,
                             label_v ? cr_value_string(label_v)
                                     : cr_value_unknown(&cr_type_string)), 0);
        cr_test_set(o, "labels", m);
    }
    return o;
}

static void test_validate_list(void **state)
{
    fixture *fx = *state;
    static const struct { const char *cell, *prefix, *lk, *lv, *err; } cases[] = {
        {NULL, NULL, NULL, NULL, NULL},
        {"cell-1", "t-", "tier", "gold", NULL},
        {"cell-1", NULL, "tier", NULL, NULL},           /* unknown value */
        {"Cell_1", NULL, NULL, NULL, "Invalid cell_id"},
        {NULL, "-x", NULL, NULL, "Invalid tenant_id_prefix"},
        {NULL, NULL, "cellrouter.owner", "fleet", "reserved"},
        {NULL, NULL, "", "x", "Invalid label"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_value *cfg = list_config(cases[i].cell, cases[i].prefix,
                                    cases[i].lk, cases[i].lv);
        Tfplugin6__ValidateListResourceConfig__Response *r =
            validate_list(fx, "cellrouter_tenant", cfg);
        size_t errs = cr_test_pb_errors(r->diagnostics, r->n_diagnostics);
        if (cases[i].err == NULL) {
            assert_int_equal(errs, 0);
        } else {
            assert_int_equal(errs, 1);
            if (!strstr(r->diagnostics[0]->summary, cases[i].err))
                cr_test_assert_contains(r->diagnostics[0]->detail,
                                        cases[i].err);
            assert_non_null(r->diagnostics[0]->attribute);
        }
        resp_free(r);
        cr_value_free(cfg);
    }
    cr_value *cfg = list_config(NULL, NULL, NULL, NULL);
    Tfplugin6__ValidateListResourceConfig__Response *r =
        validate_list(fx, "cellrouter_tenants", cfg);
    assert_string_equal(r->diagnostics[0]->summary,
                        "Unknown list resource type");
    resp_free(r);
    cr_value_free(cfg);
}

/* ---- ListResource --------------------------------------------------------- */

/* The events of one ListResource call, as Terraform reads them. */
typedef struct events {
    size_t n, errors;
    char **tids;                /* identity tenant_id per event (or NULL) */
    char **names;
    cr_value **objects;         /* NULL unless sent */
    char first_error[512];
    int status;
    cr_stream_end why;
} events;

static void events_free(events *e)
{
    for (size_t i = 0; i < e->n; i++) {
        free(e->tids[i]);
        free(e->names[i]);
        cr_value_free(e->objects[i]);
    }
    free(e->tids);
    free(e->names);
    free(e->objects);
    memset(e, 0, sizeof *e);
}

/* Runs the producer as the server does, packing and unpacking each event;
 * `stop_after` > 0 sets p->stopping once that many events came, and
 * `cancel_after` > 0 ends the stream there as a cancelled call does. */
static void list_run(fixture *fx, const char *type, const cr_value *cfg,
                     bool include, int64_t limit, size_t stop_after,
                     size_t cancel_after, events *out)
{
    const cr_method *m = cr_rpc_method("ListResource");
    memset(out, 0, sizeof *out);
    Tfplugin6__ListResource__Request req =
        TFPLUGIN6__LIST_RESOURCE__REQUEST__INIT;
    req.type_name = (char *)type;
    req.config = cr_test_dv(cfg);
    req.include_resource_object = include;
    req.limit = limit;
    size_t len = protobuf_c_message_get_packed_size(&req.base);
    uint8_t *buf = malloc(len + 1);
    protobuf_c_message_pack(&req.base, buf);
    ProtobufCMessage *in = protobuf_c_message_unpack(m->request_desc, NULL,
                                                     len, buf);
    free(buf);
    cr_test_dv_free(req.config);

    cr_call *call = cr_call_new_detached(fx->p);
    void *st = NULL;
    const char *msg = NULL;
    out->status = m->producer->start(call, in, &st, &msg);
    out->why = CR_STREAM_DONE;
    while (out->status == GRPC_STATUS_OK) {
        if (cancel_after && out->n == cancel_after) {
            out->why = CR_STREAM_CANCELLED;
            break;
        }
        ProtobufCMessage *ev = NULL;
        out->status = m->producer->next(call, st, &ev, &msg);
        if (out->status != GRPC_STATUS_OK || ev == NULL)
            break;
        len = protobuf_c_message_get_packed_size(ev);
        buf = malloc(len + 1);
        protobuf_c_message_pack(ev, buf);
        Tfplugin6__ListResource__Event *e = (void *)protobuf_c_message_unpack(
            &tfplugin6__list_resource__event__descriptor, NULL, len, buf);
        free(buf);
        assert_non_null(e);
        out->errors += cr_test_pb_errors(e->diagnostic, e->n_diagnostic);
        if (e->n_diagnostic && !out->first_error[0])
            snprintf(out->first_error, sizeof out->first_error, "%s: %s",
                     e->diagnostic[0]->summary, e->diagnostic[0]->detail);
        if (e->identity != NULL) {
            size_t k = out->n++;
            out->tids = realloc(out->tids, out->n * sizeof *out->tids);
            out->names = realloc(out->names, out->n * sizeof *out->names);
            out->objects = realloc(out->objects, out->n * sizeof *out->objects);
            char tb[600];
            out->tids[k] = strdup(identity_tid(e->identity, tb, sizeof tb));
            out->names[k] = strdup(e->display_name);
            out->objects[k] = e->resource_object
                                  ? cr_test_undv(e->resource_object, T())
                                  : NULL;
        }
        protobuf_c_message_free_unpacked(&e->base, NULL);
        if (stop_after && out->n == stop_after)
            fx->p->state.stopping = 1;
    }
    m->producer->end(st, out->why);
    fx->p->state.stopping = 0;
    cr_call_free_detached(call);
    protobuf_c_message_free_unpacked(in, NULL);
}

#define NMAP 1200

/* t0000 .. t1199: cell-(i%4); every 3rd one has cell-9 as standby; every
 * 5th is tier=gold; every 100th is a fleet's (owner tag). */
static void seed(fixture *fx)
{
    cr_store *s = fx->p->state.store;
    assert_non_null(s);
    cr_entry *es = calloc(NMAP, sizeof *es);
    cr_batch_op *ops = calloc(NMAP, sizeof *ops);
    char buf[64];
    for (int i = 0; i < NMAP; i++) {
        cr_entry *e = &es[i];
        snprintf(buf, sizeof buf, "t%04d", i);
        e->tenant_id = strdup(buf);
        snprintf(buf, sizeof buf, "cell-%d", i % 4);
        e->cell_id = strdup(buf);
        e->endpoint = strdup("https://e.example.com");
        if (i % 3 == 0) {
            e->standby_cell_id = strdup("cell-9");
            e->standby_endpoint = strdup("https://s.example.com");
        }
        if (i % 5 == 0)
            assert_int_equal(cr_entry_set_label(e, "tier", "gold"), 0);
        if (i % 100 == 7)
            assert_int_equal(cr_entry_set_label(e, CR_OWNER_LABEL, "fleet"), 0);
        ops[i] = (cr_batch_op){ .kind = CR_BATCH_PUT, .entry = e,
                                .expect = CR_VERSION_ABSENT };
    }
    cr_store_err err;
    for (size_t at = 0; at < NMAP; at += 1000) {
        size_t n = NMAP - at < 1000 ? NMAP - at : 1000;
        assert_int_equal(cr_store_batch(s, ops + at, n, &err), CR_STORE_OK);
    }
    for (int i = 0; i < NMAP; i++)
        cr_entry_clear(&es[i]);
    free(es);
    free(ops);
}

/* Which of t0000..t1199 a filter finds, by the seed's rules. */
static size_t expect_ids(const char *cell, const char *prefix, bool gold,
                         char ids[][16])
{
    size_t n = 0;
    for (int i = 0; i < NMAP; i++) {
        char tid[16], c[16];
        snprintf(tid, sizeof tid, "t%04d", i);
        snprintf(c, sizeof c, "cell-%d", i % 4);
        if (i % 100 == 7)
            continue;
        if (cell && strcmp(cell, c) != 0 &&
            !(i % 3 == 0 && strcmp(cell, "cell-9") == 0))
            continue;
        if (prefix && strncmp(tid, prefix, strlen(prefix)) != 0)
            continue;
        if (gold && i % 5 != 0)
            continue;
        memcpy(ids[n++], tid, sizeof tid);
    }
    return n;
}

static void test_list_filters(void **state)
{
    fixture *fx = *state;
    configure(fx);
    seed(fx);
    static char want[NMAP][16];
    static const struct { const char *cell, *prefix; bool gold; } cases[] = {
        {NULL, NULL, false},            /* every entry but the fleet's */
        {"cell-1", NULL, false},        /* primary */
        {"cell-9", NULL, false},        /* standby */
        {NULL, "t05", false},
        {NULL, NULL, true},
        {"cell-0", "t1", true},         /* all three */
        {"cell-7", NULL, false},        /* nothing */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        cr_value *cfg = list_config(cases[c].cell, cases[c].prefix,
                                    cases[c].gold ? "tier" : NULL, "gold");
        events ev;
        list_run(fx, "cellrouter_tenant", cfg, false, 100000, 0, 0, &ev);
        size_t n = expect_ids(cases[c].cell, cases[c].prefix, cases[c].gold,
                              want);
        assert_int_equal(ev.status, GRPC_STATUS_OK);
        assert_int_equal(ev.errors, 0);
        assert_int_equal(ev.n, n);
        for (size_t i = 0; i < n; i++) {
            assert_string_equal(ev.tids[i], want[i]);
            assert_null(ev.objects[i]);     /* not asked for */
            assert_memory_equal(ev.names[i], want[i], 5);
        }
        events_free(&ev);
        cr_value_free(cfg);
    }
}

/* Objects when asked, equal to what ReadResource answers after an import;
 * the limit is kept; display names say cell and standby. */
static void test_list_objects_and_limit(void **state)
{
    fixture *fx = *state;
    configure(fx);
    seed(fx);
    cr_value *cfg = list_config(NULL, NULL, NULL, NULL);
    events ev;
    list_run(fx, "cellrouter_tenant", cfg, true, 10, 0, 0, &ev);
    assert_int_equal(ev.n, 10);
    assert_string_equal(ev.names[0], "t0000 (cell-0, standby cell-9)");
    assert_string_equal(ev.names[1], "t0001 (cell-1)");
    for (size_t i = 0; i < ev.n; i++) {
        assert_non_null(ev.objects[i]);
        assert_true(cr_value_is_wholly_known(ev.objects[i]));
        Tfplugin6__ImportResourceState__Request ireq =
            TFPLUGIN6__IMPORT_RESOURCE_STATE__REQUEST__INIT;
        ireq.type_name = "cellrouter_tenant";
        ireq.id = ev.tids[i];
        Tfplugin6__ImportResourceState__Response *ir =
            cr_test_invoke(fx->p, "ImportResourceState", &ireq.base);
        Tfplugin6__ReadResource__Request rreq =
            TFPLUGIN6__READ_RESOURCE__REQUEST__INIT;
        rreq.type_name = "cellrouter_tenant";
        rreq.current_state = ir->imported_resources[0]->state;
        Tfplugin6__ReadResource__Response *rr =
            cr_test_invoke(fx->p, "ReadResource", &rreq.base);
        cr_value *read = cr_test_undv(rr->new_state, T());
        assert_true(cr_value_equal(read, ev.objects[i]));
        cr_value_free(read);
        resp_free(rr);
        resp_free(ir);
    }
    events_free(&ev);
    cr_value_free(cfg);
}

/* A stop between two events ends the listing with an error event; a
 * cancelled stream just ends (end is told, the cursor released). */
static void test_list_stop_and_cancel(void **state)
{
    fixture *fx = *state;
    configure(fx);
    seed(fx);
    cr_value *cfg = list_config(NULL, NULL, NULL, NULL);
    events ev;
    list_run(fx, "cellrouter_tenant", cfg, false, 100000, 600, 0, &ev);
    assert_int_equal(ev.n, 600);
    assert_int_equal(ev.errors, 1);
    cr_test_assert_contains(ev.first_error, "Listing stopped");
    events_free(&ev);
    list_run(fx, "cellrouter_tenant", cfg, false, 100000, 0, 3, &ev);
    assert_int_equal(ev.n, 3);
    assert_int_equal(ev.why, CR_STREAM_CANCELLED);
    events_free(&ev);
    cr_value_free(cfg);
}

/* Failures are one event with an error, then the end, status OK. */
static void test_list_errors(void **state)
{
    fixture *fx = *state;
    events ev;
    cr_value *cfg = list_config(NULL, NULL, NULL, NULL);
    /* Unconfigured. */
    list_run(fx, "cellrouter_tenant", cfg, false, 100, 0, 0, &ev);
    assert_int_equal(ev.status, GRPC_STATUS_OK);
    assert_int_equal(ev.n, 0);
    assert_int_equal(ev.errors, 1);
    cr_test_assert_contains(ev.first_error, "Provider not configured");
    events_free(&ev);
    configure(fx);
    /* No such list; a config that is invalid or not known. */
    list_run(fx, "cellrouter_tenants", cfg, false, 100, 0, 0, &ev);
    cr_test_assert_contains(ev.first_error, "Unknown list resource type");
    events_free(&ev);
    cr_value *bad = list_config("Cell_1", NULL, NULL, NULL);
    list_run(fx, "cellrouter_tenant", bad, false, 100, 0, 0, &ev);
    assert_int_equal(ev.errors, 1);
    cr_test_assert_contains(ev.first_error, "Invalid cell_id");
    events_free(&ev);
    cr_value_free(bad);
    cr_value *unk = list_config(NULL, NULL, "tier", NULL);
    list_run(fx, "cellrouter_tenant", unk, false, 100, 0, 0, &ev);
    cr_test_assert_contains(ev.first_error, "not known");
    events_free(&ev);
    cr_value_free(unk);
    /* An empty map: no events at all. */
    list_run(fx, "cellrouter_tenant", cfg, true, 100, 0, 0, &ev);
    assert_int_equal(ev.n, 0);
    assert_int_equal(ev.errors, 0);
    events_free(&ev);
    cr_value_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_identity_schemas, setup, teardown),
        cmocka_unit_test(test_identity_schema_check),
        cmocka_unit_test_setup_teardown(test_upgrade_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identity_lifecycle, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tenants_have_no_identity, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_list_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_objects_and_limit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_list_stop_and_cancel, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_list_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
