/*
 * tests/unit/test_rpc.c — the tfplugin6.Provider service, driven the way
 * the plugin server drives it.
 *
 * Each call goes through the method table by its gRPC path on a detached
 * cr_call of the real server (support/support.h): the request is packed and
 * unpacked as the server would, and the response is packed and unpacked
 * again, so what is checked is what Terraform would receive.
 *
 * The resource is the real cellrouter_tenant on a real SQLite routing map
 * in a temporary directory, configured through ConfigureProvider.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <cmocka.h>
#include <jansson.h>

#include "rpc/internal.h"
#include "support/support.h"

/* ---- fixture --------------------------------------------------------------- */

/* A provider and a temporary directory for its map (tests/unit/support). */
typedef cr_test_pfx fixture;

static int setup(void **state)
{
    *state = cr_test_pfx_new("rpc");
    return 0;
}

static int teardown(void **state)
{
    cr_test_pfx_free(*state);
    return 0;
}

/* ---- calling a method as the server does --------------------------------- */

static void *invoke(fixture *fx, const char *name, const ProtobufCMessage *req)
{
    return cr_test_invoke(fx->p, name, req);
}

static void resp_free(void *m)
{
    protobuf_c_message_free_unpacked(m, NULL);
}

/* ---- values --------------------------------------------------------------- */

static const cr_type *T(void)
{
    const cr_resource_type *rt = cr_resource_find("cellrouter_tenant");
    assert_non_null(rt);
    return cr_test_type(rt->schema);
}

static cr_value *tenant_config(const char *tid, const char *cell,
                               const char *ep)
{
    cr_value *o = cr_value_object(T());
    assert_non_null(o);
    cr_test_set_str(o, "tenant_id", tid);
    cr_test_set_str(o, "cell_id", cell);
    cr_test_set_str(o, "endpoint", ep);
    return o;
}

/* A DynamicValue of raw (hostile) bytes; freed with cr_test_dv_free. */
static Tfplugin6__DynamicValue *dv_raw(const void *bytes, size_t len)
{
    Tfplugin6__DynamicValue *d = malloc(sizeof *d);
    assert_non_null(d);
    tfplugin6__dynamic_value__init(d);
    d->msgpack.data = malloc(len);
    assert_non_null(d->msgpack.data);
    memcpy(d->msgpack.data, bytes, len);
    d->msgpack.len = len;
    return d;
}

#define assert_no_errors(r) do { \
        if (cr_test_pb_errors((r)->diagnostics, (r)->n_diagnostics)) \
            cr_test_print_pb_diags((r)->diagnostics, (r)->n_diagnostics); \
        assert_int_equal(cr_test_pb_errors((r)->diagnostics, \
                                           (r)->n_diagnostics), 0); \
    } while (0)

/* The error whose summary or detail contains `text`, or NULL. */
static const Tfplugin6__Diagnostic *find_error(Tfplugin6__Diagnostic **d,
                                               size_t n, const char *text)
{
    for (size_t i = 0; i < n; i++)
        if (d[i]->severity == TFPLUGIN6__DIAGNOSTIC__SEVERITY__ERROR &&
            (strstr(d[i]->summary, text) || strstr(d[i]->detail, text)))
            return d[i];
    return NULL;
}

/* True when the diagnostic's path is exactly the one attribute `name`. */
static bool path_is_attr(const Tfplugin6__Diagnostic *d, const char *name)
{
    return d->attribute && d->attribute->n_steps == 1 &&
           d->attribute->steps[0]->selector_case ==
               TFPLUGIN6__ATTRIBUTE_PATH__STEP__SELECTOR_ATTRIBUTE_NAME &&
           strcmp(d->attribute->steps[0]->attribute_name, name) == 0;
}

/* ---- the method table ------------------------------------------------------ */

static void test_method_table(void **state)
{
    (void)state;
    static const char *const served[] = {
        "GetMetadata", "GetProviderSchema", "ValidateProviderConfig",
        "ValidateResourceConfig", "ValidateDataResourceConfig",
        "UpgradeResourceState", "ConfigureProvider", "ReadResource",
        "PlanResourceChange", "ApplyResourceChange", "ImportResourceState",
        "ReadDataSource", "GetFunctions", "StopProvider",
        "GetResourceIdentitySchemas", "UpgradeResourceIdentity",
        "ValidateListResourceConfig",
    };
    for (size_t i = 0; i < sizeof served / sizeof served[0]; i++) {
        const cr_method *m = cr_rpc_method(served[i]);
        if (m == NULL)
            fprintf(stderr, "missing %s\n", served[i]);
        assert_non_null(m);
        assert_non_null(m->handler);
        /* The request descriptor is the method's own Request message. */
        char want[96];
        snprintf(want, sizeof want, "tfplugin6.%s.Request", served[i]);
        assert_string_equal(m->request_desc->name, want);
    }
    /* ListResource is a server stream: a producer, no handler. */
    const cr_method *lr = cr_rpc_method("ListResource");
    assert_non_null(lr);
    assert_null(lr->handler);
    assert_non_null(lr->producer);
    assert_string_equal(lr->request_desc->name, "tfplugin6.ListResource.Request");
    /* Left to the server's UNIMPLEMENTED, which Terraform reads as "not
     * supported" (an error diagnostic would be fatal). */
    assert_null(cr_rpc_method("MoveResourceState"));
    assert_null(cr_rpc_method("GenerateResourceConfig"));
}

static void test_wrong_request_type(void **state)
{
    fixture *fx = *state;
    const cr_method *m = cr_rpc_method("PlanResourceChange");
    Tfplugin6__StopProvider__Request stop = TFPLUGIN6__STOP_PROVIDER__REQUEST__INIT;
    cr_call *call = cr_call_new_detached(fx->p);
    ProtobufCMessage *resp = NULL;
    const char *msg = NULL;
    assert_non_null(call);
    int st = m->handler(call, &stop.base, &resp, &msg);
    assert_int_equal(st, GRPC_STATUS_INVALID_ARGUMENT);
    assert_non_null(msg);
    cr_call_free_detached(call);
}

/* ---- GetProviderSchema / GetMetadata -------------------------------------- */

static const Tfplugin6__Schema__Attribute *
schema_attr(const Tfplugin6__Schema *s, const char *name)
{
    for (size_t i = 0; i < s->block->n_attributes; i++)
        if (strcmp(s->block->attributes[i]->name, name) == 0)
            return s->block->attributes[i];
    return NULL;
}

static void expect_attr(const Tfplugin6__Schema *s, const char *name,
                        const char *type_json, bool req, bool opt, bool comp)
{
    const Tfplugin6__Schema__Attribute *a = schema_attr(s, name);
    if (a == NULL)
        fprintf(stderr, "no attribute %s\n", name);
    assert_non_null(a);
    assert_int_equal(a->type.len, strlen(type_json));
    assert_memory_equal(a->type.data, type_json, a->type.len);
    assert_int_equal(a->required, req);
    assert_int_equal(a->optional, opt);
    assert_int_equal(a->computed, comp);
    assert_false(a->sensitive);
    assert_null(a->nested_type);
    assert_true(strlen(a->description) > 10);
    assert_int_equal(a->description_kind, TFPLUGIN6__STRING_KIND__MARKDOWN);
}

