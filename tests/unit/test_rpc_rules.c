/*
 * tests/unit/test_rpc_rules.c — the rpc layer against resources that
 * misbehave on purpose.
 *
 * The real cellrouter_tenant follows Terraform's rules, so it cannot show
 * that the rpc layer catches a resource that does not. This program brings
 * its own registry (cr_resources/cr_resource_find, taken by the linker
 * instead of resource/registry.c, which nothing else here needs) serving
 * "cellrouter_fake": a resource with nested attributes and a list block
 * whose plan, apply, read and import break one rule at a time, chosen by
 * `mode`. Like test_rpc.c it goes through the method table with packed and
 * unpacked messages, on the server's detached cr_call (support/support.h).
 *
 * Each test checks that the broken answer never reaches Terraform: an error
 * diagnostic naming the attribute instead, and a state Terraform can keep.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rpc/internal.h"
#include "support/support.h"

/* ---- the fake resource ------------------------------------------------------ */

typedef enum mode {
    M_OK = 0,
    /* plan */
    M_PLAN_CHANGE_REQUIRED, M_PLAN_SET_OPTIONAL, M_PLAN_NULL,
    M_PLAN_WRONG_TYPE, M_PLAN_NESTED_CHANGE, M_PLAN_BLOCK_NULL,
    M_PLAN_ERROR, M_PLAN_EXTRA_REPLACE, M_PLAN_RELABEL,
    /* apply */
    M_APPLY_CHANGE_KNOWN, M_APPLY_LEAVE_UNKNOWN, M_APPLY_NULL,
    M_APPLY_NOT_DELETED, M_APPLY_FAIL,
    /* read */
    M_READ_UNKNOWN, M_READ_GONE, M_READ_WRONG_TYPE,
    /* import */
    M_IMPORT_NULL, M_IMPORT_UNKNOWN,
} mode;

static mode g_mode;
static int g_plan_calls;
static bool g_broken_registry;

static const cr_attr_schema nested_attrs[] = {
    { .name = "a", .type = &cr_type_string, .flags = CR_ATTR_REQUIRED,
      .description = "A." },
    { .name = "b", .type = &cr_type_string, .flags = CR_ATTR_COMPUTED,
      .description = "B." },
};
static const cr_schema nested_schema = {
    .nattrs = 2, .attrs = nested_attrs,
};
static const cr_attr_schema rule_attrs[] = {
    { .name = "x", .type = &cr_type_string, .flags = CR_ATTR_OPTIONAL,
      .description = "X." },
};
static const cr_schema rule_schema = {
    .description = "A rule.", .nattrs = 1, .attrs = rule_attrs,
};
static const cr_attr_schema site_attrs[] = {
    { .name = "url", .type = &cr_type_string, .flags = CR_ATTR_OPTIONAL,
      .description = "URL." },
};
static const cr_schema site_schema = {
    .nattrs = 1, .attrs = site_attrs,
};
static const cr_block_schema fake_blocks[] = {
    { .type_name = "rule", .nesting = CR_NEST_LIST, .block = &rule_schema },
    { .type_name = "site", .nesting = CR_NEST_MAP, .block = &site_schema },
};
static const cr_attr_schema fake_attrs[] = {
    { .name = "id", .type = &cr_type_string,
      .flags = CR_ATTR_COMPUTED | CR_ATTR_USE_STATE, .description = "Id." },
    { .name = "name", .type = &cr_type_string,
      .flags = CR_ATTR_REQUIRED | CR_ATTR_FORCE_NEW, .description = "Name." },
    { .name = "opt", .type = &cr_type_string, .flags = CR_ATTR_OPTIONAL,
      .description = "Opt." },
    { .name = "oc", .type = &cr_type_string,
      .flags = CR_ATTR_OPTIONAL | CR_ATTR_COMPUTED | CR_ATTR_USE_STATE,
      .description = "Oc." },
    { .name = "secret", .type = &cr_type_string,
      .flags = CR_ATTR_OPTIONAL | CR_ATTR_SENSITIVE,
      .description = "Secret." },
    { .name = "nested", .nested = &nested_schema,
      .nested_mode = CR_NEST_SINGLE, .flags = CR_ATTR_OPTIONAL,
      .description = "Nested." },
};
static const cr_schema fake_schema = {
    .version = 1, .description = "A fake.",
    .nattrs = sizeof fake_attrs / sizeof fake_attrs[0], .attrs = fake_attrs,
    .nblocks = 2, .blocks = fake_blocks,
};

