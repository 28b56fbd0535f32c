/*
 * tests/fuzz/bench_value.c — throughput of the value codecs (make bench).
 *
 * Three shapes that matter to the provider: one cellrouter_tenant-like
 * object (what every plan and apply RPC decodes and encodes a few times),
 * the same as state JSON (UpgradeResourceState), and a 10,000-entry map
 * (a worst case for labels). Prints ns per operation; nothing is asserted,
 * figures depend on the machine.
 *
 * Then the fleet shape of issue 6: a 100,000-entry map of tenant objects,
 * as cellrouter_tenants' `tenants` attribute holds it (seven attributes, a
 * labels map of two), timed step by step (decode, free, encode, copy,
 * equal), since a no-change plan decodes and frees three of these.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "value/value.h"

static const cr_type t_labels = { .kind = CR_TYPE_MAP, .elem = &cr_type_string };
static const cr_type_attr tenant_attrs[] = {
    { "cell_id", &cr_type_string }, { "endpoint", &cr_type_string },
    { "id", &cr_type_string }, { "labels", &t_labels },
    { "standby_cell_id", &cr_type_string },
    { "standby_endpoint", &cr_type_string },
    { "tenant_id", &cr_type_string }, { "updated_at", &cr_type_string },
    { "version", &cr_type_number },
};
static const cr_type t_tenant = { .kind = CR_TYPE_OBJECT, .nattrs = 9,
                                  .attrs = tenant_attrs };

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static cr_value *tenant(void)
{
    cr_value *o = cr_value_object(&t_tenant);
    cr_value *l = cr_value_collection(&t_labels);
    static const char *kv[][2] = {
        { "team", "payments" }, { "tier", "gold" }, { "region", "eu-west-1" },
        { "owner", "sre" }, { "cost_center", "4711" },
    };
    for (size_t i = 0; i < 5; i++)
        cr_value_map_put(l, kv[i][0], cr_value_string(kv[i][1]));
    cr_value_object_set(o, "labels", l);
    cr_value_object_set(o, "cell_id", cr_value_string("cell-eu-1"));
    cr_value_object_set(o, "endpoint", cr_value_string("https://eu1.example.com"));
    cr_value_object_set(o, "id", cr_value_string("acme"));
    cr_value_object_set(o, "tenant_id", cr_value_string("acme"));
    cr_value_object_set(o, "updated_at", cr_value_string("2026-11-26T06:00:00Z"));
    cr_value_object_set(o, "version", cr_value_int(42));
    return o;
}

static void bench_msgpack(const char *name, const cr_value *v, int iters)
{
    void *buf;
    size_t len;
    double t0 = now();
    for (int i = 0; i < iters; i++) {
        cr_value_encode_msgpack(v, &buf, &len);
        free(buf);
    }
    double t1 = now();
    cr_value_encode_msgpack(v, &buf, &len);
    cr_diags d = CR_DIAGS_INIT;
    double t2 = now();
    for (int i = 0; i < iters; i++)
        cr_value_free(cr_value_decode_msgpack(buf, len, v->type, &d));
    double t3 = now();
    printf("%-22s msgpack %7zu bytes  encode %10.0f ns  decode %10.0f ns\n",
           name, len, (t1 - t0) / iters, (t3 - t2) / iters);
    free(buf);
    cr_diags_free(&d);
}

static void bench_json(const char *name, const cr_value *v, int iters)
{
    double t0 = now();
    for (int i = 0; i < iters; i++)
        free(cr_value_encode_json(v));
    double t1 = now();
    char *s = cr_value_encode_json(v);
    cr_diags d = CR_DIAGS_INIT;
    double t2 = now();
    for (int i = 0; i < iters; i++)
        cr_value_free(cr_value_decode_json(s, strlen(s), v->type, &d));
    double t3 = now();
    printf("%-22s json    %7zu bytes  encode %10.0f ns  decode %10.0f ns\n",
           name, strlen(s), (t1 - t0) / iters, (t3 - t2) / iters);
    free(s);
    cr_diags_free(&d);
}

/* ---- fleet: a 100,000-entry map of tenant objects ---------------------------- */

static const cr_type_attr fleet_attrs[] = {
    { "cell_id", &cr_type_string }, { "endpoint", &cr_type_string },
    { "labels", &t_labels }, { "standby_cell_id", &cr_type_string },
    { "standby_endpoint", &cr_type_string }, { "updated_at", &cr_type_string },
    { "version", &cr_type_number },
};
static const cr_type t_fleet_entry = { .kind = CR_TYPE_OBJECT, .nattrs = 7,
                                       .attrs = fleet_attrs };
static const cr_type t_fleet = { .kind = CR_TYPE_MAP, .elem = &t_fleet_entry };

