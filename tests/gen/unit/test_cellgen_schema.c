/*
 * tests/gen/unit/test_cellgen_schema.c — schemas/cellspec.schema.json documents
 * exactly the keys the spec reader accepts: every section's properties
 * equal the reader's key list, each has a description, and no section
 * admits undocumented keys (additionalProperties: false). Editors that
 * complete from the schema therefore never suggest a key cellgen rejects.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "spec.h"

static json_t *schema;

static int load(void **state)
{
    (void)state;
    const char *path = getenv("CELLGEN_SCHEMA");
    json_error_t err;
    schema = json_load_file(path ? path : "schemas/cellspec.schema.json", 0, &err);
    if (!schema) {
        fprintf(stderr, "cannot load the schema: %s:%d: %s\n", err.source, err.line, err.text);
        return -1;
    }
    return 0;
}

static int unload(void **state)
{
    (void)state;
    json_decref(schema);
    return 0;
}

/* Follows a "/"-separated path of object keys. */
static json_t *at(const char *path)
{
    json_t *n = schema;
    char *copy = strdup(path), *save = NULL;
    for (char *k = strtok_r(copy, "/", &save); k && n; k = strtok_r(NULL, "/", &save)) n = json_object_get(n, k);
    free(copy);
    return n;
}

static void same_keys(const char *section, const char *object_path)
{
    json_t *obj = at(object_path);
    assert_non_null(obj);
    json_t *props = json_object_get(obj, "properties");
    assert_non_null(props);
    assert_true(json_is_false(json_object_get(obj, "additionalProperties")));
    const char *const *keys = cg_spec_keys(section);
    assert_non_null(keys);
    size_t n = 0;
    for (; keys[n]; n++) {
        json_t *p = json_object_get(props, keys[n]);
        if (!p) fail_msg("%s: key \"%s\" accepted by cellgen is not in the schema", section, keys[n]);
        if (!json_is_string(json_object_get(p, "description")))
            fail_msg("%s: key \"%s\" has no description in the schema", section, keys[n]);
    }
    const char *k;
    json_t *v;
    json_object_foreach(props, k, v) {
        bool found = false;
        for (size_t i = 0; keys[i] && !found; i++) found = !strcmp(keys[i], k);
        if (!found) fail_msg("%s: the schema documents \"%s\", which cellgen rejects", section, k);
    }
    assert_int_equal(json_object_size(props), n);
}

static void test_sections(void **state)
{
    (void)state;
    assert_string_equal(json_string_value(json_object_get(schema, "$schema")),
                        "https://json-schema.org/draft/2020-12/schema");
    same_keys("spec", "");
    same_keys("pipeline", "properties/pipeline");
    same_keys("runtime", "properties/runtime");
    same_keys("packages", "properties/runtime/properties/packages");
    same_keys("consumer", "$defs/consumer");
    same_keys("cell", "$defs/cell");
    same_keys("tenant", "$defs/tenant");
    same_keys("container", "properties/runtime/properties/container");
    same_keys("network", "$defs/cell/properties/network");
    same_keys("ci", "properties/ci");
    same_keys("ci.plan", "properties/ci/properties/plan");
    same_keys("ci.apply", "properties/ci/properties/apply");
    same_keys("observability", "properties/observability");
    same_keys("observability.key", "properties/observability/properties/key");
    same_keys("failover", "properties/failover");
    assert_null(cg_spec_keys("nonsense"));
}

/* The numeric bounds in the schema are the reader's: a value just outside
 * each bound is rejected by cellgen, the bound itself accepted. */