static void test_get_provider_schema(void **state)
{
    fixture *fx = *state;
    Tfplugin6__GetProviderSchema__Request req =
        TFPLUGIN6__GET_PROVIDER_SCHEMA__REQUEST__INIT;
    Tfplugin6__GetProviderSchema__Response *r =
        invoke(fx, "GetProviderSchema", &req.base);

    assert_int_equal(r->n_diagnostics, 0);
    assert_non_null(r->server_capabilities);
    assert_true(r->server_capabilities->plan_destroy);
    assert_false(r->server_capabilities->get_provider_schema_optional);

    assert_non_null(r->provider);
    assert_non_null(r->provider->block);
    assert_true(strlen(r->provider->block->description) > 10);
    assert_int_equal(r->provider->block->description_kind,
                     TFPLUGIN6__STRING_KIND__MARKDOWN);
    expect_attr(r->provider, "path", "\"string\"", false, true, false);

    assert_int_equal(r->n_resource_schemas, 3);
    assert_string_equal(r->resource_schemas[0]->key, "cellrouter_tenant");
    assert_string_equal(r->resource_schemas[1]->key, "cellrouter_tenants");
    assert_string_equal(r->resource_schemas[2]->key, "cellrouter_cell");
    const Tfplugin6__Schema *s = r->resource_schemas[0]->value;
    assert_non_null(s);
    assert_int_equal(s->version, 0);
    assert_int_equal(s->block->n_attributes, 9);
    assert_int_equal(s->block->n_block_types, 0);
    expect_attr(s, "tenant_id", "\"string\"", true, false, false);
    expect_attr(s, "cell_id", "\"string\"", true, false, false);
    expect_attr(s, "endpoint", "\"string\"", true, false, false);
    expect_attr(s, "standby_cell_id", "\"string\"", false, true, false);
    expect_attr(s, "standby_endpoint", "\"string\"", false, true, false);
    expect_attr(s, "labels", "[\"map\",\"string\"]", false, true, false);
    expect_attr(s, "id", "\"string\"", false, false, true);
    expect_attr(s, "version", "\"number\"", false, false, true);
    expect_attr(s, "updated_at", "\"string\"", false, false, true);
    /* cellrouter_tenants: `tenants` is a protocol-6 map nested
     * attribute whose objects mix required and computed attributes;
     * optional, as its other form `tenants_json` (a string) is. */
    const Tfplugin6__Schema *ts = r->resource_schemas[1]->value;
    const Tfplugin6__Schema__Attribute *ta = NULL, *tj = NULL;
    for (size_t i = 0; i < ts->block->n_attributes; i++) {
        if (strcmp(ts->block->attributes[i]->name, "tenants") == 0)
            ta = ts->block->attributes[i];
        if (strcmp(ts->block->attributes[i]->name, "tenants_json") == 0)
            tj = ts->block->attributes[i];
    }
    assert_non_null(ta);
    assert_true(ta->optional && !ta->required && !ta->computed);
    assert_non_null(tj);
    assert_true(tj->optional && !tj->required && !tj->computed);
    assert_int_equal(tj->type.len, 8);
    assert_memory_equal(tj->type.data, "\"string\"", 8);
    assert_int_equal(ta->type.len, 0);
    assert_non_null(ta->nested_type);
    assert_int_equal(ta->nested_type->nesting,
                     TFPLUGIN6__SCHEMA__OBJECT__NESTING_MODE__MAP);
    assert_int_equal(ta->nested_type->n_attributes, 7);
    assert_int_equal(r->n_data_source_schemas, 3);
    assert_string_equal(r->data_source_schemas[0]->key, "cellrouter_tenant");
    assert_string_equal(r->data_source_schemas[1]->key,
                        "cellrouter_routing_map");
    assert_string_equal(r->data_source_schemas[2]->key, "cellrouter_cells");
    assert_int_equal(r->n_functions, 0);
    resp_free(r);
}

static void test_schema_response_is_cached(void **state)
{
    fixture *fx = *state;
    const cr_method *m = cr_rpc_method("GetProviderSchema");
    Tfplugin6__GetProviderSchema__Request req =
        TFPLUGIN6__GET_PROVIDER_SCHEMA__REQUEST__INIT;
    ProtobufCMessage *a = NULL, *b = NULL;
    const char *msg = NULL;
    cr_call *c1 = cr_call_new_detached(fx->p);
    cr_call *c2 = cr_call_new_detached(fx->p);
    assert_non_null(c1);
    assert_non_null(c2);

    assert_int_equal(m->handler(c1, &req.base, &a, &msg), GRPC_STATUS_OK);
    assert_int_equal(m->handler(c2, &req.base, &b, &msg), GRPC_STATUS_OK);
    /* Built once, in provider memory: nothing in the calls' arenas. */
    assert_ptr_equal(a, b);
    assert_int_equal(cr_call_footprint(c1), 0);
    assert_int_equal(cr_call_footprint(c2), 0);
    cr_call_free_detached(c1);
    cr_call_free_detached(c2);
}

static void test_get_metadata(void **state)
{
    fixture *fx = *state;
    Tfplugin6__GetMetadata__Request req = TFPLUGIN6__GET_METADATA__REQUEST__INIT;
    Tfplugin6__GetMetadata__Response *r = invoke(fx, "GetMetadata", &req.base);
    assert_non_null(r->server_capabilities);
    assert_true(r->server_capabilities->plan_destroy);
    assert_int_equal(r->n_resources, 3);
    assert_string_equal(r->resources[0]->type_name, "cellrouter_tenant");
    assert_string_equal(r->resources[1]->type_name, "cellrouter_tenants");
    assert_string_equal(r->resources[2]->type_name, "cellrouter_cell");
    assert_int_equal(r->n_data_sources, 3);
    assert_string_equal(r->data_sources[0]->type_name, "cellrouter_tenant");
    assert_string_equal(r->data_sources[1]->type_name,
                        "cellrouter_routing_map");
    assert_string_equal(r->data_sources[2]->type_name, "cellrouter_cells");
    resp_free(r);

    Tfplugin6__GetFunctions__Request freq =
        TFPLUGIN6__GET_FUNCTIONS__REQUEST__INIT;
    Tfplugin6__GetFunctions__Response *f = invoke(fx, "GetFunctions",
                                                  &freq.base);
    assert_int_equal(f->n_functions, 0);
    assert_int_equal(f->n_diagnostics, 0);
    resp_free(f);
}

/* ---- provider configuration ------------------------------------------------ */

static cr_value *provider_config(const char *path)
{
    const cr_type *t = cr_schema_type(cr_provider_schema());
    assert_non_null(t);
    cr_value *o = cr_value_object(t);
    assert_non_null(o);
    if (path)
        cr_test_set(o, "path", cr_value_string(path));
    return o;
}

static void configure(fixture *fx, const char *path)
{
    cr_value *cfg = provider_config(path);
    Tfplugin6__ConfigureProvider__Request req =
        TFPLUGIN6__CONFIGURE_PROVIDER__REQUEST__INIT;
    req.terraform_version = "1.9.0";
    req.config = cr_test_dv(cfg);
    Tfplugin6__ConfigureProvider__Response *r =
        invoke(fx, "ConfigureProvider", &req.base);
    assert_no_errors(r);
    resp_free(r);
    cr_test_dv_free(req.config);
    cr_value_free(cfg);
}

static void test_validate_provider_config(void **state)
{
    fixture *fx = *state;
    cr_value *cfg = provider_config("");
    Tfplugin6__ValidateProviderConfig__Request req =
        TFPLUGIN6__VALIDATE_PROVIDER_CONFIG__REQUEST__INIT;
    req.config = cr_test_dv(cfg);
    Tfplugin6__ValidateProviderConfig__Response *r =
        invoke(fx, "ValidateProviderConfig", &req.base);
    const Tfplugin6__Diagnostic *d =
        find_error(r->diagnostics, r->n_diagnostics, "path");
    assert_non_null(d);
    assert_true(path_is_attr(d, "path"));

    /* Terraform reads this response's diagnostics from field 2 (field 1
     * is unused in protocol 6): the first packed byte is tag 2, LEN. */
    uint8_t buf[4096];
    size_t len = protobuf_c_message_get_packed_size(&r->base);
    assert_true(len > 0 && len <= sizeof buf);
    protobuf_c_message_pack(&r->base, buf);
    assert_int_equal(buf[0], (2 << 3) | 2);
    resp_free(r);
    cr_test_dv_free(req.config);
    cr_value_free(cfg);

    /* Unset path and a missing config (no provider block) are fine. */
    cfg = provider_config(NULL);
    req.config = cr_test_dv(cfg);
    r = invoke(fx, "ValidateProviderConfig", &req.base);
    assert_int_equal(r->n_diagnostics, 0);
    resp_free(r);
    cr_test_dv_free(req.config);
    cr_value_free(cfg);
    req.config = NULL;
    r = invoke(fx, "ValidateProviderConfig", &req.base);
    assert_int_equal(cr_test_pb_errors(r->diagnostics, r->n_diagnostics), 0);
    resp_free(r);
}

