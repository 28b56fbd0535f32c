/*
 * tests/gen/unit/test_cellgen_spec.c — the spec reader: every kind of problem is
 * reported with its line and column, all problems of a spec at once, and a
 * good spec yields the model the emitters read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "spec.h"
#include "util.h"

/* A valid spec; tests patch parts of it with str_replace. */
static const char *GOOD =
    "version: 1\n"                                   /* 1 */
    "system: orders\n"                               /* 2 */
    "tags:\n"                                        /* 3 */
    "  team: orders\n"                               /* 4 */
    "pipeline:\n"                                    /* 5 */
    "  table: events\n"                              /* 6 */
    "  partition_key: tenant_id\n"                   /* 7 */
    "  topic: order-events\n"                        /* 8 */
    "  consumers:\n"                                 /* 9 */
    "    - name: billing\n"                          /* 10 */
    "      handler: billing.handle\n"                /* 11 */
    "      batch_size: 5\n"                          /* 12 */
    "    - name: audit\n"                            /* 13 */
    "      handler: audit.handle\n"                  /* 14 */
    "runtime:\n"                                     /* 15 */
    "  language: python\n"                           /* 16 */
    "  version: \"3.12\"\n"                          /* 17 */
    "  ingest_handler: ingest.handle\n"              /* 18 */
    "  forwarder_handler: forwarder.handle\n"        /* 19 */
    "  packages:\n"                                  /* 20 */
    "    aws: s3://bucket/orders.zip\n"              /* 21 */
    "    azure: https://example.blob.core.windows.net/p/orders.zip\n" /* 22 */
    "cells:\n"                                       /* 23 */
    "  - id: aws-alpha\n"                            /* 24 */
    "    cloud: aws\n"                               /* 25 */
    "    region: us-east-1\n"                        /* 26 */
    "  - id: azure-beta\n"                           /* 27 */
    "    cloud: azure\n"                             /* 28 */
    "    location: eastus\n"                         /* 29 */
    "    tags:\n"                                    /* 30 */
    "      team: beta\n"                             /* 31 */
    "tenants:\n"                                     /* 32 */
    "  - id: acme\n"                                 /* 33 */
    "    cell: aws-alpha\n"                          /* 34 */
    "    standby: azure-beta\n"                      /* 35 */
    "    labels:\n"                                  /* 36 */
    "      tier: gold\n"                             /* 37 */
    "  - id: globex\n"                               /* 38 */
    "    cell: azure-beta\n";                        /* 39 */

/* GOOD with the first occurrence of `from` replaced by `to`. */
static char *patch(const char *from, const char *to)
{
    const char *at = strstr(GOOD, from);
    assert_non_null(at);
    return cg_xasprintf("%.*s%s%s", (int)(at - GOOD), GOOD, to, at + strlen(from));
}

typedef struct result {
    int rc;
    cg_spec spec;
    cg_diags d;
} result;

static result load(const char *text)
{
    result r;
    memset(&r, 0, sizeof r);
    r.rc = cg_spec_load(text, strlen(text), &r.spec, &r.d);
    return r;
}

static void done(result *r)
{
    cg_spec_free(&r->spec);
    cg_diags_free(&r->d);
}

/* Asserts a diagnostic at line:col whose message contains `needle`. */
static void expect(const result *r, int line, int col, const char *needle)
{
    for (size_t i = 0; i < r->d.len; i++)
        if (r->d.items[i].line == line && r->d.items[i].col == col && strstr(r->d.items[i].msg, needle))
            return;
    for (size_t i = 0; i < r->d.len; i++)
        fprintf(stderr, "  have %d:%d: %s\n", r->d.items[i].line, r->d.items[i].col, r->d.items[i].msg);
    fail_msg("no diagnostic at %d:%d containing \"%s\"", line, col, needle);
}

static void expect_one(const char *text, int line, int col, const char *needle)
{
    result r = load(text);
    assert_int_equal(r.rc, -1);
    expect(&r, line, col, needle);
    assert_int_equal(r.d.len, 1);
    done(&r);
}

static void patched_one(const char *from, const char *to, int line, int col, const char *needle)
{
    char *t = patch(from, to);
    expect_one(t, line, col, needle);
    free(t);
}