static const cr_type *T(void)
{
    return cr_test_type(&fake_schema);
}

static bool is_null(const cr_value *v)
{
    return v == NULL || v->kind == CR_NULL;
}

static void fake_validate(const cr_value *config, cr_diags *diags)
{
    (void)config;
    (void)diags;
}

/* The framework's default plan already has id and oc unknown on create and
 * kept on update (both CR_ATTR_USE_STATE); this adds the nested computed
 * attribute, then breaks the plan as `mode` says. */
static void fake_plan(cr_provider_state *p, const cr_plan_req *req,
                      cr_plan_resp *resp)
{
    (void)p;
    g_plan_calls++;
    if (g_mode == M_PLAN_ERROR) {
        cr_diags_attr_error(&resp->diags, "name", "Bad name", "%s", "no");
        return;
    }
    cr_value *pl = resp->planned;
    resp->planned = NULL;
    assert_non_null(pl);
    if (g_mode == M_PLAN_NULL) {
        cr_value_free(pl);
        return;
    }
    const cr_value *nc = cr_value_get(req->config, "nested");
    if (!is_null(nc)) {
        cr_value *n = cr_value_copy(nc);
        cr_test_set(n, "b", cr_value_unknown(&cr_type_string));
        if (g_mode == M_PLAN_NESTED_CHANGE)
            cr_test_set(n, "a", cr_value_string("changed"));
        cr_test_set(pl, "nested", n);
    }
    switch (g_mode) {
    case M_PLAN_CHANGE_REQUIRED:
        cr_test_set(pl, "name", cr_value_string("not-the-config"));
        break;
    case M_PLAN_SET_OPTIONAL:
        cr_test_set(pl, "opt", cr_value_string("a default"));
        break;
    case M_PLAN_WRONG_TYPE:
        cr_test_set(pl, "opt", cr_value_int(7));
        break;
    case M_PLAN_BLOCK_NULL:
        cr_test_set(pl, "rule", cr_value_null(cr_test_attr_type(T(), "rule")));
        break;
    case M_PLAN_RELABEL: {
        cr_value *m = cr_value_collection(cr_test_attr_type(T(), "site"));
        cr_value *blk = cr_value_object(cr_test_attr_type(T(), "site")->elem);
        assert_non_null(m);
        assert_non_null(blk);
        assert_int_equal(cr_value_map_put(m, "elsewhere", blk), 0);
        cr_test_set(pl, "site", m);
        break;
    }
    case M_PLAN_EXTRA_REPLACE: {
        /* Added to the force-new paths the framework listed. */
        size_t n = resp->nrequires_replace;
        cr_path *rr = realloc(resp->requires_replace, (n + 1) * sizeof *rr);
        assert_non_null(rr);
        memset(&rr[n], 0, sizeof rr[n]);
        assert_int_equal(cr_path_push_attr(&rr[n], "opt"), 0);
        resp->requires_replace = rr;
        resp->nrequires_replace = n + 1;
        break;
    }
    default:
        break;
    }
    resp->planned = pl;
}

/* Fills the unknowns a real apply would learn. */
static cr_value *filled(const cr_value *planned)
{
    cr_value *s = cr_value_copy(planned);
    assert_non_null(s);
    if (cr_value_is_unknown(cr_value_get(s, "id")))
        cr_test_set(s, "id", cr_value_string("fake-1"));
    if (cr_value_is_unknown(cr_value_get(s, "oc")))
        cr_test_set(s, "oc", cr_value_string("default"));
    const cr_value *n = cr_value_get(s, "nested");
    if (!is_null(n)) {
        cr_value *nn = cr_value_copy(n);
        cr_test_set(nn, "b", cr_value_string("bee"));
        cr_test_set(s, "nested", nn);
    }
    return s;
}