static void test_configure_provider(void **state)
{
    fixture *fx = *state;
    assert_null(fx->p->state.store);
    configure(fx, fx->tmp.db);
    assert_non_null(fx->p->state.store);
    assert_int_equal(access(fx->tmp.db, F_OK), 0);

    /* Again (one server serving several commands): a new store, the old
     * one closed once swapped out. */
    cr_store *first = fx->p->state.store;
    configure(fx, fx->tmp.db);
    assert_non_null(fx->p->state.store);
    assert_ptr_not_equal(fx->p->state.store, first);

    /* An unknown path (plan before the value is known): no error, and the
     * provider is unconfigured: the store of an earlier command is not
     * used for this one. */
    cr_value *cfg = provider_config(NULL);
    cr_test_set(cfg, "path", cr_value_unknown(&cr_type_string));
    Tfplugin6__ConfigureProvider__Request req =
        TFPLUGIN6__CONFIGURE_PROVIDER__REQUEST__INIT;
    req.config = cr_test_dv(cfg);
    Tfplugin6__ConfigureProvider__Response *r =
        invoke(fx, "ConfigureProvider", &req.base);
    assert_no_errors(r);
    assert_null(fx->p->state.store);
    resp_free(r);
    cr_test_dv_free(req.config);
    cr_value_free(cfg);
}

static void test_configure_malformed(void **state)
{
    fixture *fx = *state;
    static const uint8_t junk[] = { 0x81, 0xa4, 'p', 'a', 't', 'h', 0xc1 };
    Tfplugin6__ConfigureProvider__Request req =
        TFPLUGIN6__CONFIGURE_PROVIDER__REQUEST__INIT;
    req.config = dv_raw(junk, sizeof junk);
    Tfplugin6__ConfigureProvider__Response *r =
        invoke(fx, "ConfigureProvider", &req.base);
    assert_true(cr_test_pb_errors(r->diagnostics, r->n_diagnostics) >= 1);
    assert_null(fx->p->state.store);
    resp_free(r);
    cr_test_dv_free(req.config);
}

static void test_stop_provider(void **state)
{
    fixture *fx = *state;
    Tfplugin6__StopProvider__Request req = TFPLUGIN6__STOP_PROVIDER__REQUEST__INIT;
    assert_int_equal(fx->p->state.stopping, 0);
    Tfplugin6__StopProvider__Response *r = invoke(fx, "StopProvider", &req.base);
    assert_string_equal(r->error, "");
    assert_int_equal(fx->p->state.stopping, 1);
    resp_free(r);
}

static void test_data_sources_unknown(void **state)
{
    fixture *fx = *state;
    Tfplugin6__ValidateDataResourceConfig__Request req =
        TFPLUGIN6__VALIDATE_DATA_RESOURCE_CONFIG__REQUEST__INIT;
    req.type_name = "cellrouter_tenants";
    Tfplugin6__ValidateDataResourceConfig__Response *r =
        invoke(fx, "ValidateDataResourceConfig", &req.base);
    assert_non_null(find_error(r->diagnostics, r->n_diagnostics,
                               "cellrouter_tenants"));
    resp_free(r);

    Tfplugin6__ReadDataSource__Request rreq =
        TFPLUGIN6__READ_DATA_SOURCE__REQUEST__INIT;
    rreq.type_name = "cellrouter_tenants";
    Tfplugin6__ReadDataSource__Response *rr =
        invoke(fx, "ReadDataSource", &rreq.base);
    assert_non_null(find_error(rr->diagnostics, rr->n_diagnostics,
                               "Unknown data source"));
    resp_free(rr);
}

/* ---- ValidateResourceConfig ------------------------------------------------ */

static void test_validate_resource_config(void **state)
{
    fixture *fx = *state;
    Tfplugin6__ValidateResourceConfig__Request req =
        TFPLUGIN6__VALIDATE_RESOURCE_CONFIG__REQUEST__INIT;
    req.type_name = "cellrouter_tenant";

    /* Valid. */
    cr_value *cfg = tenant_config("acme", "cell-a", "https://a.example.com");
    req.config = cr_test_dv(cfg);
    Tfplugin6__ValidateResourceConfig__Response *r =
        invoke(fx, "ValidateResourceConfig", &req.base);
    assert_int_equal(r->n_diagnostics, 0);
    resp_free(r);
    cr_test_dv_free(req.config);
    cr_value_free(cfg);

    /* A bad endpoint is reported at its attribute. */
    cfg = tenant_config("acme", "cell-a", "ftp:/nope");
    req.config = cr_test_dv(cfg);
    r = invoke(fx, "ValidateResourceConfig", &req.base);
    assert_int_equal(cr_test_pb_errors(r->diagnostics, r->n_diagnostics), 1);
    assert_true(path_is_attr(r->diagnostics[0], "endpoint"));
    resp_free(r);
    cr_test_dv_free(req.config);
    cr_value_free(cfg);

    /* Unknowns are never an error at validation. */
    cfg = tenant_config("acme", "cell-a", NULL);
    cr_test_set(cfg, "endpoint", cr_value_unknown(&cr_type_string));
    req.config = cr_test_dv(cfg);
    r = invoke(fx, "ValidateResourceConfig", &req.base);
    assert_no_errors(r);
    resp_free(r);
    cr_test_dv_free(req.config);
    cr_value_free(cfg);

    /* An unknown type name is an error diagnostic, not a status. */
    req.type_name = "cellrouter_nope";
    req.config = NULL;
    r = invoke(fx, "ValidateResourceConfig", &req.base);
    assert_non_null(find_error(r->diagnostics, r->n_diagnostics,
                               "cellrouter_nope"));
    resp_free(r);
}