static void test_good_spec_model(void **state)
{
    (void)state;
    result r = load(GOOD);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.d.len, 0);
    assert_string_equal(r.spec.system, "orders");
    assert_string_equal(r.spec.partition_key, "tenant_id");
    assert_int_equal(r.spec.nconsumers, 2);
    assert_int_equal(r.spec.consumers[0].batch_size, 5);
    /* defaults */
    assert_int_equal(r.spec.consumers[1].batch_size, 10);
    assert_int_equal(r.spec.consumers[1].timeout_seconds, 30);
    assert_int_equal(r.spec.consumers[1].max_retries, 3);
    assert_int_equal(r.spec.consumers[1].retention_seconds, 345600);
    assert_int_equal(r.spec.memory_mb, 256);
    assert_int_equal(r.spec.ncells, 2);
    assert_int_equal(r.spec.cells[0].cloud, CG_AWS);
    assert_string_equal(r.spec.cells[1].region, "eastus");
    /* the cell's own tag overrides the spec-wide one, keeping its place */
    assert_int_equal(r.spec.cells[1].tags.len, 1);
    assert_string_equal(r.spec.cells[1].tags.items[0].value, "beta");
    assert_string_equal(r.spec.cells[0].tags.items[0].value, "orders");
    assert_int_equal(r.spec.ntenants, 2);
    assert_int_equal(r.spec.tenants[0].cell, 0);
    assert_int_equal(r.spec.tenants[0].standby, 1);
    assert_int_equal(r.spec.tenants[1].standby, -1);
    assert_string_equal(r.spec.tenants[0].labels.items[0].key, "tier");
    done(&r);
}

/* The operations sections read into the model: container workers with
 * their defaults and networks, the ci section with its defaults, the
 * observability destination and key references. */
static void test_ops_model(void **state)
{
    (void)state;
    char *a = patch("  packages:\n", "  kind: container\n  container:\n    image: ghcr.io/o/w:1.0\n    cpu: 1\n"
                    "  packages:\n");
    char *b = cg_xasprintf("%.*s    network:\n      id: vpc-0123abcd\n      subnets: [subnet-0123abcd]\n%s",
                           (int)(strstr(a, "  - id: azure-beta") - a), a, strstr(a, "  - id: azure-beta"));
    char *text = cg_xasprintf("%sci:\n  provider: gitlab\n  repository: g/p\n  plan:\n    branches: [main, dev]\n"
                              "  apply:\n    branch: main\nobservability:\n  destination: datadog\n"
                              "  site: datadoghq.eu\n  key:\n    aws: arn:aws:secretsmanager:us-east-1:123456789012:"
                              "secret:k\n    azure: https://kv1.vault.azure.net/secrets/k\n    azure_vault_id: "
                              "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
                              "Microsoft.KeyVault/vaults/kv1\n", b);
    result r = load(text);
    for (size_t i = 0; i < r.d.len; i++) fprintf(stderr, "%d:%d: %s\n", r.d.items[i].line, r.d.items[i].col, r.d.items[i].msg);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.spec.runtime_kind, CG_RT_CONTAINER);
    assert_string_equal(r.spec.container.cpu, "1");
    assert_int_equal(r.spec.container.min_workers, 1);
    assert_int_equal(r.spec.container.max_workers, 10);
    assert_int_equal(r.spec.container.messages_per_worker, 100);
    assert_string_equal(r.spec.cells[0].network.id, "vpc-0123abcd");
    assert_int_equal(r.spec.cells[0].network.nsubnets, 1);
    assert_null(r.spec.cells[1].network.id);
    assert_int_equal(r.spec.ci.provider, CG_CI_GITLAB);
    assert_string_equal(r.spec.ci.issuer, "https://gitlab.com");
    assert_int_equal(r.spec.ci.nplan_branches, 2);
    assert_false(r.spec.ci.plan_pull_requests);
    assert_null(r.spec.ci.apply_environment);
    assert_string_equal(r.spec.ci.cellgen, "cellgen");
    assert_string_equal(r.spec.ci.terraform_version, "1.11.4");
    assert_int_equal(r.spec.obs.destination, CG_OBS_DATADOG);
    assert_string_equal(r.spec.obs.site, "datadoghq.eu");
    assert_null(r.spec.obs.endpoint);
    assert_string_equal(r.spec.obs.key_azure, "https://kv1.vault.azure.net/secrets/k");
    done(&r);
    free(text);
    free(b);
    free(a);
}

/* failover: absent, the prober is off with the defaults; present, it is on
 * unless automatic: false; each setting is checked where it is written. */