/* Create, update and delete alike. */
static void fake_apply(cr_provider_state *p, const cr_apply_req *req,
                       cr_apply_resp *resp)
{
    (void)p;
    if (g_mode == M_APPLY_FAIL) {
        cr_diags_error(&resp->diags, NULL, "Store failed", "%s", "boom");
        return;                             /* new_state left NULL */
    }
    if (!req->planned) {
        if (g_mode == M_APPLY_NOT_DELETED)
            resp->new_state = cr_value_copy(req->prior);
        return;
    }
    if (g_mode == M_APPLY_NULL)
        return;
    if (g_mode == M_APPLY_LEAVE_UNKNOWN) {
        resp->new_state = cr_value_copy(req->planned);
        return;
    }
    resp->new_state = filled(req->planned);
    if (g_mode == M_APPLY_CHANGE_KNOWN)
        cr_test_set(resp->new_state, "name", cr_value_string("normalised"));
}

static void fake_read(cr_provider_state *p, const cr_read_req *req,
                      cr_read_resp *resp)
{
    (void)p;
    if (g_mode == M_READ_GONE)
        return;
    resp->new_state = cr_value_copy(req->state);
    if (g_mode == M_READ_UNKNOWN)
        cr_test_set(resp->new_state, "oc", cr_value_unknown(&cr_type_string));
    if (g_mode == M_READ_WRONG_TYPE)
        cr_test_set(resp->new_state, "name", cr_value_bool(true));
}

static void fake_import(cr_provider_state *p, const cr_import_req *req,
                        cr_import_resp *resp)
{
    (void)p;
    if (g_mode == M_IMPORT_NULL)
        return;
    resp->state = cr_value_object(T());
    assert_non_null(resp->state);
    cr_test_set(resp->state, "id", cr_value_string(req->id));
    cr_test_set(resp->state, "rule",
                cr_value_collection(cr_test_attr_type(T(), "rule")));
    cr_test_set(resp->state, "site",
                cr_value_collection(cr_test_attr_type(T(), "site")));
    if (g_mode == M_IMPORT_UNKNOWN)
        cr_test_set(resp->state, "name", cr_value_unknown(&cr_type_string));
}

/* The provider here is never configured: the fake needs no store. */
static const cr_resource_type fake_resource = {
    .type_name = "cellrouter_fake",
    .schema = &fake_schema,
    .flags = CR_RESOURCE_NO_STORE,
    .validate_config = fake_validate,
    .modify_plan = fake_plan,
    .create = fake_apply,
    .update = fake_apply,
    .delete = fake_apply,
    .read = fake_read,
    .import_state = fake_import,
};

/* A resource whose schema Terraform would refuse. */
static const cr_attr_schema broken_attrs[] = {
    { .name = "flagless", .type = &cr_type_string, .flags = 0 },
    { .name = "Bad-Name", .type = &cr_type_string,
      .flags = CR_ATTR_REQUIRED | CR_ATTR_COMPUTED },
};
static const cr_schema broken_schema = {
    .nattrs = 2, .attrs = broken_attrs,
};
static const cr_resource_type broken_resource = {
    .type_name = "cellrouter_broken", .schema = &broken_schema,
    .flags = CR_RESOURCE_NO_STORE, .validate_config = fake_validate,
    .modify_plan = fake_plan, .create = fake_apply, .update = fake_apply,
    .delete = fake_apply, .read = fake_read, .import_state = fake_import,
};

static const cr_resource_type *const good_list[] = { &fake_resource };
static const cr_resource_type *const broken_list[] = { &fake_resource,
                                                       &broken_resource };

const cr_resource_type *const *cr_resources(size_t *count)
{
    *count = g_broken_registry ? 2 : 1;
    return g_broken_registry ? broken_list : good_list;
}

const cr_resource_type *cr_resource_find(const char *type_name)
{
    size_t n;
    const cr_resource_type *const *l = cr_resources(&n);
    for (size_t i = 0; i < n; i++)
        if (type_name && strcmp(l[i]->type_name, type_name) == 0)
            return l[i];
    return NULL;
}

/* ---- fixture and calls ------------------------------------------------------- */

static int setup(void **state)
{
    g_mode = M_OK;
    g_plan_calls = 0;
    g_broken_registry = false;
    cr_rpc_provider *p = cr_rpc_provider_new();
    assert_non_null(p);
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    cr_rpc_provider_free(*state);
    return 0;
}