static void test_malformed_dynamic_values(void **state)
{
    fixture *fx = *state;
    static const struct { const uint8_t *b; size_t n; } cases[] = {
        { (const uint8_t *)"\xc1", 1 },                 /* never-used byte */
        { (const uint8_t *)"\x81\xa3" "abc", 5 },       /* truncated map */
        { (const uint8_t *)"\xa3" "abc", 4 },           /* a string */
        { (const uint8_t *)"\x89\xa2id\xc0", 5 },       /* 9 attrs claimed */
        { (const uint8_t *)"\xdf\xff\xff\xff\xff", 5 }, /* 4G entries */
        { (const uint8_t *)"\x91\x91\x91\x91\x91\x91\x91\x91", 8 },
    };
    configure(fx, fx->tmp.db);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Tfplugin6__ValidateResourceConfig__Request v =
            TFPLUGIN6__VALIDATE_RESOURCE_CONFIG__REQUEST__INIT;
        v.type_name = "cellrouter_tenant";
        v.config = dv_raw(cases[i].b, cases[i].n);
        Tfplugin6__ValidateResourceConfig__Response *vr =
            invoke(fx, "ValidateResourceConfig", &v.base);
        assert_true(cr_test_pb_errors(vr->diagnostics, vr->n_diagnostics) >= 1);
        resp_free(vr);

        Tfplugin6__PlanResourceChange__Request p =
            TFPLUGIN6__PLAN_RESOURCE_CHANGE__REQUEST__INIT;
        p.type_name = "cellrouter_tenant";
        p.proposed_new_state = v.config;
        p.config = v.config;
        Tfplugin6__PlanResourceChange__Response *pr =
            invoke(fx, "PlanResourceChange", &p.base);
        assert_true(cr_test_pb_errors(pr->diagnostics, pr->n_diagnostics) >= 1);
        assert_null(pr->planned_state);
        resp_free(pr);

        Tfplugin6__ReadResource__Request rd =
            TFPLUGIN6__READ_RESOURCE__REQUEST__INIT;
        rd.type_name = "cellrouter_tenant";
        rd.current_state = v.config;
        Tfplugin6__ReadResource__Response *rr =
            invoke(fx, "ReadResource", &rd.base);
        assert_true(cr_test_pb_errors(rr->diagnostics, rr->n_diagnostics) >= 1);
        resp_free(rr);

        Tfplugin6__ApplyResourceChange__Request a =
            TFPLUGIN6__APPLY_RESOURCE_CHANGE__REQUEST__INIT;
        a.type_name = "cellrouter_tenant";
        a.planned_state = v.config;
        a.config = v.config;
        Tfplugin6__ApplyResourceChange__Response *ar =
            invoke(fx, "ApplyResourceChange", &a.base);
        assert_true(cr_test_pb_errors(ar->diagnostics, ar->n_diagnostics) >= 1);
        resp_free(ar);
        cr_test_dv_free(v.config);
    }
}

/* States come from Terraform's state file: a wholly unknown value, or an
 * object with unknowns inside, cannot be one and is refused before the
 * resource sees it. */
static void test_states_must_be_known(void **state)
{
    fixture *fx = *state;
    configure(fx, fx->tmp.db);
    cr_value *unk = cr_value_unknown(T());
    cr_value *partly = tenant_config("acme", "cell-a", "https://a.example.com");
    cr_test_set(partly, "version", cr_value_unknown(&cr_type_number));
    cr_value *cfg = tenant_config("acme", "cell-b", "https://a.example.com");
    const cr_value *bad[] = { unk, partly };

    for (size_t i = 0; i < 2; i++) {
        Tfplugin6__ReadResource__Request rd =
            TFPLUGIN6__READ_RESOURCE__REQUEST__INIT;
        rd.type_name = "cellrouter_tenant";
        rd.current_state = cr_test_dv(bad[i]);
        Tfplugin6__ReadResource__Response *rr =
            invoke(fx, "ReadResource", &rd.base);
        assert_non_null(find_error(rr->diagnostics, rr->n_diagnostics,
                                   "current state"));
        assert_null(rr->new_state);
        resp_free(rr);
        cr_test_dv_free(rd.current_state);

        Tfplugin6__PlanResourceChange__Request p =
            TFPLUGIN6__PLAN_RESOURCE_CHANGE__REQUEST__INIT;
        p.type_name = "cellrouter_tenant";
        p.prior_state = cr_test_dv(bad[i]);
        p.proposed_new_state = cr_test_dv(cfg);
        p.config = cr_test_dv(cfg);
        Tfplugin6__PlanResourceChange__Response *pr =
            invoke(fx, "PlanResourceChange", &p.base);
        assert_non_null(find_error(pr->diagnostics, pr->n_diagnostics,
                                   "prior state"));
        assert_null(pr->planned_state);
        resp_free(pr);
        cr_test_dv_free(p.prior_state);
        cr_test_dv_free(p.proposed_new_state);
        cr_test_dv_free(p.config);
    }
    /* A planned state that is not an object at all. */
    Tfplugin6__ApplyResourceChange__Request a =
        TFPLUGIN6__APPLY_RESOURCE_CHANGE__REQUEST__INIT;
    a.type_name = "cellrouter_tenant";
    a.planned_state = cr_test_dv(unk);
    a.config = cr_test_dv(cfg);
    Tfplugin6__ApplyResourceChange__Response *ar =
        invoke(fx, "ApplyResourceChange", &a.base);
    assert_non_null(find_error(ar->diagnostics, ar->n_diagnostics,
                               "planned state"));
    resp_free(ar);
    cr_test_dv_free(a.planned_state);
    cr_test_dv_free(a.config);
    /* Nothing was written. */
    cr_entry *e = NULL;
    cr_store_err err;
    assert_int_equal(cr_store_get(fx->p->state.store, "acme", &e, &err),
                     CR_STORE_OK);
    assert_null(e);

    cr_value_free(unk);
    cr_value_free(partly);
    cr_value_free(cfg);
}

/* ---- the resource lifecycle ----------------------------------------------- */

typedef struct planned {
    cr_value *state;            /* NULL: planned null */
    size_t nreplace;
    char replace0[64];          /* first requires_replace attribute */
} planned;

static planned plan(fixture *fx, const cr_value *prior, const cr_value *cfg)
{
    planned out = {0};
    static uint8_t priv[] = "opaque";
    ProtobufCBinaryData pd = { sizeof priv, priv };
    Tfplugin6__PlanResourceChange__Response *r =
        cr_test_rpc_plan(fx->p, "cellrouter_tenant", prior, cfg, &pd);
    assert_no_errors(r);
    assert_false(r->legacy_type_system);
    /* prior_private comes back as planned_private. */
    assert_int_equal(r->planned_private.len, sizeof priv);
    assert_memory_equal(r->planned_private.data, priv, sizeof priv);
    assert_non_null(r->planned_state);
    out.state = cr_test_undv(r->planned_state, T());
    out.nreplace = r->n_requires_replace;
    if (r->n_requires_replace > 0) {
        assert_int_equal(r->requires_replace[0]->n_steps, 1);
        snprintf(out.replace0, sizeof out.replace0, "%s",
                 r->requires_replace[0]->steps[0]->attribute_name);
    }
    resp_free(r);
    return out;
}

/* Applies and returns the new state (NULL when null); *errors gets the
 * number of error diagnostics. */
static cr_value *apply_n(fixture *fx, const cr_value *prior,
                         const cr_value *plannedv, const cr_value *cfg,
                         size_t *errors)
{
    Tfplugin6__ApplyResourceChange__Response *r =
        cr_test_rpc_apply(fx->p, "cellrouter_tenant", prior, plannedv, cfg);
    *errors = cr_test_pb_errors(r->diagnostics, r->n_diagnostics);
    if (*errors && getenv("CR_TEST_VERBOSE"))
        cr_test_print_pb_diags(r->diagnostics, r->n_diagnostics);
    assert_false(r->legacy_type_system);
    assert_non_null(r->new_state);
    cr_value *v = cr_test_undv(r->new_state, T());
    resp_free(r);
    return v;
}

static cr_value *apply(fixture *fx, const cr_value *prior,
                       const cr_value *plannedv, const cr_value *cfg)
{
    size_t errors = 0;
    cr_value *v = apply_n(fx, prior, plannedv, cfg, &errors);
    assert_int_equal(errors, 0);
    return v;
}

static cr_value *read_state(fixture *fx, const cr_value *current)
{
    Tfplugin6__ReadResource__Request req = TFPLUGIN6__READ_RESOURCE__REQUEST__INIT;
    static uint8_t priv[] = "kept";
    req.type_name = "cellrouter_tenant";
    req.current_state = cr_test_dv(current);
    req.private_.data = priv;
    req.private_.len = sizeof priv;
    Tfplugin6__ReadResource__Response *r = invoke(fx, "ReadResource", &req.base);
    assert_no_errors(r);
    assert_int_equal(r->private_.len, sizeof priv);
    assert_memory_equal(r->private_.data, priv, sizeof priv);
    assert_non_null(r->new_state);
    cr_value *v = cr_test_undv(r->new_state, T());
    resp_free(r);
    cr_test_dv_free(req.current_state);
    return v;
}