static void test_failover(void **state)
{
    (void)state;
    result r = load(GOOD);
    assert_int_equal(r.rc, 0);
    assert_false(r.spec.failover.automatic);
    assert_string_equal(r.spec.failover.schedule, "* * * * *");
    assert_int_equal(r.spec.failover.failures, 3);
    assert_int_equal(r.spec.failover.successes, 5);
    assert_int_equal(r.spec.failover.probe_timeout_seconds, 5);
    assert_int_equal(r.spec.failover.max_down_percent, 50);
    assert_int_equal(r.spec.failover.states_cache_seconds, 5);
    done(&r);
    char *t = cg_xasprintf("%sfailover:\n  schedule: \"*/5 8-18 * JAN-JUN MON#2\"\n  failures: 2\n  successes: 7\n"
                           "  probe_timeout_seconds: 30\n  max_down_percent: 100\n  states_cache_seconds: 60\n", GOOD);
    r = load(t);
    assert_int_equal(r.rc, 0);
    assert_true(r.spec.failover.automatic);
    assert_string_equal(r.spec.failover.schedule, "*/5 8-18 * JAN-JUN MON#2");
    assert_int_equal(r.spec.failover.failures, 2);
    assert_int_equal(r.spec.failover.successes, 7);
    assert_int_equal(r.spec.failover.probe_timeout_seconds, 30);
    assert_int_equal(r.spec.failover.max_down_percent, 100);
    assert_int_equal(r.spec.failover.states_cache_seconds, 60);
    done(&r);
    free(t);
    t = cg_xasprintf("%sfailover:\n  automatic: false\n", GOOD);
    r = load(t);
    assert_int_equal(r.rc, 0);
    assert_false(r.spec.failover.automatic);
    done(&r);
    free(t);
    static const struct { const char *yaml; int col; const char *msg; } bad[] = {
        { "  automatic: yes please\n", 14, "failover.automatic must be true or false, not a string" },
        { "  schedule: \"* * * *\"\n", 13, "is not a cron expression: five fields" },
        { "  schedule: \"* * * * * *\"\n", 13, "is not a cron expression" },
        { "  schedule: \"*  * * * *\"\n", 13, "is not a cron expression" },
        { "  schedule: \"* * * * ${x}\"\n", 13, "is not a cron expression" },
        { "  schedule: 5\n", 13, "failover.schedule must be a string, not an integer" },
        { "  failures: 0\n", 13, "failover.failures must be between 1 and 100, not 0" },
        { "  successes: 101\n", 14, "failover.successes must be between 1 and 100, not 101" },
        { "  probe_timeout_seconds: 31\n", 26, "failover.probe_timeout_seconds must be between 1 and 30" },
        { "  max_down_percent: 0\n", 21, "failover.max_down_percent must be between 1 and 100" },
        { "  states_cache_seconds: 61\n", 25, "failover.states_cache_seconds must be between 1 and 60" },
        { "  failure: 3\n", 3, "unknown key \"failure\" in failover; did you mean \"failures\"?" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        t = cg_xasprintf("%sfailover:\n%s", GOOD, bad[i].yaml);
        expect_one(t, 41, bad[i].col, bad[i].msg);
        free(t);
    }
    t = cg_xasprintf("%sfailover: every minute\n", GOOD);
    expect_one(t, 40, 11, "failover must be a mapping, not a string");
    free(t);
}

static void test_unknown_key_with_hint(void **state)
{
    (void)state;
    patched_one("  topic: order-events\n", "  topic: order-events\n  topik: x\n", 9, 3,
                "unknown key \"topik\" in pipeline; did you mean \"topic\"?");
    patched_one("    cloud: aws\n", "    cloud: aws\n    zone: a\n", 26, 5, "unknown key \"zone\" in a cell");
}

static void test_wrong_types(void **state)
{
    (void)state;
    patched_one("batch_size: 5", "batch_size: five", 12, 19, "batch_size must be an integer, not a string");
    patched_one("version: \"3.12\"", "version: 3.10", 17, 12, "quote it (\"3.10\")");
    patched_one("      tier: gold\n", "      tier: [gold]\n", 37, 13, "a label value must be a string, not a list");
    patched_one("tags:\n  team: orders\n", "tags: [orders]\n", 3, 7, "tags must be a mapping, not a list");
    patched_one("cells:\n", "cellz: 1\ncells:\n", 23, 1, "did you mean \"cells\"?");
    patched_one("system: orders", "system: true", 2, 9, "system must be a string, not a boolean");
}

static void test_ranges(void **state)
{
    (void)state;
    patched_one("batch_size: 5", "batch_size: 11", 12, 19, "batch_size must be between 1 and 10, not 11");
    patched_one("      handler: audit.handle\n", "      handler: audit.handle\n      timeout_seconds: 301\n", 15, 24,
                "timeout_seconds must be between 1 and 300");
    patched_one("version: 1", "version: 2", 1, 10, "spec version 2 is not supported");
    cg_buf many = {0};
    cg_buf_puts(&many, "  consumers:\n");
    for (int i = 0; i < 51; i++) cg_buf_printf(&many, "    - name: c%d\n      handler: c.h\n", i);
    cg_buf_puts(&many, "runtime:\n");
    char *t = patch("  consumers:\n    - name: billing\n      handler: billing.handle\n      batch_size: 5\n"
                    "    - name: audit\n      handler: audit.handle\nruntime:\n", many.p);
    expect_one(t, 10, 5, "pipeline.consumers lists 51 consumers; at most 50 are allowed");
    free(t);
    cg_buf_free(&many);
}

static void test_integer_forms(void **state)
{
    (void)state;
    /* "010" is ten in YAML 1.2, not octal eight; 0x and 0o are explicit. */
    const struct { const char *text; long want; } cases[] = {
        { "batch_size: 010", 10 }, { "batch_size: 0x9", 9 }, { "batch_size: 0o7", 7 }, { "batch_size: +3", 3 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *t = patch("batch_size: 5", cases[i].text);
        result r = load(t);
        assert_int_equal(r.rc, 0);
        assert_int_equal(r.spec.consumers[0].batch_size, cases[i].want);
        done(&r);
        free(t);
    }
    patched_one("batch_size: 5", "batch_size: 99999999999999999999999", 12, 19, "must be between 1 and 10");
    patched_one("batch_size: 5", "batch_size: 2.0", 12, 19, "batch_size must be an integer, not a number");
}

static void test_missing_required(void **state)
{
    (void)state;
    /* reported where the mapping that lacks it starts */
    patched_one("  partition_key: tenant_id\n", "", 6, 3, "missing required key \"partition_key\"");
    patched_one("    region: us-east-1\n", "", 24, 5, "missing required key \"region\"");
}

static void test_duplicate_cell_id(void **state)
{
    (void)state;
    patched_one("  - id: azure-beta\n    cloud: azure\n    location: eastus\n",
                "  - id: azure-beta\n    cloud: azure\n    location: eastus\n  - id: aws-alpha\n    cloud: aws\n    region: us-west-2\n",
                30, 9, "duplicate cell id \"aws-alpha\"");
}

static void test_unknown_cloud(void **state)
{
    (void)state;
    patched_one("    cloud: aws\n    region: us-east-1\n", "    cloud: gcp\n", 25, 12, "unknown cloud \"gcp\"");
}

static void test_wrong_place_keys(void **state)
{
    (void)state;
    patched_one("    region: us-east-1\n", "    location: eastus\n", 26, 15, "AWS cells take \"region\"");
    patched_one("location: eastus", "location: East US", 29, 15, "use the short form");
    patched_one("region: us-east-1", "region: mars", 26, 13, "not an AWS region name");
}

static void test_tenant_on_missing_cell(void **state)
{
    (void)state;
    patched_one("    cell: azure-beta\n", "    cell: azure-delta\n", 39, 11,
                "tenant placed on cell \"azure-delta\", which the spec does not define");
    patched_one("standby: azure-beta", "standby: nowhere", 35, 14, "standby cell \"nowhere\" is not defined");
}

static void test_standby_equals_primary(void **state)
{
    (void)state;
    patched_one("standby: azure-beta", "standby: aws-alpha", 35, 14, "is the tenant's primary cell");
}

static void test_duplicate_tenant(void **state)
{
    (void)state;
    patched_one("  - id: globex\n", "  - id: acme\n", 38, 9, "duplicate tenant id \"acme\"");
    patched_one("  - id: globex\n", "  - id: \"bad id\"\n", 38, 9, "tenant id \"bad id\" must be");
}

static void test_naming_rules(void **state)
{
    (void)state;
    /* Azure storage account: system + cell id without hyphens, <= 24. */
    char *t = patch("  - id: azure-beta\n", "  - id: azure-beta-secondary-x\n");
    result r = load(t);
    assert_int_equal(r.rc, -1);
    expect(&r, 27, 9, "Azure storage account name \"ordersazurebetasecondaryx\" is 25 characters");
    done(&r);
    free(t);
    /* SQS: <system>-<cell>-<consumer>-dlq <= 80 and Lambda <= 64. */
    t = patch("tenants:\n", "  - id: aws-abcdefghijklmnopqrstuvwxyz-0123456\n    cloud: aws\n    region: eu-west-1\n"
                             "tenants:\n");
    char *t2 = cg_xasprintf("%s", t);
    free(t);
    t = t2;
    char *at = strstr(t, "name: audit\n");
    t2 = cg_xasprintf("%.*sname: audit-abcdefghijklmnopqrstuvwxyz\n%s", (int)(at - t), t, at + strlen("name: audit\n"));
    free(t);
    t = t2;
    r = load(t);
    assert_int_equal(r.rc, -1);
    expect(&r, 32, 9, "Lambda function name \"orders-aws-abcdefghijklmnopqrstuvwxyz-0123456-audit-abcdefghijklmnopqrstuvwxyz\" is 78 characters; the cloud allows 1 to 64");
    expect(&r, 32, 9, "SQS queue name \"orders-aws-abcdefghijklmnopqrstuvwxyz-0123456-audit-abcdefghijklmnopqrstuvwxyz-dlq\" is 82");
    done(&r);
    free(t);
    /* Consumer names that would collide with the pipeline's functions. */
    patched_one("name: audit", "name: ingest", 13, 13, "reserved");
}

static void test_duplicate_keys_and_consumers(void **state)
{
    (void)state;
    patched_one("system: orders\n", "system: orders\nsystem: billing\n", 3, 1,
                "duplicate key \"system\" (first given at line 2, column 1)");
    patched_one("    - name: audit\n", "    - name: billing\n", 13, 13, "duplicate consumer name \"billing\"");
}

static void test_all_problems_at_once(void **state)
{
    (void)state;
    /* independent problems in different sections, one run */
    char *a = patch("batch_size: 5", "batch_size: 0");
    char *c = strstr(a, "standby: azure-beta");
    memcpy(c, "standby: aws-alpha!", 19);   /* same length, invalid trailing '!' */
    result r = load(a);
    assert_int_equal(r.rc, -1);
    expect(&r, 12, 19, "batch_size must be between 1 and 10");
    expect(&r, 35, 14, "standby cell \"aws-alpha!\" is not defined");
    assert_int_equal(r.d.len, 2);
    done(&r);
    free(a);
}

static void test_yaml_syntax_error(void **state)
{
    (void)state;
    expect_one("a: [1, 2\nb: 3\n", 2, 2, "YAML syntax error: did not find expected ',' or ']'");
    expect_one("a: b\n  c: d\n", 2, 4, "YAML syntax error: mapping values are not allowed");
    expect_one("a: \"unterminated\n", 2, 1, "YAML syntax error");
}

static void test_hostile_yaml(void **state)
{
    (void)state;
    /* billion laughs needs aliases: refused at the first one */
    expect_one("a: &a [x, x]\nb: &b [*a, *a]\n", 2, 8, "YAML aliases (*a) are not allowed");
    /* deep nesting */
    cg_buf b = {0};
    cg_buf_puts(&b, "a: ");
    for (int i = 0; i < 200; i++) cg_buf_putc(&b, '[');
    for (int i = 0; i < 200; i++) cg_buf_putc(&b, ']');
    cg_buf_putc(&b, '\n');
    expect_one(b.p, 1, 67, "nesting deeper than 64 levels");
    cg_buf_free(&b);
    /* a scalar over the limit */
    cg_buf_puts(&b, "a: ");
    for (size_t i = 0; i < CG_YAML_MAX_SCALAR + 10; i++) cg_buf_putc(&b, 'x');
    cg_buf_putc(&b, '\n');
    expect_one(b.p, 1, 4, "the limit is");
    cg_buf_free(&b);
    /* a mapping with 200,000 keys: duplicates found through the index,
     * not by a quadratic scan, and reported at both places */
    cg_buf_puts(&b, "tags:\n");
    for (int i = 0; i < 200000; i++) cg_buf_printf(&b, "  k%d: v\n", i);
    cg_buf_puts(&b, "  k20: again\n  k199999: again\n");
    result big = load(b.p);
    assert_int_equal(big.rc, -1);
    expect(&big, 200002, 3, "duplicate key \"k20\" (first given at line 22, column 3)");
    expect(&big, 200003, 3, "duplicate key \"k199999\" (first given at line 200001, column 3)");
    assert_int_equal(big.d.len, 2);
    done(&big);
    cg_buf_free(&b);
    /* NUL bytes, second documents, unsupported tags, non-scalar keys */
    result r;
    memset(&r, 0, sizeof r);
    r.rc = cg_spec_load("a: b\nc: \0d\n", 11, &r.spec, &r.d);
    assert_int_equal(r.rc, -1);
    expect(&r, 2, 4, "NUL byte");
    done(&r);
    expect_one("a: 1\n---\nb: 2\n", 2, 1, "one YAML document");
    expect_one("a: !!binary aGk=\n", 1, 4, "YAML tag tag:yaml.org,2002:binary is not supported");
    expect_one("? [a]\n: 1\n", 1, 3, "mapping keys must be plain strings");
    expect_one("", 1, 1, "the spec is empty");
    expect_one("- 1\n", 1, 1, "the spec must be a mapping, not a list");
}

static void test_scalar_types(void **state)
{
    (void)state;
    cg_ynode n = { .kind = CG_YSCALAR, .plain = true };
    const struct { const char *s; cg_yscalar_type t; } cases[] = {
        { "12", CG_YT_INT }, { "-3", CG_YT_INT }, { "0x1f", CG_YT_INT }, { "0o17", CG_YT_INT },
        { "3.10", CG_YT_FLOAT }, { "1e5", CG_YT_FLOAT }, { ".inf", CG_YT_FLOAT },
        { "true", CG_YT_BOOL }, { "False", CG_YT_BOOL }, { "yes", CG_YT_STRING },
        { "~", CG_YT_NULL }, { "", CG_YT_NULL }, { "null", CG_YT_NULL },
        { "12a", CG_YT_STRING }, { "us-east-1", CG_YT_STRING }, { "+", CG_YT_STRING },
        { ".", CG_YT_STRING }, { "1.", CG_YT_FLOAT }, { ".5", CG_YT_FLOAT }, { "1e", CG_YT_STRING },
        { "-.inf", CG_YT_FLOAT }, { ".NaN", CG_YT_FLOAT }, { "0x", CG_YT_STRING }, { "0o8", CG_YT_STRING },
        { "1_000", CG_YT_STRING }, { "3.12.1", CG_YT_STRING },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        n.str = (char *)cases[i].s;
        assert_int_equal(cg_yscalar_type_of(&n), cases[i].t);
    }
    n.str = (char *)"12";
    n.plain = false;    /* quoted */
    assert_int_equal(cg_yscalar_type_of(&n), CG_YT_STRING);
}

static void test_diag_print(void **state)
{
    (void)state;
    /* sorted by position, control bytes escaped, long messages cut */
    cg_diags d = {0};
    cg_diag_add(&d, 3, 1, "third");
    cg_diag_add(&d, 1, 5, "key \"\x1b[31m\n\"");
    cg_diag_add(&d, 0, 0, "whole file");
    cg_diag_add(&d, 1, 5, "same place, found later");
    char big[3000];
    memset(big, 'k', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    cg_diag_add(&d, 9, 9, "%s", big);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cg_diags_print(&d, "s.yaml", f);
    fclose(f);
    const char *want_head = "s.yaml: whole file\n"
                            "s.yaml:1:5: key \"\\x1b[31m\\x0a\"\n"
                            "s.yaml:1:5: same place, found later\n"
                            "s.yaml:3:1: third\n"
                            "s.yaml:9:9: kkk";
    assert_memory_equal(text, want_head, strlen(want_head));
    assert_non_null(strstr(text, "kkk...\n"));
    assert_true(len < 1200);
    free(text);
    cg_diags_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_spec_model),
        cmocka_unit_test(test_ops_model),
        cmocka_unit_test(test_failover),
        cmocka_unit_test(test_unknown_key_with_hint),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_integer_forms),
        cmocka_unit_test(test_missing_required),
        cmocka_unit_test(test_duplicate_cell_id),
        cmocka_unit_test(test_unknown_cloud),
        cmocka_unit_test(test_wrong_place_keys),
        cmocka_unit_test(test_tenant_on_missing_cell),
        cmocka_unit_test(test_standby_equals_primary),
        cmocka_unit_test(test_duplicate_tenant),
        cmocka_unit_test(test_naming_rules),
        cmocka_unit_test(test_duplicate_keys_and_consumers),
        cmocka_unit_test(test_all_problems_at_once),
        cmocka_unit_test(test_yaml_syntax_error),
        cmocka_unit_test(test_hostile_yaml),
        cmocka_unit_test(test_scalar_types),
        cmocka_unit_test(test_diag_print),
    };
    return cmocka_run_group_tests_name("cellgen_spec", tests, NULL, NULL);
}