static cr_value *fleet(int n)
{
    cr_value *m = cr_value_collection(&t_fleet);
    char buf[64];
    for (int i = 0; i < n; i++) {
        cr_value *o = cr_value_object(&t_fleet_entry);
        cr_value *l = cr_value_collection(&t_labels);
        cr_value_map_put(l, "tier", cr_value_string(i % 3 ? "gold" : "silver"));
        cr_value_map_put(l, "team", cr_value_string("payments"));
        cr_value_object_set(o, "labels", l);
        snprintf(buf, sizeof buf, "cell-%03d", i % 97);
        cr_value_object_set(o, "cell_id", cr_value_string(buf));
        snprintf(buf, sizeof buf, "https://cell-%03d.example.com", i % 97);
        cr_value_object_set(o, "endpoint", cr_value_string(buf));
        if (i % 2) {
            snprintf(buf, sizeof buf, "cell-%03d", (i + 1) % 97);
            cr_value_object_set(o, "standby_cell_id", cr_value_string(buf));
            snprintf(buf, sizeof buf, "https://cell-%03d.example.com",
                     (i + 1) % 97);
            cr_value_object_set(o, "standby_endpoint", cr_value_string(buf));
        }
        cr_value_object_set(o, "updated_at",
                            cr_value_string("2026-11-26T06:00:00Z"));
        cr_value_object_set(o, "version", cr_value_int(1 + i % 5));
        snprintf(buf, sizeof buf, "tenant-%06d", i);
        cr_value_map_put(m, buf, o);
    }
    return m;
}

/* CPU time of this process: the fleet figures are compared across runs on
 * a shared machine, where wall time mostly measures the other load. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void bench_fleet(int n, int iters)
{
    cr_value *m = fleet(n);
    void *buf;
    size_t len;
    double enc = 0, dec = 0, fr = 0, cp = 0, eq = 0;
    bool same = true;
    for (int i = 0; i < iters; i++) {
        double t0 = cpu_now();
        cr_value_encode_msgpack(m, &buf, &len);
        double t1 = cpu_now();
        cr_diags d = CR_DIAGS_INIT;
        cr_value *v = cr_value_decode_msgpack(buf, len, &t_fleet, &d);
        double t2 = cpu_now();
        cr_value *c = cr_value_copy(v);
        double t3 = cpu_now();
        same = same && cr_value_equal(v, c) && cr_value_equal(v, m);
        double t4 = cpu_now();
        cr_value_free(v);
        double t5 = cpu_now();
        cr_value_free(c);
        free(buf);
        cr_diags_free(&d);
        enc += t1 - t0;
        dec += t2 - t1;
        cp += t3 - t2;
        eq += (t4 - t3) / 2;
        fr += t5 - t4;
    }
    double jenc = 0, jdec = 0;
    size_t jlen = 0;
    for (int i = 0; i < iters; i++) {
        double t0 = cpu_now();
        char *js = cr_value_encode_json(m);
        double t1 = cpu_now();
        cr_diags d = CR_DIAGS_INIT;
        jlen = strlen(js);
        cr_value *v = cr_value_decode_json(js, jlen, &t_fleet, &d);
        double t2 = cpu_now();
        same = same && cr_value_equal(v, m);
        cr_value_free(v);
        free(js);
        cr_diags_free(&d);
        jenc += t1 - t0;
        jdec += t2 - t1;
    }
    printf("map of %d tenants     json    %7zu bytes  encode %6.1f ms  "
           "decode %6.1f ms (CPU)\n", n, jlen, jenc / iters / 1e6,
           jdec / iters / 1e6);
    printf("map of %d tenants     msgpack %7zu bytes  encode %6.1f ms  "
           "decode %6.1f ms  free %6.1f ms  copy %6.1f ms  equal %6.1f ms (CPU)%s\n",
           n, len, enc / iters / 1e6, dec / iters / 1e6, fr / iters / 1e6,
           cp / iters / 1e6, eq / iters / 1e6, same ? "" : "  (NOT EQUAL)");
    cr_value_free(m);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "fleet")) {
        bench_fleet(100000, 5);
        return 0;
    }
    cr_value *t = tenant();
    bench_msgpack("tenant object", t, 200000);
    bench_json("tenant object", t, 100000);
    cr_value_free(t);

    cr_value *m = cr_value_collection(&t_labels);
    char k[32], v[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(k, sizeof k, "key-%05d", (i * 7919) % 10000);
        snprintf(v, sizeof v, "value-%d", i);
        cr_value_map_put(m, k, cr_value_string(v));
    }
    bench_msgpack("map of 10,000 strings", m, 200);
    bench_json("map of 10,000 strings", m, 200);
    cr_value_free(m);

    bench_fleet(100000, 5);
    return 0;
}