static const char *str(const cr_value *obj, const char *name)
{
    const char *s = cr_value_get_str(obj, name);
    assert_non_null(s);
    return s;
}

static void test_lifecycle(void **state)
{
    fixture *fx = *state;
    configure(fx, fx->tmp.db);

    /* Create: computed attributes unknown, id known from tenant_id. */
    cr_value *cfg = tenant_config("acme", "cell-a", "https://a.example.com");
    planned p = plan(fx, NULL, cfg);
    assert_non_null(p.state);
    assert_int_equal(p.nreplace, 0);
    assert_string_equal(str(p.state, "id"), "acme");
    assert_true(cr_value_is_unknown(cr_value_get(p.state, "version")));
    assert_true(cr_value_is_unknown(cr_value_get(p.state, "updated_at")));

    cr_value *s1 = apply(fx, NULL, p.state, cfg);
    assert_non_null(s1);
    assert_true(cr_value_is_wholly_known(s1));
    assert_string_equal(str(s1, "cell_id"), "cell-a");
    const cr_value *ver = cr_value_get(s1, "version");
    assert_true(ver->kind == CR_NUMBER && ver->u.num.i == 1);
    cr_value_free(p.state);

    /* Refresh: the map holds what we wrote. */
    cr_value *r1 = read_state(fx, s1);
    assert_non_null(r1);
    assert_true(cr_value_equal(r1, s1));

    /* No change: the plan is the prior state, nothing to replace. */
    p = plan(fx, r1, cfg);
    assert_true(cr_value_equal(p.state, r1));
    assert_int_equal(p.nreplace, 0);
    cr_value_free(p.state);

    /* In-place update of cell_id. */
    cr_value *cfg2 = tenant_config("acme", "cell-b", "https://b.example.com");
    p = plan(fx, r1, cfg2);
    assert_string_equal(str(p.state, "cell_id"), "cell-b");
    assert_true(cr_value_is_unknown(cr_value_get(p.state, "version")));
    assert_int_equal(p.nreplace, 0);
    cr_value *s2 = apply(fx, r1, p.state, cfg2);
    assert_string_equal(str(s2, "endpoint"), "https://b.example.com");
    ver = cr_value_get(s2, "version");
    assert_true(ver->kind == CR_NUMBER && ver->u.num.i == 2);
    cr_value_free(p.state);

    /* tenant_id change: requires replacement, reported by path. */
    cr_value *cfg3 = tenant_config("acme2", "cell-b", "https://b.example.com");
    p = plan(fx, s2, cfg3);
    assert_int_equal(p.nreplace, 1);
    assert_string_equal(p.replace0, "tenant_id");
    cr_value_free(p.state);

    /* Import by id, then read fills it in: equal to what apply wrote. */
    Tfplugin6__ImportResourceState__Request ireq =
        TFPLUGIN6__IMPORT_RESOURCE_STATE__REQUEST__INIT;
    ireq.type_name = "cellrouter_tenant";
    ireq.id = "acme";
    Tfplugin6__ImportResourceState__Response *ir =
        invoke(fx, "ImportResourceState", &ireq.base);
    assert_no_errors(ir);
    assert_int_equal(ir->n_imported_resources, 1);
    assert_string_equal(ir->imported_resources[0]->type_name,
                        "cellrouter_tenant");
    cr_value *imp = cr_test_undv(ir->imported_resources[0]->state, T());
    assert_non_null(imp);
    assert_int_equal(imp->kind, CR_OBJECT);
    assert_true(cr_value_is_wholly_known(imp));
    assert_string_equal(str(imp, "tenant_id"), "acme");
    resp_free(ir);
    cr_value *ri = read_state(fx, imp);
    assert_true(cr_value_equal(ri, s2));
    cr_value_free(imp);
    cr_value_free(ri);

    /* Importing an invalid id is a diagnostic, with no resource. */
    ireq.id = "";
    ir = invoke(fx, "ImportResourceState", &ireq.base);
    assert_true(cr_test_pb_errors(ir->diagnostics, ir->n_diagnostics) >= 1);
    assert_int_equal(ir->n_imported_resources, 0);
    resp_free(ir);

    /* Destroy: planned null, applied null, then the entry is gone. */
    p = plan(fx, s2, NULL);
    assert_null(p.state);
    cr_value *gone = apply(fx, s2, NULL, NULL);
    assert_null(gone);
    assert_null(read_state(fx, s2));

    cr_value_free(cfg);
    cr_value_free(cfg2);
    cr_value_free(cfg3);
    cr_value_free(s1);
    cr_value_free(r1);
    cr_value_free(s2);
}

static void test_apply_conflict_keeps_prior(void **state)
{
    fixture *fx = *state;
    configure(fx, fx->tmp.db);
    cr_value *cfg = tenant_config("t1", "cell-a", "https://a.example.com");
    planned p = plan(fx, NULL, cfg);
    cr_value *s1 = apply(fx, NULL, p.state, cfg);
    cr_value_free(p.state);

    /* A second create over the same entry is refused with a diagnostic;
     * the answer is null (nothing was created by us). */
    p = plan(fx, NULL, cfg);
    size_t errors = 0;
    cr_value *s = apply_n(fx, NULL, p.state, cfg, &errors);
    assert_true(errors >= 1);
    assert_null(s);
    cr_value_free(p.state);

    /* Apply without a configured store fails cleanly too, and an update
     * failure answers the prior state rather than dropping the object. */
    cr_rpc_provider *saved = fx->p;
    fx->p = cr_rpc_provider_new();
    cr_value *cfg2 = tenant_config("t1", "cell-b", "https://a.example.com");
    p = plan(fx, s1, cfg2);
    s = apply_n(fx, s1, p.state, cfg2, &errors);
    assert_true(errors >= 1);
    assert_non_null(s);
    assert_true(cr_value_equal(s, s1));
    cr_value_free(s);
    cr_value_free(p.state);
    cr_rpc_provider_free(fx->p);
    fx->p = saved;

    cr_value_free(cfg);
    cr_value_free(cfg2);
    cr_value_free(s1);
}

/* ---- UpgradeResourceState ------------------------------------------------- */

static Tfplugin6__UpgradeResourceState__Response *
upgrade(fixture *fx, const char *json, int64_t version)
{
    Tfplugin6__UpgradeResourceState__Request req =
        TFPLUGIN6__UPGRADE_RESOURCE_STATE__REQUEST__INIT;
    Tfplugin6__RawState raw = TFPLUGIN6__RAW_STATE__INIT;
    req.type_name = "cellrouter_tenant";
    req.version = version;
    req.raw_state = &raw;
    raw.json.data = (uint8_t *)json;
    raw.json.len = strlen(json);
    return invoke(fx, "UpgradeResourceState", &req.base);
}

