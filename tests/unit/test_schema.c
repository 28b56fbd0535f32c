/*
 * tests/unit/test_schema.c — the types schemas imply, their cache, and the
 * resource registry.
 *
 * The rpc layer decodes every value Terraform sends against
 * cr_schema_type(schema), so a wrong attribute type here is a decode error
 * in front of the user. The expected types below are written out in
 * Terraform's JSON type notation and compared through the value module's
 * parser, which keeps the expectations readable.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "resource/resource.h"

static void assert_type_json(const cr_type *t, const char *json)
{
    char *err = NULL;
    cr_type *want = cr_type_from_json(json, strlen(json), &err);
    if (!want) {
        fprintf(stderr, "bad expectation %s: %s\n", json, err ? err : "?");
        free(err);
        fail();
    }
    if (!cr_type_equal(t, want)) {
        char *got = cr_type_to_json(t);
        fprintf(stderr, "type %s, expected %s\n", got ? got : "?", json);
        free(got);
        cr_type_free(want);
        fail();
    }
    cr_type_free(want);
}

/* A schema exercising every nesting mode, attribute and block. */
static const cr_attr_schema leaf_attrs[] = {
    { .name = "port", .type = &cr_type_number, .flags = CR_ATTR_REQUIRED },
    { .name = "name", .type = &cr_type_string, .flags = CR_ATTR_OPTIONAL },
};
static const cr_schema leaf = {
    .nattrs = 2, .attrs = leaf_attrs,
};
static const cr_attr_schema inner_attrs[] = {
    { .name = "enabled", .type = &cr_type_bool, .flags = CR_ATTR_OPTIONAL },
};
static const cr_block_schema inner_blocks[] = {
    { .type_name = "rule", .nesting = CR_NEST_LIST, .block = &leaf },
};
static const cr_schema inner = {
    .nattrs = 1, .attrs = inner_attrs, .nblocks = 1, .blocks = inner_blocks,
};
static const cr_attr_schema outer_attrs[] = {
    { .name = "id", .type = &cr_type_string, .flags = CR_ATTR_COMPUTED },
    { .name = "one", .nested = &leaf, .nested_mode = CR_NEST_SINGLE,
      .flags = CR_ATTR_OPTIONAL },
    { .name = "many", .nested = &leaf, .nested_mode = CR_NEST_LIST,
      .flags = CR_ATTR_OPTIONAL },
    { .name = "bag", .nested = &leaf, .nested_mode = CR_NEST_SET,
      .flags = CR_ATTR_OPTIONAL },
    { .name = "byname", .nested = &leaf, .nested_mode = CR_NEST_MAP,
      .flags = CR_ATTR_OPTIONAL },
};
static const cr_block_schema outer_blocks[] = {
    { .type_name = "single", .nesting = CR_NEST_SINGLE, .block = &inner,
      .max_items = 1 },
    { .type_name = "group", .nesting = CR_NEST_GROUP, .block = &leaf },
    { .type_name = "list", .nesting = CR_NEST_LIST, .block = &leaf },
    { .type_name = "set", .nesting = CR_NEST_SET, .block = &leaf },
    { .type_name = "map", .nesting = CR_NEST_MAP, .block = &inner },
};
static const cr_schema outer = {
    .nattrs = 5, .attrs = outer_attrs, .nblocks = 5, .blocks = outer_blocks,
};

#define LEAF "[\"object\",{\"name\":\"string\",\"port\":\"number\"}]"
#define INNER "[\"object\",{\"enabled\":\"bool\",\"rule\":[\"list\"," LEAF "]}]"

static void test_nesting_modes(void **state)
{
    (void)state;
    const cr_type *t = cr_schema_type(&outer);
    assert_non_null(t);
    assert_int_equal(t->kind, CR_TYPE_OBJECT);
    assert_int_equal(t->nattrs, 10);
    assert_type_json(t,
        "[\"object\",{"
        "\"id\":\"string\","
        "\"one\":" LEAF ","
        "\"many\":[\"list\"," LEAF "],"
        "\"bag\":[\"set\"," LEAF "],"
        "\"byname\":[\"map\"," LEAF "],"
        "\"single\":" INNER ","
        "\"group\":" LEAF ","
        "\"list\":[\"list\"," LEAF "],"
        "\"set\":[\"set\"," LEAF "],"
        "\"map\":[\"map\"," INNER "]"
        "}]");
}

static void test_cache_returns_same_type(void **state)
{
    (void)state;
    const cr_type *a = cr_schema_type(&outer);
    const cr_type *b = cr_schema_type(&outer);
    assert_ptr_equal(a, b);
    /* The nested schema's own type is the one inside the outer type. */
    long i = cr_type_attr_index(a, "one");
    assert_true(i >= 0);
    assert_ptr_equal(a->attrs[i].type, cr_schema_type(&leaf));
    assert_null(cr_schema_type(NULL));
}

static const cr_schema lonely = {
    .nattrs = 1, .attrs = inner_attrs,
};

static void *type_of_lonely(void *arg)
{
    (void)arg;
    return (void *)cr_schema_type(&lonely);
}

static void test_cache_is_thread_safe(void **state)
{
    (void)state;
    /* Eight threads race to build the type of a schema nobody asked for
     * yet: they must all get the same one. */
    pthread_t th[8];
    void *got[8];
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&th[i], NULL, type_of_lonely, NULL),
                         0);
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_join(th[i], &got[i]), 0);
    assert_non_null(got[0]);
    for (int i = 1; i < 8; i++)
        assert_ptr_equal(got[i], got[0]);
    assert_type_json(got[0], "[\"object\",{\"enabled\":\"bool\"}]");
}

