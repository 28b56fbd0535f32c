/*
 * tests/fuzz/bench_value.c — throughput of the value codecs (make bench).
 *
 * Three shapes that matter to the provider: one cellrouter_tenant-like
 * object (what every plan and apply RPC decodes and encodes a few times),
 * the same as state JSON (UpgradeResourceState), and a 10,000-entry map
 * (a worst case for labels). Prints ns per operation; nothing is asserted,
 * figures depend on the machine.
 */
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

int main(void)
{
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
    return 0;
}