static void test_upgrade_resource_state(void **state)
{
    fixture *fx = *state;

    /* Current version, every attribute. */
    Tfplugin6__UpgradeResourceState__Response *r = upgrade(fx,
        "{\"id\":\"acme\",\"tenant_id\":\"acme\",\"cell_id\":\"c1\","
        "\"endpoint\":\"https://x.example\",\"standby_cell_id\":null,"
        "\"standby_endpoint\":null,\"labels\":{\"team\":\"a\"},"
        "\"version\":3,\"updated_at\":\"2026-01-01T00:00:00Z\"}", 0);
    assert_no_errors(r);
    cr_value *v = cr_test_undv(r->upgraded_state, T());
    assert_non_null(v);
    assert_true(cr_value_is_wholly_known(v));
    assert_string_equal(str(v, "cell_id"), "c1");
    assert_string_equal(str(cr_value_get(v, "labels"), "team"), "a");
    assert_int_equal(cr_value_get(v, "version")->u.num.i, 3);
    cr_value_free(v);
    resp_free(r);

    /* Attributes missing from an older state are null. */
    r = upgrade(fx, "{\"tenant_id\":\"acme\",\"cell_id\":\"c1\","
                    "\"endpoint\":\"https://x.example\"}", 0);
    assert_no_errors(r);
    v = cr_test_undv(r->upgraded_state, T());
    assert_non_null(v);
    assert_true(cr_value_is_null(cr_value_get(v, "labels")));
    assert_true(cr_value_is_null(cr_value_get(v, "version")));
    assert_string_equal(str(v, "tenant_id"), "acme");
    cr_value_free(v);
    resp_free(r);

    /* Attributes the schema no longer has are dropped, numbers kept. */
    r = upgrade(fx, "{\"tenant_id\":\"acme\",\"legacy\":{\"x\":[1]},"
                    "\"version\":12345678901234}", 0);
    assert_no_errors(r);
    v = cr_test_undv(r->upgraded_state, T());
    assert_non_null(v);
    assert_string_equal(str(v, "tenant_id"), "acme");
    assert_int_equal(cr_value_get(v, "version")->u.num.i, 12345678901234);
    cr_value_free(v);
    resp_free(r);

    /* Bad JSON, wrong types, a future version, null: diagnostics only. */
    static const char *const bad[] = {
        "{\"tenant_id\":", "[1,2]", "{\"tenant_id\":[1]}",
        "{\"tenant_id\":{\"a\":1}}", "null", "\"x\"", "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = upgrade(fx, bad[i], 0);
        if (cr_test_pb_errors(r->diagnostics, r->n_diagnostics) == 0)
            fprintf(stderr, "accepted: %s\n", bad[i]);
        assert_true(cr_test_pb_errors(r->diagnostics, r->n_diagnostics) >= 1);
        assert_null(r->upgraded_state);
        resp_free(r);
    }
    r = upgrade(fx, "{\"tenant_id\":\"acme\"}", 7);
    assert_non_null(find_error(r->diagnostics, r->n_diagnostics,
                               "newer version of the provider"));
    assert_null(r->upgraded_state);
    resp_free(r);
    r = upgrade(fx, "{\"tenant_id\":\"acme\"}", -1);
    assert_true(cr_test_pb_errors(r->diagnostics, r->n_diagnostics) >= 1);
    resp_free(r);

    /* Pre-0.12 flatmap state. */
    Tfplugin6__UpgradeResourceState__Request req =
        TFPLUGIN6__UPGRADE_RESOURCE_STATE__REQUEST__INIT;
    Tfplugin6__RawState raw = TFPLUGIN6__RAW_STATE__INIT;
    Tfplugin6__RawState__FlatmapEntry e = TFPLUGIN6__RAW_STATE__FLATMAP_ENTRY__INIT;
    Tfplugin6__RawState__FlatmapEntry *ep = &e;
    e.key = "tenant_id";
    e.value = "acme";
    raw.n_flatmap = 1;
    raw.flatmap = &ep;
    req.type_name = "cellrouter_tenant";
    req.raw_state = &raw;
    r = invoke(fx, "UpgradeResourceState", &req.base);
    assert_non_null(find_error(r->diagnostics, r->n_diagnostics,
                               "pre-0.12 state not supported"));
    assert_null(r->upgraded_state);
    resp_free(r);
}

/* ---- Terraform's rules, checked on our side -------------------------------- */

static const cr_attr_schema rule_attrs[] = {
    { .name = "comp", .type = &cr_type_string, .flags = CR_ATTR_COMPUTED },
    { .name = "oc", .type = &cr_type_string,
      .flags = CR_ATTR_OPTIONAL | CR_ATTR_COMPUTED },
    { .name = "opt", .type = &cr_type_string, .flags = CR_ATTR_OPTIONAL },
    { .name = "req", .type = &cr_type_string,
      .flags = CR_ATTR_REQUIRED | CR_ATTR_FORCE_NEW },
};
static const cr_schema rule_schema = {
    .nattrs = 4, .attrs = rule_attrs,
};

static cr_value *obj(const char *comp, const char *oc, const char *opt,
                     const char *req)
{
    /* "?" stands for unknown, NULL for null. */
    const char *vals[] = { comp, oc, opt, req };
    const cr_type *t = cr_schema_type(&rule_schema);
    assert_non_null(t);
    cr_value *o = cr_value_object(t);
    assert_non_null(o);
    for (size_t i = 0; i < 4; i++) {
        cr_value *v = vals[i] == NULL ? cr_value_null(&cr_type_string)
                      : strcmp(vals[i], "?") == 0
                          ? cr_value_unknown(&cr_type_string)
                          : cr_value_string(vals[i]);
        cr_test_set(o, rule_attrs[i].name, v);
    }
    return o;
}

/* Runs the plan check; returns the attribute named by the single error's
 * path, "" for no error, "*" for an error without path. */
static const char *plan_verdict(const cr_value *prior, const cr_value *config,
                                const cr_value *planned_v, char *buf,
                                size_t n)
{
    cr_diags d = CR_DIAGS_INIT;
    cr_rpc_check_plan(&rule_schema, prior, config, planned_v, &d);
    if (d.len == 0)
        snprintf(buf, n, "%s", "");
    else if (d.items[0].path.len == 0)
        snprintf(buf, n, "%s", "*");
    else
        snprintf(buf, n, "%s", d.items[0].path.steps[0].name);
    cr_diags_free(&d);
    return buf;
}