/* The config { name, opt, nested = { a } or null, rule = [] }. */
static cr_value *config(const char *name, const char *opt, const char *nested_a)
{
    cr_value *o = cr_value_object(T());
    assert_non_null(o);
    cr_test_set(o, "name", cr_value_string(name));
    if (opt)
        cr_test_set(o, "opt", cr_value_string(opt));
    if (nested_a) {
        cr_value *n = cr_value_object(cr_test_attr_type(T(), "nested"));
        assert_non_null(n);
        cr_test_set(n, "a", cr_value_string(nested_a));
        cr_test_set(o, "nested", n);
    }
    cr_test_set(o, "rule", cr_value_collection(cr_test_attr_type(T(), "rule")));
    cr_value *sites = cr_value_collection(cr_test_attr_type(T(), "site"));
    cr_value *home = cr_value_object(cr_test_attr_type(T(), "site")->elem);
    assert_non_null(sites);
    assert_non_null(home);
    cr_test_set(home, "url", cr_value_string("https://home.example"));
    assert_int_equal(cr_value_map_put(sites, "home", home), 0);
    cr_test_set(o, "site", sites);
    return o;
}

/* Asserts exactly one error, whose path is the attribute names given
 * (NULL-terminated; none = no path) and whose summary contains `summary`. */
static void expect_error(Tfplugin6__Diagnostic **d, size_t n,
                         const char *summary, ...)
{
    if (cr_test_pb_errors(d, n) != 1)
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "  diag: %s: %s\n", d[i]->summary, d[i]->detail);
    assert_int_equal(cr_test_pb_errors(d, n), 1);
    assert_non_null(strstr(d[0]->summary, summary));
    va_list ap;
    va_start(ap, summary);
    size_t steps = 0;
    for (const char *a = va_arg(ap, const char *); a;
         a = va_arg(ap, const char *), steps++) {
        assert_non_null(d[0]->attribute);
        assert_true(steps < d[0]->attribute->n_steps);
        assert_string_equal(d[0]->attribute->steps[steps]->attribute_name, a);
    }
    va_end(ap);
    if (steps == 0)
        assert_null(d[0]->attribute);
    else
        assert_int_equal(d[0]->attribute->n_steps, steps);
}

/* PlanResourceChange and ApplyResourceChange of the fake, requests built
 * as Terraform builds them (tests/unit/support). */
static Tfplugin6__PlanResourceChange__Response *
plan(cr_rpc_provider *p, const cr_value *prior, const cr_value *cfg)
{
    return cr_test_rpc_plan(p, "cellrouter_fake", prior, cfg, NULL);
}

static Tfplugin6__ApplyResourceChange__Response *
apply(cr_rpc_provider *p, const cr_value *prior, const cr_value *planned,
      const cr_value *cfg)
{
    return cr_test_rpc_apply(p, "cellrouter_fake", prior, planned, cfg);
}

/* A created object: planned and applied in M_OK. */
static cr_value *created(cr_rpc_provider *p, const cr_value *cfg)
{
    mode saved = g_mode;
    g_mode = M_OK;
    Tfplugin6__PlanResourceChange__Response *pr = plan(p, NULL, cfg);
    assert_int_equal(pr->n_diagnostics, 0);
    cr_value *planned = cr_test_undv(pr->planned_state, T());
    Tfplugin6__ApplyResourceChange__Response *ar = apply(p, NULL, planned,
                                                         cfg);
    assert_int_equal(ar->n_diagnostics, 0);
    cr_value *s = cr_test_undv(ar->new_state, T());
    assert_non_null(s);
    protobuf_c_message_free_unpacked(&pr->base, NULL);
    protobuf_c_message_free_unpacked(&ar->base, NULL);
    cr_value_free(planned);
    g_mode = saved;
    return s;
}

/* ---- schema ------------------------------------------------------------------- */