static void test_bounds_agree(void **state)
{
    (void)state;
    static const char *const fields[] = { "batch_size", "timeout_seconds", "max_retries", "retention_seconds" };
    for (size_t i = 0; i < 4; i++) {
        json_t *f = json_object_get(at("$defs/consumer/properties"), fields[i]);
        assert_non_null(f);
        long lo = (long)json_integer_value(json_object_get(f, "minimum"));
        long hi = (long)json_integer_value(json_object_get(f, "maximum"));
        for (int k = 0; k < 4; k++) {
            long v = k == 0 ? lo : k == 1 ? hi : k == 2 ? lo - 1 : hi + 1;
            char *text;
            if (asprintf(&text,
                         "version: 1\nsystem: s1\npipeline:\n  table: t1\n  partition_key: pk\n  topic: tp\n"
                         "  consumers:\n    - name: c1\n      handler: a.b\n      %s: %ld\n"
                         "runtime:\n  language: node\n  version: \"20\"\n  ingest_handler: a.b\n"
                         "  forwarder_handler: a.b\n  packages:\n    aws: s3://b/k\n"
                         "cells:\n  - id: c1\n    cloud: aws\n    region: us-east-1\n",
                         fields[i], v) < 0)
                fail();
            cg_spec s;
            cg_diags d = {0};
            int rc = cg_spec_load(text, strlen(text), &s, &d);
            if ((rc == 0) != (k < 2)) fail_msg("%s = %ld: cellgen %s it, the schema says otherwise", fields[i], v,
                                               rc == 0 ? "accepts" : "rejects");
            if (rc == 0) cg_spec_free(&s);
            cg_diags_free(&d);
            free(text);
        }
    }
}

/* The same for the failover section's settings, and its defaults are the
 * reader's. */
static void test_failover_bounds_agree(void **state)
{
    (void)state;
    static const char *const fields[] = { "failures", "successes", "probe_timeout_seconds", "max_down_percent",
                                          "states_cache_seconds" };
    const char *base = "version: 1\nsystem: s1\npipeline:\n  table: t1\n  partition_key: pk\n  topic: tp\n"
                       "  consumers:\n    - name: c1\n      handler: a.b\n"
                       "runtime:\n  language: node\n  version: \"20\"\n  ingest_handler: a.b\n"
                       "  forwarder_handler: a.b\n  packages:\n    aws: s3://b/k\n"
                       "cells:\n  - id: c1\n    cloud: aws\n    region: us-east-1\n";
    cg_spec s;
    cg_diags d = {0};
    char *text;
    if (asprintf(&text, "%sfailover: {}\n", base) < 0) fail();
    assert_int_equal(cg_spec_load(text, strlen(text), &s, &d), 0);
    free(text);
    long got[] = { s.failover.failures, s.failover.successes, s.failover.probe_timeout_seconds,
                   s.failover.max_down_percent, s.failover.states_cache_seconds };
    json_t *props = at("properties/failover/properties");
    assert_string_equal(json_string_value(json_object_get(json_object_get(props, "schedule"), "default")),
                        s.failover.schedule);
    assert_true(json_is_true(json_object_get(json_object_get(props, "automatic"), "default")) == s.failover.automatic);
    cg_spec_free(&s);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        json_t *f = json_object_get(props, fields[i]);
        assert_non_null(f);
        if (json_integer_value(json_object_get(f, "default")) != got[i])
            fail_msg("failover.%s: the schema's default is not the reader's (%ld)", fields[i], got[i]);
        long lo = (long)json_integer_value(json_object_get(f, "minimum"));
        long hi = (long)json_integer_value(json_object_get(f, "maximum"));
        for (int k = 0; k < 4; k++) {
            long v = k == 0 ? lo : k == 1 ? hi : k == 2 ? lo - 1 : hi + 1;
            if (asprintf(&text, "%sfailover:\n  %s: %ld\n", base, fields[i], v) < 0) fail();
            int rc = cg_spec_load(text, strlen(text), &s, &d);
            if ((rc == 0) != (k < 2)) fail_msg("failover.%s = %ld: cellgen %s it, the schema says otherwise",
                                               fields[i], v, rc == 0 ? "accepts" : "rejects");
            if (rc == 0) cg_spec_free(&s);
            cg_diags_free(&d);
            free(text);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sections),
        cmocka_unit_test(test_bounds_agree),
        cmocka_unit_test(test_failover_bounds_agree),
    };
    return cmocka_run_group_tests_name("cellgen_schema", tests, load, unload);
}