/* Schemas whose implied type cannot be built, over a nested schema whose
 * type is already cached. The cache holds its own reference to that type;
 * a failed parent build must release only the references it took, so the
 * cached type stays alive and the same (ASan reports a use after free, or a
 * leak of the collection built before the failure, if it does not). */
static const cr_schema shared_leaf = {
    .nattrs = 2, .attrs = leaf_attrs,
};
static const cr_attr_schema clash_attrs[] = {
    { .name = "x", .nested = &shared_leaf, .nested_mode = CR_NEST_SINGLE,
      .flags = CR_ATTR_OPTIONAL },
    { .name = "xs", .nested = &shared_leaf, .nested_mode = CR_NEST_LIST,
      .flags = CR_ATTR_OPTIONAL },
};
static const cr_block_schema clash_blocks[] = {
    /* Same name as attribute "x": the object constructor refuses it after
     * every member type has been built and handed over. */
    { .type_name = "x", .nesting = CR_NEST_SET, .block = &shared_leaf },
};
static const cr_schema clash = {
    .nattrs = 2, .attrs = clash_attrs, .nblocks = 1, .blocks = clash_blocks,
};
static const cr_attr_schema bad_mode_attrs[] = {
    { .name = "xs", .nested = &shared_leaf, .nested_mode = CR_NEST_MAP,
      .flags = CR_ATTR_OPTIONAL },
    /* GROUP is a block nesting mode only: the build stops here, after the
     * map type for "xs" was made. */
    { .name = "g", .nested = &shared_leaf, .nested_mode = CR_NEST_GROUP,
      .flags = CR_ATTR_OPTIONAL },
};
static const cr_schema bad_mode = {
    .nattrs = 2, .attrs = bad_mode_attrs,
};
static const cr_attr_schema user_attrs[] = {
    { .name = "one", .nested = &shared_leaf, .nested_mode = CR_NEST_SINGLE,
      .flags = CR_ATTR_OPTIONAL },
};
static const cr_schema user = {
    .nattrs = 1, .attrs = user_attrs,
};

static void test_failed_build_keeps_cached_types(void **state)
{
    (void)state;
    const cr_type *leaf_t = cr_schema_type(&shared_leaf);
    assert_non_null(leaf_t);

    for (int round = 0; round < 3; round++) {
        assert_null(cr_schema_type(&clash));
        assert_null(cr_schema_type(&bad_mode));
    }

    /* The cached type is still the one handed out before, still whole. */
    assert_ptr_equal(cr_schema_type(&shared_leaf), leaf_t);
    assert_type_json(leaf_t, LEAF);

    /* And it still serves as a parent's member type. */
    const cr_type *u = cr_schema_type(&user);
    assert_non_null(u);
    long i = cr_type_attr_index(u, "one");
    assert_true(i >= 0);
    assert_ptr_equal(u->attrs[i].type, leaf_t);
    assert_type_json(u, "[\"object\",{\"one\":" LEAF "}]");
}

static void test_attr_lookup(void **state)
{
    (void)state;
    const cr_attr_schema *a = cr_schema_attr(&outer, "many");
    assert_non_null(a);
    assert_int_equal(a->nested_mode, CR_NEST_LIST);
    assert_null(cr_schema_attr(&outer, "single"));     /* a block */
    assert_null(cr_schema_attr(&outer, "nope"));
    assert_null(cr_schema_attr(&outer, NULL));
}

static void test_registry(void **state)
{
    (void)state;
    size_t n = 0;
    const cr_resource_type *const *all = cr_resources(&n);
    assert_int_equal(n, 3);
    assert_string_equal(all[0]->type_name, "cellrouter_tenant");
    assert_ptr_equal(cr_resource_find("cellrouter_tenant"), all[0]);
    assert_string_equal(all[1]->type_name, "cellrouter_tenants");
    assert_ptr_equal(cr_resource_find("cellrouter_tenants"), all[1]);
    assert_string_equal(all[2]->type_name, "cellrouter_cell");
    assert_ptr_equal(cr_resource_find("cellrouter_cell"), all[2]);
    assert_null(cr_resource_find("cellrouter_region"));
    assert_null(cr_resource_find(""));
    assert_null(cr_resource_find(NULL));

    /* Every resource type is complete and named after the provider. */
    for (size_t i = 0; i < n; i++) {
        const cr_resource_type *r = all[i];
        assert_int_equal(strncmp(r->type_name, "cellrouter_", 11), 0);
        assert_non_null(r->schema);
        assert_non_null(r->validate_config);
        assert_non_null(r->modify_plan);
        assert_non_null(r->create);
        assert_non_null(r->update);
        assert_non_null(r->delete);
        assert_non_null(r->read);
        assert_non_null(r->import_state);
        assert_int_equal((int64_t)r->nupgraders, r->schema->version);
        for (size_t k = 0; k < r->nupgraders; k++)
            assert_int_equal(r->upgraders[k].from_version, (int64_t)k);
        assert_non_null(cr_schema_type(r->schema));
    }
}

static void test_tenant_type(void **state)
{
    (void)state;
    const cr_resource_type *r = cr_resource_find("cellrouter_tenant");
    assert_type_json(cr_schema_type(r->schema),
        "[\"object\",{"
        "\"id\":\"string\",\"tenant_id\":\"string\",\"cell_id\":\"string\","
        "\"endpoint\":\"string\",\"standby_cell_id\":\"string\","
        "\"standby_endpoint\":\"string\",\"labels\":[\"map\",\"string\"],"
        "\"version\":\"number\",\"updated_at\":\"string\"}]");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nesting_modes),
        cmocka_unit_test(test_cache_returns_same_type),
        cmocka_unit_test(test_cache_is_thread_safe),
        cmocka_unit_test(test_failed_build_keeps_cached_types),
        cmocka_unit_test(test_attr_lookup),
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_tenant_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