static void test_schema_nested(void **state)
{
    Tfplugin6__GetProviderSchema__Request req =
        TFPLUGIN6__GET_PROVIDER_SCHEMA__REQUEST__INIT;
    Tfplugin6__GetProviderSchema__Response *r =
        cr_test_invoke(*state, "GetProviderSchema", &req.base);
    assert_int_equal(r->n_diagnostics, 0);
    assert_int_equal(r->n_resource_schemas, 1);
    const Tfplugin6__Schema *s = r->resource_schemas[0]->value;
    assert_int_equal(s->version, 1);

    const Tfplugin6__Schema__Attribute *nested = NULL, *secret = NULL;
    for (size_t i = 0; i < s->block->n_attributes; i++) {
        if (strcmp(s->block->attributes[i]->name, "nested") == 0)
            nested = s->block->attributes[i];
        if (strcmp(s->block->attributes[i]->name, "secret") == 0)
            secret = s->block->attributes[i];
    }
    assert_non_null(secret);
    assert_true(secret->sensitive);
    /* A nested attribute has a nested_type and no type bytes. */
    assert_non_null(nested);
    assert_int_equal(nested->type.len, 0);
    assert_non_null(nested->nested_type);
    assert_int_equal(nested->nested_type->nesting,
                     TFPLUGIN6__SCHEMA__OBJECT__NESTING_MODE__SINGLE);
    assert_int_equal(nested->nested_type->n_attributes, 2);
    assert_string_equal(nested->nested_type->attributes[0]->name, "a");
    assert_true(nested->nested_type->attributes[0]->required);
    assert_true(nested->nested_type->attributes[1]->computed);

    /* The list block, with its own block. */
    assert_int_equal(s->block->n_block_types, 2);
    assert_int_equal(s->block->block_types[1]->nesting,
                     TFPLUGIN6__SCHEMA__NESTED_BLOCK__NESTING_MODE__MAP);
    const Tfplugin6__Schema__NestedBlock *b = s->block->block_types[0];
    assert_string_equal(b->type_name, "rule");
    assert_int_equal(b->nesting,
                     TFPLUGIN6__SCHEMA__NESTED_BLOCK__NESTING_MODE__LIST);
    assert_non_null(b->block);
    assert_string_equal(b->block->description, "A rule.");
    assert_int_equal(b->block->n_attributes, 1);
    assert_int_equal(b->block->attributes[0]->type.len, strlen("\"string\""));
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

static void test_schema_refused(void **state)
{
    g_broken_registry = true;
    for (int round = 0; round < 2; round++) {
        Tfplugin6__GetProviderSchema__Request req =
            TFPLUGIN6__GET_PROVIDER_SCHEMA__REQUEST__INIT;
        Tfplugin6__GetProviderSchema__Response *r =
            cr_test_invoke(*state, "GetProviderSchema", &req.base);
        /* Errors for each mistake, no schema Terraform could trip on. */
        assert_int_equal(
            cr_test_pb_errors(r->diagnostics, r->n_diagnostics), 3);
        for (size_t i = 0; i < r->n_diagnostics; i++) {
            assert_string_equal(r->diagnostics[i]->summary,
                                "Invalid provider schema");
            assert_non_null(strstr(r->diagnostics[i]->detail,
                                   "cellrouter_broken"));
        }
        assert_null(r->provider);
        assert_int_equal(r->n_resource_schemas, 0);
        protobuf_c_message_free_unpacked(&r->base, NULL);
    }
    /* Not cached: once the registry is right, the schema is served. */
    g_broken_registry = false;
    Tfplugin6__GetProviderSchema__Request req =
        TFPLUGIN6__GET_PROVIDER_SCHEMA__REQUEST__INIT;
    Tfplugin6__GetProviderSchema__Response *r =
        cr_test_invoke(*state, "GetProviderSchema", &req.base);
    assert_int_equal(r->n_diagnostics, 0);
    assert_non_null(r->provider);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* ---- plan ----------------------------------------------------------------------- */

static void test_plan_ok_and_nested(void **state)
{
    cr_value *cfg = config("n", NULL, "alpha");
    Tfplugin6__PlanResourceChange__Response *r = plan(*state, NULL, cfg);
    assert_int_equal(r->n_diagnostics, 0);
    cr_value *pl = cr_test_undv(r->planned_state, T());
    assert_non_null(pl);
    assert_true(cr_value_is_unknown(cr_value_get(pl, "id")));
    const cr_value *n = cr_value_get(pl, "nested");
    assert_string_equal(cr_value_get_str(n, "a"), "alpha");
    assert_true(cr_value_is_unknown(cr_value_get(n, "b")));
    assert_int_equal(r->n_requires_replace, 0);
    cr_value_free(pl);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    cr_value_free(cfg);
}

static void test_plan_violations(void **state)
{
    static const struct {
        mode m;
        const char *summary;
        const char *path[3];
    } cases[] = {
        { M_PLAN_CHANGE_REQUIRED, "invalid plan", { "name" } },
        { M_PLAN_SET_OPTIONAL, "invalid plan", { "opt" } },
        { M_PLAN_WRONG_TYPE, "invalid plan", { "opt" } },
        { M_PLAN_NESTED_CHANGE, "invalid plan", { "nested", "a" } },
        { M_PLAN_BLOCK_NULL, "invalid plan", { "rule" } },
        { M_PLAN_NULL, "invalid plan", { NULL } },
        { M_PLAN_ERROR, "Bad name", { "name" } },
    };
    cr_value *cfg = config("n", NULL, "alpha");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        g_mode = cases[i].m;
        Tfplugin6__PlanResourceChange__Response *r = plan(*state, NULL, cfg);
        expect_error(r->diagnostics, r->n_diagnostics, cases[i].summary,
                     cases[i].path[0], cases[i].path[1], cases[i].path[2],
                     NULL);
        /* No plan reaches Terraform. */
        assert_null(r->planned_state);
        protobuf_c_message_free_unpacked(&r->base, NULL);
    }
    cr_value_free(cfg);
}

/* A MAP block planned under a label the configuration does not have. */
static void test_plan_map_block_labels(void **state)
{
    cr_value *cfg = config("n", NULL, NULL);
    g_mode = M_PLAN_RELABEL;
    Tfplugin6__PlanResourceChange__Response *r = plan(*state, NULL, cfg);
    assert_int_equal(cr_test_pb_errors(r->diagnostics, r->n_diagnostics), 1);
    const Tfplugin6__AttributePath *ap = r->diagnostics[0]->attribute;
    assert_non_null(ap);
    assert_int_equal(ap->n_steps, 2);
    assert_string_equal(ap->steps[0]->attribute_name, "site");
    assert_int_equal(ap->steps[1]->selector_case,
                     TFPLUGIN6__ATTRIBUTE_PATH__STEP__SELECTOR_ELEMENT_KEY_STRING);
    assert_string_equal(ap->steps[1]->element_key_string, "elsewhere");
    assert_null(r->planned_state);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    cr_value_free(cfg);
}

static void test_plan_destroy_and_replace(void **state)
{
    cr_value *cfg = config("n", "o", NULL);
    cr_value *s = created(*state, cfg);

    /* Destroy: null, and the resource is not asked. */
    g_plan_calls = 0;
    g_mode = M_PLAN_CHANGE_REQUIRED;
    Tfplugin6__PlanResourceChange__Response *r = plan(*state, s, NULL);
    assert_int_equal(r->n_diagnostics, 0);
    assert_non_null(r->planned_state);
    assert_null(cr_test_undv(r->planned_state, T()));
    assert_int_equal(g_plan_calls, 0);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    /* A force-new attribute that changes is listed even if the resource
     * forgot it; one the resource listed that does not change is not. */
    g_mode = M_PLAN_EXTRA_REPLACE;
    cr_value *cfg2 = config("renamed", "o", NULL);
    r = plan(*state, s, cfg2);
    assert_int_equal(r->n_diagnostics, 0);
    assert_int_equal(r->n_requires_replace, 1);
    assert_int_equal(r->requires_replace[0]->n_steps, 1);
    assert_string_equal(r->requires_replace[0]->steps[0]->attribute_name,
                        "name");
    protobuf_c_message_free_unpacked(&r->base, NULL);

    /* Nothing changes: nothing to replace. */
    r = plan(*state, s, cfg);
    assert_int_equal(r->n_diagnostics, 0);
    assert_int_equal(r->n_requires_replace, 0);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    cr_value_free(cfg2);
    cr_value_free(cfg);
    cr_value_free(s);
}

/* ---- apply ---------------------------------------------------------------------- */

static void test_apply_violations(void **state)
{
    cr_value *cfg = config("n", NULL, "alpha");
    Tfplugin6__PlanResourceChange__Response *pr = plan(*state, NULL, cfg);
    cr_value *planned = cr_test_undv(pr->planned_state, T());
    assert_non_null(planned);
    protobuf_c_message_free_unpacked(&pr->base, NULL);

    /* A known planned value changed: reported at its path; the object
     * that exists is still answered, so Terraform can track it. */
    g_mode = M_APPLY_CHANGE_KNOWN;
    Tfplugin6__ApplyResourceChange__Response *r = apply(*state, NULL, planned,
                                                        cfg);
    expect_error(r->diagnostics, r->n_diagnostics, "inconsistent result",
                 "name", NULL);
    cr_value *s = cr_test_undv(r->new_state, T());
    assert_non_null(s);
    assert_string_equal(cr_value_get_str(s, "name"), "normalised");
    cr_value_free(s);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    /* Unknowns left in the result: never stored; null on a create. */
    g_mode = M_APPLY_LEAVE_UNKNOWN;
    r = apply(*state, NULL, planned, cfg);
    assert_true(cr_test_pb_errors(r->diagnostics, r->n_diagnostics) >= 1);
    assert_null(cr_test_undv(r->new_state, T()));
    protobuf_c_message_free_unpacked(&r->base, NULL);

    /* Null after a create. */
    g_mode = M_APPLY_NULL;
    r = apply(*state, NULL, planned, cfg);
    expect_error(r->diagnostics, r->n_diagnostics, "inconsistent result",
                 NULL);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    g_mode = M_OK;
    r = apply(*state, NULL, planned, cfg);
    assert_int_equal(r->n_diagnostics, 0);
    cr_value *made = cr_test_undv(r->new_state, T());
    assert_true(cr_value_is_wholly_known(made));
    protobuf_c_message_free_unpacked(&r->base, NULL);

    /* Not null after a destroy. */
    g_mode = M_APPLY_NOT_DELETED;
    r = apply(*state, made, NULL, NULL);
    expect_error(r->diagnostics, r->n_diagnostics, "inconsistent result",
                 NULL);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    /* A failed update with no state from the resource answers the prior
     * state: the object is still what it was. */
    g_mode = M_APPLY_FAIL;
    r = apply(*state, made, planned, cfg);
    expect_error(r->diagnostics, r->n_diagnostics, "Store failed", NULL);
    s = cr_test_undv(r->new_state, T());
    assert_non_null(s);
    assert_true(cr_value_equal(s, made));
    cr_value_free(s);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    cr_value_free(made);
    cr_value_free(planned);
    cr_value_free(cfg);
}

/* ---- read and import ------------------------------------------------------------- */

static Tfplugin6__ReadResource__Response *read_(cr_rpc_provider *p,
                                               const cr_value *cur)
{
    Tfplugin6__ReadResource__Request req = TFPLUGIN6__READ_RESOURCE__REQUEST__INIT;
    req.type_name = "cellrouter_fake";
    req.current_state = cr_test_dv(cur);
    Tfplugin6__ReadResource__Response *r =
        cr_test_invoke(p, "ReadResource", &req.base);
    cr_test_dv_free(req.current_state);
    return r;
}

static void test_read_rules(void **state)
{
    cr_value *cfg = config("n", NULL, NULL);
    cr_value *s = created(*state, cfg);

    g_mode = M_READ_UNKNOWN;
    Tfplugin6__ReadResource__Response *r = read_(*state, s);
    expect_error(r->diagnostics, r->n_diagnostics, "invalid state", NULL);
    cr_value *v = cr_test_undv(r->new_state, T());
    assert_true(cr_value_equal(v, s));       /* kept what Terraform had */
    cr_value_free(v);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    g_mode = M_READ_WRONG_TYPE;
    r = read_(*state, s);
    expect_error(r->diagnostics, r->n_diagnostics, "invalid state", "name",
                 NULL);
    v = cr_test_undv(r->new_state, T());
    assert_true(cr_value_equal(v, s));
    cr_value_free(v);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    g_mode = M_READ_GONE;
    r = read_(*state, s);
    assert_int_equal(r->n_diagnostics, 0);
    assert_non_null(r->new_state);
    assert_null(cr_test_undv(r->new_state, T()));
    protobuf_c_message_free_unpacked(&r->base, NULL);

    cr_value_free(s);
    cr_value_free(cfg);
}

static void test_import_rules(void **state)
{
    Tfplugin6__ImportResourceState__Request req =
        TFPLUGIN6__IMPORT_RESOURCE_STATE__REQUEST__INIT;
    req.type_name = "cellrouter_fake";
    req.id = "x1";

    Tfplugin6__ImportResourceState__Response *r =
        cr_test_invoke(*state, "ImportResourceState", &req.base);
    assert_int_equal(r->n_diagnostics, 0);
    assert_int_equal(r->n_imported_resources, 1);
    assert_string_equal(r->imported_resources[0]->type_name,
                        "cellrouter_fake");
    cr_value *v = cr_test_undv(r->imported_resources[0]->state, T());
    assert_string_equal(cr_value_get_str(v, "id"), "x1");
    cr_value_free(v);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    g_mode = M_IMPORT_NULL;
    r = cr_test_invoke(*state, "ImportResourceState", &req.base);
    expect_error(r->diagnostics, r->n_diagnostics,
                 "Import returned no resources", NULL);
    assert_int_equal(r->n_imported_resources, 0);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    g_mode = M_IMPORT_UNKNOWN;
    r = cr_test_invoke(*state, "ImportResourceState", &req.base);
    expect_error(r->diagnostics, r->n_diagnostics, "invalid imported state",
                 NULL);
    assert_int_equal(r->n_imported_resources, 0);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    /* Another type name: an error diagnostic, not a status. */
    g_mode = M_OK;
    req.type_name = "cellrouter_other";
    r = cr_test_invoke(*state, "ImportResourceState", &req.base);
    expect_error(r->diagnostics, r->n_diagnostics, "Unknown resource type",
                 NULL);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* Conformance errors are reported at the full path: the caller's prefix,
 * then the steps inside the value (attributes, keys, indexes), however
 * deep (the check keeps a stack of borrowed names that grows past 16). */
static void test_conforms_paths(void **state)
{
    (void)state;
    enum { DEPTH = 20 };
    cr_type_attr attr[DEPTH];
    cr_type lists[DEPTH], objs[DEPTH];
    /* object{a: list(object{a: list(... string)})}, DEPTH levels. */
    const cr_type *inner = &cr_type_string;
    for (int i = DEPTH - 1; i >= 0; i--) {
        lists[i] = (cr_type){ .kind = CR_TYPE_LIST, .elem = inner };
        attr[i] = (cr_type_attr){ .name = "a", .type = &lists[i] };
        objs[i] = (cr_type){ .kind = CR_TYPE_OBJECT, .nattrs = 1,
                             .attrs = &attr[i] };
        inner = &objs[i];
    }
    cr_value *leaf = cr_value_collection(&lists[DEPTH - 1]);
    assert_int_equal(cr_value_append(leaf, cr_value_bool(true)), 0);
    cr_value *v = leaf;
    for (int i = DEPTH - 1; i >= 0; i--) {
        cr_value *o = cr_value_object(&objs[i]);
        assert_int_equal(cr_value_object_set(o, "a", v), 0);
        if (i == 0) {
            v = o;
            break;
        }
        v = cr_value_collection(&lists[i - 1]);
        assert_int_equal(cr_value_append(v, o), 0);
    }
    cr_path prefix = {0};
    assert_int_equal(cr_path_push_attr(&prefix, "top"), 0);
    assert_int_equal(cr_path_push_key(&prefix, "k"), 0);
    cr_diags d = CR_DIAGS_INIT;
    cr_rpc_check_conforms(v, &objs[0], &prefix, "Bad", &d);
    assert_int_equal(d.len, 1);
    const cr_path *at = &d.items[0].path;
    assert_int_equal(at->len, 2 + 2 * DEPTH);
    assert_string_equal(at->steps[0].name, "top");
    assert_string_equal(at->steps[1].name, "k");
    for (int i = 0; i < DEPTH; i++) {
        assert_int_equal(at->steps[2 + 2 * i].kind, CR_STEP_ATTR);
        assert_string_equal(at->steps[2 + 2 * i].name, "a");
        assert_int_equal(at->steps[3 + 2 * i].kind, CR_STEP_INDEX);
        assert_int_equal(at->steps[3 + 2 * i].index, 0);
    }
    assert_non_null(strstr(d.items[0].detail, "the value is not a string."));
    /* The caller's path is as it was. */
    assert_int_equal(prefix.len, 2);
    cr_diags_free(&d);
    cr_path_free(&prefix);
    cr_value_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_schema_nested, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plan_ok_and_nested, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_plan_violations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plan_map_block_labels, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_plan_destroy_and_replace, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_apply_violations, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_read_rules, setup, teardown),
        cmocka_unit_test(test_conforms_paths),
        cmocka_unit_test_setup_teardown(test_import_rules, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