static void test_plan_rules(void **state)
{
    (void)state;
    char b[64];
    cr_value *cfg = obj(NULL, NULL, NULL, "a");
    cr_value *cfg_unk = obj(NULL, NULL, NULL, "?");
    cr_value *prior = obj("x", "y", NULL, "old");
    struct { cr_value *prior, *config, *planned; const char *want; } cases[] = {
        /* create: computed ones unknown or set, config kept */
        { NULL, cfg, obj("?", "?", NULL, "a"), "" },
        { NULL, cfg, obj("v", "d", NULL, "a"), "" },
        /* optional-only attribute not in config must stay null */
        { NULL, cfg, obj("?", "?", "x", "a"), "opt" },
        /* a configured value must be kept */
        { NULL, cfg, obj("?", "?", NULL, "b"), "req" },
        { NULL, cfg, obj("?", "?", NULL, "?"), "req" },
        /* an unknown config value must stay unknown */
        { NULL, cfg_unk, obj("?", "?", NULL, "a"), "req" },
        { NULL, cfg_unk, obj("?", "?", NULL, "?"), "" },
        /* update: the prior value is an accepted stand-in */
        { prior, cfg, obj("x", "y", NULL, "old"), "" },
        { prior, cfg, obj("x", "y", NULL, "other"), "req" },
    };
    cr_value *planned_null = cr_value_null(cr_schema_type(&rule_schema));
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = plan_verdict(cases[i].prior, cases[i].config,
                                       cases[i].planned, b, sizeof b);
        if (strcmp(got, cases[i].want) != 0)
            fprintf(stderr, "case %zu: got \"%s\", want \"%s\"\n", i, got,
                    cases[i].want);
        assert_string_equal(got, cases[i].want);
        cr_value_free(cases[i].planned);
    }
    /* A null or unknown plan for a create is invalid. */
    assert_string_equal(plan_verdict(NULL, cfg, planned_null, b, sizeof b),
                        "*");
    cr_value *unk = cr_value_unknown(cr_schema_type(&rule_schema));
    assert_string_equal(plan_verdict(NULL, cfg, unk, b, sizeof b), "*");
    cr_value_free(unk);

    /* requires_replace: only force-new attributes that change. */
    cr_path *paths = NULL;
    size_t n = 0;
    cr_value *same = obj("x", "y", NULL, "old");
    assert_int_equal(cr_rpc_requires_replace(&rule_schema, prior, same,
                                             &paths, &n), 0);
    assert_int_equal(n, 0);
    cr_value *moved = obj("?", "y", NULL, "new");
    assert_int_equal(cr_rpc_requires_replace(&rule_schema, prior, moved,
                                             &paths, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(paths[0].steps[0].name, "req");
    /* Already listed by the resource: not listed twice. */
    assert_int_equal(cr_rpc_requires_replace(&rule_schema, prior, moved,
                                             &paths, &n), 0);
    assert_int_equal(n, 1);
    cr_path_free(&paths[0]);
    free(paths);

    cr_value_free(same);
    cr_value_free(moved);
    cr_value_free(planned_null);
    cr_value_free(cfg);
    cr_value_free(cfg_unk);
    cr_value_free(prior);
}

static void test_apply_rules(void **state)
{
    (void)state;
    cr_value *planned_v = obj("?", "y", NULL, "a");
    struct { cr_value *actual; bool ok; } cases[] = {
        { obj("filled", "y", NULL, "a"), true },
        { obj("filled", "y", NULL, "b"), false },   /* known value changed */
        { obj("filled", NULL, NULL, "a"), false },  /* known value dropped */
        { obj("filled", "y", "z", "a"), false },    /* null became a value */
        { obj("?", "y", NULL, "a"), false },        /* still unknown */
        { NULL, false },                            /* null after create */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_diags d = CR_DIAGS_INIT;
        cr_rpc_check_apply(planned_v, cases[i].actual, &d);
        if (cr_diags_has_error(&d) == cases[i].ok)
            fprintf(stderr, "apply case %zu misjudged\n", i);
        assert_int_equal(cr_diags_has_error(&d), !cases[i].ok);
        cr_diags_free(&d);
        cr_value_free(cases[i].actual);
    }
    /* Destroy: only null is right. */
    cr_diags d = CR_DIAGS_INIT;
    cr_value *still = obj("a", "b", NULL, "c");
    cr_rpc_check_apply(NULL, still, &d);
    assert_true(cr_diags_has_error(&d));
    cr_diags_free(&d);
    cr_rpc_check_apply(NULL, NULL, &d);
    assert_false(cr_diags_has_error(&d));
    cr_value_free(still);
    cr_value_free(planned_v);
}

static void test_conformance(void **state)
{
    (void)state;
    const cr_type *t = cr_schema_type(&rule_schema);
    cr_value *o = obj("a", NULL, NULL, "b");
    cr_diags d = CR_DIAGS_INIT;
    cr_path p = {0};
    cr_rpc_check_conforms(o, t, &p, "x", &d);
    assert_false(cr_diags_has_error(&d));
    /* A number where a string belongs is found, with its path. */
    cr_test_set(o, "opt", cr_value_int(5));
    cr_rpc_check_conforms(o, t, &p, "x", &d);
    assert_true(cr_diags_has_error(&d));
    assert_int_equal(d.items[0].path.len, 1);
    assert_string_equal(d.items[0].path.steps[0].name, "opt");
    assert_int_equal(p.len, 0);
    cr_diags_free(&d);
    cr_path_free(&p);
    cr_value_free(o);
}

/* Mutations of a valid encoding (bytes flipped, truncated, grown) sent as
 * config, proposed and current state: every answer is OK with either a
 * diagnostic or a value of the right type, never a crash (ASan/valgrind
 * watch the rest). The generator is seeded, so runs are reproducible. */
static uint32_t rng_next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void test_mutated_dynamic_values(void **state)
{
    fixture *fx = *state;
    configure(fx, fx->tmp.db);
    cr_value *cfg = tenant_config("acme", "cell-a", "https://a.example.com");
    cr_value *lab = cr_value_collection(cr_test_attr_type(T(), "labels"));
    assert_int_equal(cr_value_map_put(lab, "team", cr_value_string("x")), 0);
    cr_test_set(cfg, "labels", lab);
    void *good = NULL;
    size_t good_len = 0;
    assert_int_equal(cr_value_encode_msgpack(cfg, &good, &good_len), 0);
    uint32_t seed = 0x9e3779b9u;
    uint8_t buf[512];
    assert_true(good_len + 8 <= sizeof buf);

    for (int round = 0; round < 1500; round++) {
        size_t len = good_len;
        memcpy(buf, good, good_len);
        switch (rng_next(&seed) % 4) {
        case 0:                     /* flip a few bytes */
            for (uint32_t k = 1 + rng_next(&seed) % 3; k > 0; k--)
                buf[rng_next(&seed) % len] = (uint8_t)rng_next(&seed);
            break;
        case 1:                     /* truncate */
            len = rng_next(&seed) % good_len;
            break;
        case 2:                     /* garbage after a valid value */
            for (size_t k = 0; k < 8; k++)
                buf[len++] = (uint8_t)rng_next(&seed);
            break;
        default:                    /* one byte set to a type marker */
            buf[rng_next(&seed) % len] =
                (uint8_t[]){ 0xc0, 0xc1, 0xd4, 0xc7, 0xdc, 0xde, 0xdf,
                             0xdd, 0xcb, 0xa0, 0x90, 0x80 }[rng_next(&seed) % 12];
            break;
        }
        Tfplugin6__DynamicValue *d = len ? dv_raw(buf, len) : NULL;

        Tfplugin6__ValidateResourceConfig__Request v =
            TFPLUGIN6__VALIDATE_RESOURCE_CONFIG__REQUEST__INIT;
        v.type_name = "cellrouter_tenant";
        v.config = d;
        Tfplugin6__ValidateResourceConfig__Response *vr =
            invoke(fx, "ValidateResourceConfig", &v.base);
        resp_free(vr);

        Tfplugin6__PlanResourceChange__Request p =
            TFPLUGIN6__PLAN_RESOURCE_CHANGE__REQUEST__INIT;
        p.type_name = "cellrouter_tenant";
        p.proposed_new_state = d;
        p.config = d;
        Tfplugin6__PlanResourceChange__Response *pr =
            invoke(fx, "PlanResourceChange", &p.base);
        /* Either refused, or a plan that decodes against the type. */
        if (cr_test_pb_errors(pr->diagnostics, pr->n_diagnostics) == 0 &&
            pr->planned_state != NULL) {
            cr_value *pv = cr_test_undv(pr->planned_state, T());
            cr_value_free(pv);
        }
        resp_free(pr);

        Tfplugin6__ReadResource__Request rd =
            TFPLUGIN6__READ_RESOURCE__REQUEST__INIT;
        rd.type_name = "cellrouter_tenant";
        rd.current_state = d;
        Tfplugin6__ReadResource__Response *rr =
            invoke(fx, "ReadResource", &rd.base);
        if (cr_test_pb_errors(rr->diagnostics, rr->n_diagnostics) == 0 &&
            rr->new_state != NULL) {
            cr_value *rv = cr_test_undv(rr->new_state, T());
            cr_value_free(rv);
        }
        resp_free(rr);
        cr_test_dv_free(d);
    }
    free(good);
    cr_value_free(cfg);
}

/* ---- the upgrader table ----------------------------------------------------- */

/* A resource at schema version 2 whose state went through two changes:
 * version 0 called the name "nm"; version 1 had no "size". */
static const cr_attr_schema up_attrs[] = {
    { .name = "name", .type = &cr_type_string, .flags = CR_ATTR_REQUIRED },
    { .name = "size", .type = &cr_type_number, .flags = CR_ATTR_OPTIONAL },
};
static const cr_schema up_schema = {
    .version = 2, .nattrs = 2, .attrs = up_attrs,
};

static int up_v0(void *state, cr_diags *diags)
{
    json_t *o = state;
    json_t *nm = json_object_get(o, "nm");
    if (nm == NULL) {
        cr_diags_error(diags, NULL, "No nm", "%s", "version 0 needs nm");
        return -1;
    }
    json_object_set(o, "name", nm);
    json_object_del(o, "nm");
    return 0;
}

static int up_v1(void *state, cr_diags *diags)
{
    (void)diags;
    json_t *o = state;
    if (json_object_get(o, "size") == NULL)
        json_object_set_new(o, "size", json_integer(1));
    return 0;
}

static const cr_state_upgrader up_table[] = {
    { .from_version = 0, .upgrade = up_v0 },
    { .from_version = 1, .upgrade = up_v1 },
};

static const cr_resource_type up_type = {
    .type_name = "cellrouter_upgraded", .schema = &up_schema,
    .upgraders = up_table, .nupgraders = 2,
};

static cr_value *run_upgrade(const cr_resource_type *rt, const char *json,
                             int64_t version, cr_diags *d)
{
    Tfplugin6__RawState raw = TFPLUGIN6__RAW_STATE__INIT;
    raw.json.data = (uint8_t *)json;
    raw.json.len = strlen(json);
    return cr_rpc_upgrade_state(rt, &raw, version, cr_schema_type(rt->schema),
                                d);
}

static void test_upgrade_chain(void **state)
{
    (void)state;
    cr_diags d = CR_DIAGS_INIT;

    /* From version 0: both upgraders run, in order. */
    cr_value *v = run_upgrade(&up_type, "{\"nm\":\"a\"}", 0, &d);
    assert_false(cr_diags_has_error(&d));
    assert_non_null(v);
    assert_string_equal(cr_value_get_str(v, "name"), "a");
    assert_int_equal(cr_value_get(v, "size")->u.num.i, 1);
    cr_value_free(v);

    /* From version 1: only the second. */
    v = run_upgrade(&up_type, "{\"name\":\"b\",\"size\":7}", 1, &d);
    assert_false(cr_diags_has_error(&d));
    assert_string_equal(cr_value_get_str(v, "name"), "b");
    assert_int_equal(cr_value_get(v, "size")->u.num.i, 7);
    cr_value_free(v);

    /* Current version: no upgrader, read as is. */
    v = run_upgrade(&up_type, "{\"name\":\"c\"}", 2, &d);
    assert_false(cr_diags_has_error(&d));
    assert_true(cr_value_is_null(cr_value_get(v, "size")));
    cr_value_free(v);

    /* A failing upgrader stops the chain with its diagnostic. */
    v = run_upgrade(&up_type, "{\"name\":\"x\"}", 0, &d);
    assert_null(v);
    assert_true(cr_diags_has_error(&d));
    assert_string_equal(d.items[0].summary, "No nm");
    cr_diags_free(&d);

    /* Duplicate keys and non-objects are refused before any upgrader. */
    v = run_upgrade(&up_type, "{\"nm\":\"a\",\"nm\":\"b\"}", 0, &d);
    assert_null(v);
    assert_true(cr_diags_has_error(&d));
    cr_diags_free(&d);
    v = run_upgrade(&up_type, "[]", 0, &d);
    assert_null(v);
    assert_true(cr_diags_has_error(&d));
    cr_diags_free(&d);

    /* A table with a hole is a provider bug, reported as such. */
    cr_resource_type holed = up_type;
    holed.upgraders = &up_table[1];
    holed.nupgraders = 1;
    v = run_upgrade(&holed, "{\"nm\":\"a\"}", 0, &d);
    assert_null(v);
    assert_true(cr_diags_has_error(&d));
    assert_non_null(strstr(d.items[0].detail, "schema version 0"));
    cr_diags_free(&d);
}

/* ---- JSON DynamicValues ----------------------------------------------------- */

static void test_json_dynamic_value(void **state)
{
    fixture *fx = *state;
    static const char cfg[] =
        "{\"tenant_id\":\"acme\",\"cell_id\":\"c1\","
        "\"endpoint\":\"not a url\"}";
    Tfplugin6__DynamicValue d = TFPLUGIN6__DYNAMIC_VALUE__INIT;
    d.json.data = (uint8_t *)cfg;
    d.json.len = sizeof cfg - 1;
    Tfplugin6__ValidateResourceConfig__Request req =
        TFPLUGIN6__VALIDATE_RESOURCE_CONFIG__REQUEST__INIT;
    req.type_name = "cellrouter_tenant";
    req.config = &d;
    Tfplugin6__ValidateResourceConfig__Response *r =
        invoke(fx, "ValidateResourceConfig", &req.base);
    /* Decoded (missing attributes null), then validated. */
    assert_int_equal(cr_test_pb_errors(r->diagnostics, r->n_diagnostics), 1);
    assert_true(path_is_attr(r->diagnostics[0], "endpoint"));
    resp_free(r);
}

/* ---- concurrency -------------------------------------------------------------- */

typedef struct worker {
    fixture *fx;
    int n;
    int failures;
} worker;

/* What Terraform does with parallelism: schema, then create and read of
 * distinct tenants, all at once. */
static void *work(void *arg)
{
    worker *w = arg;
    char tid[32];
    for (int i = 0; i < 5; i++) {
        Tfplugin6__GetProviderSchema__Request sreq =
            TFPLUGIN6__GET_PROVIDER_SCHEMA__REQUEST__INIT;
        int st = -1;
        Tfplugin6__GetProviderSchema__Response *sr =
            cr_test_invoke_status(w->fx->p, "GetProviderSchema", &sreq.base,
                                  &st);
        if (st != GRPC_STATUS_OK || sr->n_resource_schemas != 3)
            w->failures++;
        resp_free(sr);

        snprintf(tid, sizeof tid, "w%d-t%d", w->n, i);
        cr_value *cfg = tenant_config(tid, "cell-a", "https://a.example.com");
        planned p = plan(w->fx, NULL, cfg);
        cr_value *s = apply(w->fx, NULL, p.state, cfg);
        cr_value *r = read_state(w->fx, s);
        if (!cr_value_equal(r, s))
            w->failures++;
        cr_value_free(r);
        cr_value_free(s);
        cr_value_free(p.state);
        cr_value_free(cfg);
    }
    return NULL;
}

/* What a debug-mode server sees between commands: the provider
 * configured again while calls run. The old store must stay usable by
 * the calls holding it and be closed after. */
static void *reconfigure(void *arg)
{
    fixture *fx = arg;
    for (int i = 0; i < 10; i++)
        configure(fx, fx->tmp.db);
    return NULL;
}

static void test_concurrent_calls(void **state)
{
    fixture *fx = *state;
    enum { N = 8 };
    pthread_t th[N], rc;
    worker w[N];
    configure(fx, fx->tmp.db);
    for (int i = 0; i < N; i++) {
        w[i] = (worker){ .fx = fx, .n = i };
        assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    assert_int_equal(pthread_create(&rc, NULL, reconfigure, fx), 0);
    for (int i = 0; i < N; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(w[i].failures, 0);
    }
    assert_int_equal(pthread_join(rc, NULL), 0);
    /* Every tenant is in the map. */
    cr_entry_list all = {0};
    cr_store_err err;
    assert_int_equal(cr_store_list(fx->p->state.store, "w", &all, &err),
                     CR_STORE_OK);
    assert_int_equal(all.len, N * 5);
    cr_entry_list_free(&all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_method_table),
        cmocka_unit_test_setup_teardown(test_wrong_request_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_provider_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_response_is_cached, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_get_metadata, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_provider_config, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_configure_provider, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_configure_malformed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stop_provider, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_sources_unknown, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_validate_resource_config, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_malformed_dynamic_values, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mutated_dynamic_values, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_states_must_be_known, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_conflict_keeps_prior, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_resource_state, setup,
                                        teardown),
        cmocka_unit_test(test_plan_rules),
        cmocka_unit_test(test_apply_rules),
        cmocka_unit_test(test_conformance),
        cmocka_unit_test(test_upgrade_chain),
        cmocka_unit_test_setup_teardown(test_json_dynamic_value, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_calls, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
