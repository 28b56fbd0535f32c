/*
 * bench/bench_tenants.c — provider time and memory of cellrouter_tenants at
 * fleet scale, measured in process through the tfplugin6 handlers (request
 * unpacking, msgpack decoding, the resource, Terraform's plan and result
 * checks, msgpack encoding, response packing), on a real SQLite routing map.
 *
 * What Terraform asks of the provider, per command:
 *   plan (no change)   ValidateResourceConfig + UpgradeResourceState and
 *                      ReadResource (refresh) + PlanResourceChange
 *   apply              the same plan, then ApplyResourceChange
 * so the figures add up to the provider's share of each command; gRPC
 * transport and Terraform core are not included (the harness's fleet
 * benchmark measures those end to end).
 *
 * Both forms of the fleet are measured: the `tenants` map, and the
 * `tenants_json` document, whose versions travel in the private state
 * (carried from response to request as Terraform carries it; its size is
 * printed, with what the same versions would take as JSON).
 *
 * Usage: bench_tenants [N ...]   (default: 10000 100000). Prints one table
 * per N and form: wall time per call, message sizes, and the process's
 * peak RSS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "common/heap.h"
#include "resource/tenants_doc.h"
#include "rpc/internal.h"

/* The benchmark cannot go on without what failed. */
static void die(const char *what)
{
    fprintf(stderr, "bench_tenants: %s\n", what);
    exit(1);
}

/* ---- timing ------------------------------------------------------------ */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this process: the figure that does not depend on what else
 * the machine is running (CI machines are shared). */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024;
}

/* ---- calling a handler as the server does ------------------------------ */

static cr_rpc_provider *P;
static double call_seconds, call_cpu;
static size_t call_req_bytes, call_resp_bytes;

/* Packs req, then times: unpack, handler, pack of the response. Returns
 * the response unpacked again (for the next step), not timed. */
static void *invoke(const char *name, const ProtobufCMessage *req)
{
    const cr_method *m = cr_rpc_method(name);
    if (!m)
        die("no such method");
    size_t len = protobuf_c_message_get_packed_size(req);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        die("out of memory");
    protobuf_c_message_pack(req, buf);
    call_req_bytes = len;

    double t0 = now_s(), c0 = cpu_s();
    ProtobufCMessage *in = protobuf_c_message_unpack(m->request_desc, NULL,
                                                     len, buf);
    if (!in)
        die("unpack");
    cr_call *call = cr_call_new_detached(P);
    if (!call)
        die("out of memory");
    ProtobufCMessage *resp = NULL;
    const char *msg = NULL;
    if (m->handler(call, in, &resp, &msg) != GRPC_STATUS_OK)
        die(msg ? msg : "handler failed");
    size_t olen = protobuf_c_message_get_packed_size(resp);
    uint8_t *obuf = malloc(olen ? olen : 1);
    if (!obuf)
        die("out of memory");
    protobuf_c_message_pack(resp, obuf);
    double t1 = now_s(), c1 = cpu_s();
    /* The response lives in the call's arena: read it back first (not
     * timed), then release the arena as the server does (timed). */
    ProtobufCMessage *out = protobuf_c_message_unpack(resp->descriptor, NULL,
                                                      olen, obuf);
    double t2 = now_s(), c2 = cpu_s();
    protobuf_c_message_free_unpacked(in, NULL);
    cr_call_free_detached(call);
    call_seconds = (t1 - t0) + (now_s() - t2);
    call_cpu = (c1 - c0) + (cpu_s() - c2);
    call_resp_bytes = olen;
    free(obuf);
    free(buf);
    if (!out)
        die("unpack response");
    return out;
}

static void check_no_errors(Tfplugin6__Diagnostic **d, size_t n,
                            const char *what)
{
    for (size_t i = 0; i < n; i++) {
        if (d[i]->severity == TFPLUGIN6__DIAGNOSTIC__SEVERITY__ERROR) {
            fprintf(stderr, "%s: %s: %s\n", what, d[i]->summary,
                    d[i]->detail);
            exit(1);
        }
    }
}

/* ---- values ------------------------------------------------------------ */

static const cr_type *T;
/* The form measured: the `tenants` map, or the `tenants_json` document. */
static bool JSON_FORM;
/* The private state Terraform holds for the object, and the plan's. */
static ProtobufCBinaryData PRIV, PLANNED_PRIV;

static void keep_bytes(ProtobufCBinaryData *dst, const ProtobufCBinaryData *src)
{
    free(dst->data);
    dst->data = src->len ? malloc(src->len) : NULL;
    if (src->len && !dst->data)
        die("out of memory");
    if (src->len)
        memcpy(dst->data, src->data, src->len);
    dst->len = src->len;
}

static const cr_type *attr_t(const cr_type *t, const char *name)
{
    long i = cr_type_attr_index(t, name);
    if (i < 0)
        die("schema");
    return t->attrs[i].type;
}

static void set(cr_value *o, const char *name, cr_value *v)
{
    if (!v || cr_value_object_set(o, name, v) != 0)
        die("building a value");
}

/* The same fleet as the tenants_json document (one tenant a line, as
 * cellctl export writes it). */
static cr_value *config_json(size_t n, int moved)
{
    size_t cap = n * 260 + 16, len = 0;
    char *doc = malloc(cap);
    cr_value *o = cr_value_object(T);
    if (!doc || !o)
        die("out of memory");
    len += (size_t)snprintf(doc, cap, "{");
    for (size_t i = 0; i < n; i++) {
        bool swap = moved && i % 100 == 0;
        int cell = (int)(i % 3), c1 = swap ? (cell + 1) % 3 : cell,
            c2 = swap ? cell : (cell + 1) % 3;
        len += (size_t)snprintf(doc + len, cap - len,
            "%s\n  \"tenant-%07zu\": {\"cell_id\": \"cell-%d\", \"endpoint\": "
            "\"https://cell-%d.example.com/ingest\", \"standby_cell_id\": "
            "\"cell-%d\", \"standby_endpoint\": "
            "\"https://cell-%d.example.com/ingest\", \"labels\": {\"tier\": "
            "\"%s\"}}", i ? "," : "", i, c1, c1, c2, c2,
            i % 10 ? "std" : "gold");
    }
    snprintf(doc + len, cap - len, "\n}\n");
    set(o, "name", cr_value_string("fleet"));
    set(o, "tenants_json", cr_value_string(doc));
    free(doc);
    return o;
}

/* The configuration of N tenants; `moved` tenants (every 100th when 1)
 * have their primary and standby swapped: a failover. */
static cr_value *config(size_t n, int moved)
{
    if (JSON_FORM)
        return config_json(n, moved);
    const cr_type *mt = attr_t(T, "tenants");
    cr_value *o = cr_value_object(T);
    cr_value *m = cr_value_collection(mt);
    char key[32];
    if (!o || !m)
        die("out of memory");
    set(o, "name", cr_value_string("fleet"));
    for (size_t i = 0; i < n; i++) {
        bool swap = moved && i % 100 == 0;
        int cell = (int)(i % 3);
        char c1[16], c2[16], e1[64], e2[64];
        snprintf(c1, sizeof c1, "cell-%d", swap ? (cell + 1) % 3 : cell);
        snprintf(c2, sizeof c2, "cell-%d", swap ? cell : (cell + 1) % 3);
        snprintf(e1, sizeof e1, "https://%s.example.com/ingest", c1);
        snprintf(e2, sizeof e2, "https://%s.example.com/ingest", c2);
        cr_value *e = cr_value_object(mt->elem);
        cr_value *labels = cr_value_collection(attr_t(mt->elem, "labels"));
        if (!e || !labels ||
            cr_value_map_put(labels, "tier",
                             cr_value_string(i % 10 ? "std" : "gold")))
            die("out of memory");
        set(e, "cell_id", cr_value_string(c1));
        set(e, "endpoint", cr_value_string(e1));
        set(e, "standby_cell_id", cr_value_string(c2));
        set(e, "standby_endpoint", cr_value_string(e2));
        set(e, "labels", labels);
        snprintf(key, sizeof key, "tenant-%07zu", i);
        if (cr_value_map_put(m, key, e) != 0)
            die("out of memory");
    }
    set(o, "tenants", m);
    return o;
}

/* objchange.ProposedNew for this schema: config, id from prior, and per
 * element matched by key the prior's computed attributes. */
static cr_value *proposed(const cr_value *cfg, const cr_value *prior)
{
    cr_value *o = cr_value_copy(cfg);
    if (!o)
        die("out of memory");
    if (!prior)
        return o;
    set(o, "id", cr_value_copy(cr_value_get(prior, "id")));
    if (JSON_FORM)
        return o;
    const cr_value *pm = cr_value_get(prior, "tenants");
    cr_value *m = (cr_value *)cr_value_get(o, "tenants");
    for (size_t i = 0; i < m->u.coll.len; i++) {
        const cr_value *pe = cr_value_get(pm, m->u.coll.keys[i]);
        if (!pe)
            continue;
        set(m->u.coll.items[i], "version",
            cr_value_copy(cr_value_get(pe, "version")));
        set(m->u.coll.items[i], "updated_at",
            cr_value_copy(cr_value_get(pe, "updated_at")));
    }
    return o;
}

/* A DynamicValue for v (NULL: null of T); freed with dv_free. */
static Tfplugin6__DynamicValue *dv(const cr_value *v)
{
    Tfplugin6__DynamicValue *d = malloc(sizeof *d);
    cr_value *null = v ? NULL : cr_value_null(T);
    void *buf = NULL;
    size_t len = 0;
    if (!d || cr_value_encode_msgpack(v ? v : null, &buf, &len) != 0)
        die("encode");
    cr_value_free(null);
    tfplugin6__dynamic_value__init(d);
    d->msgpack.data = buf;
    d->msgpack.len = len;
    return d;
}

static void dv_free(Tfplugin6__DynamicValue *d)
{
    if (d)
        free(d->msgpack.data);
    free(d);
}

static cr_value *from_dv(const Tfplugin6__DynamicValue *d)
{
    cr_diags diags = CR_DIAGS_INIT;
    cr_value *v = cr_value_decode_msgpack(d->msgpack.data, d->msgpack.len,
                                          T, &diags);
    if (!v || diags.len)
        die("decode");
    return v;
}

/* ---- the steps Terraform takes ----------------------------------------- */

typedef struct step {
    const char *name;
    double seconds, cpu;
    size_t req, resp;
} step;

static step steps[32];
static size_t nsteps;

static void record(const char *name)
{
    steps[nsteps++] = (step){ name, call_seconds, call_cpu, call_req_bytes,
                              call_resp_bytes };
}

static void validate(const cr_value *cfg)
{
    Tfplugin6__ValidateResourceConfig__Request req =
        TFPLUGIN6__VALIDATE_RESOURCE_CONFIG__REQUEST__INIT;
    req.type_name = "cellrouter_tenants";
    req.config = dv(cfg);
    Tfplugin6__ValidateResourceConfig__Response *r =
        invoke("ValidateResourceConfig", &req.base);
    check_no_errors(r->diagnostics, r->n_diagnostics, "validate");
    record("ValidateResourceConfig");
    protobuf_c_message_free_unpacked(&r->base, NULL);
    dv_free(req.config);
}

/* Terraform's refresh starts with the stored JSON state. */
static cr_value *upgrade(const cr_value *st)
{
    Tfplugin6__UpgradeResourceState__Request req =
        TFPLUGIN6__UPGRADE_RESOURCE_STATE__REQUEST__INIT;
    Tfplugin6__RawState raw = TFPLUGIN6__RAW_STATE__INIT;
    char *json = cr_value_encode_json(st);
    if (!json)
        die("encode json");
    raw.json.data = (uint8_t *)json;
    raw.json.len = strlen(json);
    req.type_name = "cellrouter_tenants";
    req.version = 0;
    req.raw_state = &raw;
    Tfplugin6__UpgradeResourceState__Response *r =
        invoke("UpgradeResourceState", &req.base);
    check_no_errors(r->diagnostics, r->n_diagnostics, "upgrade");
    record("UpgradeResourceState");
    cr_value *v = from_dv(r->upgraded_state);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    free(json);
    return v;
}

static cr_value *refresh(const cr_value *st)
{
    Tfplugin6__ReadResource__Request req =
        TFPLUGIN6__READ_RESOURCE__REQUEST__INIT;
    req.type_name = "cellrouter_tenants";
    req.current_state = dv(st);
    req.private_ = PRIV;
    Tfplugin6__ReadResource__Response *r = invoke("ReadResource", &req.base);
    check_no_errors(r->diagnostics, r->n_diagnostics, "read");
    record("ReadResource");
    keep_bytes(&PRIV, &r->private_);
    cr_value *v = from_dv(r->new_state);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    dv_free(req.current_state);
    return v;
}

static cr_value *plan(const cr_value *prior, const cr_value *cfg,
                      size_t *changed)
{
    Tfplugin6__PlanResourceChange__Request req =
        TFPLUGIN6__PLAN_RESOURCE_CHANGE__REQUEST__INIT;
    cr_value *prop = proposed(cfg, prior);
    req.type_name = "cellrouter_tenants";
    req.prior_state = dv(prior);
    req.proposed_new_state = dv(prop);
    req.config = dv(cfg);
    req.prior_private = PRIV;
    Tfplugin6__PlanResourceChange__Response *r =
        invoke("PlanResourceChange", &req.base);
    check_no_errors(r->diagnostics, r->n_diagnostics, "plan");
    record("PlanResourceChange");
    keep_bytes(&PLANNED_PRIV, &r->planned_private);
    cr_value *v = from_dv(r->planned_state);
    const cr_value *m = cr_value_get(v, "tenants");
    *changed = 0;
    for (size_t i = 0; m && m->kind == CR_MAP && i < m->u.coll.len; i++)
        *changed += cr_value_is_unknown(
            cr_value_get(m->u.coll.items[i], "version"));
    protobuf_c_message_free_unpacked(&r->base, NULL);
    dv_free(req.prior_state);
    dv_free(req.proposed_new_state);
    dv_free(req.config);
    cr_value_free(prop);
    return v;
}

static cr_value *apply(const cr_value *prior, const cr_value *planned,
                       const cr_value *cfg)
{
    Tfplugin6__ApplyResourceChange__Request req =
        TFPLUGIN6__APPLY_RESOURCE_CHANGE__REQUEST__INIT;
    req.type_name = "cellrouter_tenants";
    req.prior_state = dv(prior);
    req.planned_state = dv(planned);
    req.config = dv(cfg);
    req.planned_private = PLANNED_PRIV;
    Tfplugin6__ApplyResourceChange__Response *r =
        invoke("ApplyResourceChange", &req.base);
    check_no_errors(r->diagnostics, r->n_diagnostics, "apply");
    record("ApplyResourceChange");
    keep_bytes(&PRIV, &r->private_);
    cr_value *v = from_dv(r->new_state);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    dv_free(req.prior_state);
    dv_free(req.planned_state);
    dv_free(req.config);
    return v;
}

/* ---- one run ------------------------------------------------------------ */

static void print_phase(const char *phase, size_t from, size_t changed)
{
    double total = 0, cpu = 0;
    printf("  %-26s (%zu entries to write)      cpu      wall\n", phase,
           changed);
    for (size_t i = from; i < nsteps; i++) {
        printf("    %-24s %8.3f s %8.3f s   request %6.1f MB   response "
               "%6.1f MB\n", steps[i].name, steps[i].cpu, steps[i].seconds,
               steps[i].req / 1e6, steps[i].resp / 1e6);
        total += steps[i].seconds;
        cpu += steps[i].cpu;
    }
    printf("    %-24s %8.3f s %8.3f s\n", "provider total", cpu, total);
}

static void print_private(size_t n);

/* How many entries of the routing map are at version `v`, read a page at
 * a time (so the count adds nothing to the peak RSS printed): after the
 * create, version 1 are the entries written; after the failover, version
 * 2 those it rewrote. Counted in the store for tenants_json, whose plan
 * has no per-tenant value to count unknown versions in. */
static size_t entries_at_version(int64_t v)
{
    size_t k = 0;
    char *cursor = NULL, *next = NULL;
    do {
        cr_entry_list l = {0};
        cr_store_err err;
        if (cr_store_list_page(P->state.store, "", cursor, 1000, &l, &next,
                               &err) != CR_STORE_OK)
            die("listing the routing map");
        for (size_t i = 0; i < l.len; i++)
            k += l.items[i].version == v;
        cr_entry_list_free(&l);
        free(cursor);
        cursor = next;
    } while (cursor);
    return k;
}

static void run(size_t n)
{
    char dir[] = "/tmp/cr-bench-tenants-XXXXXX", db[128];
    cr_store_err err;
    if (!mkdtemp(dir))
        die("mkdtemp");
    snprintf(db, sizeof db, "%s/map.db", dir);
    P = cr_rpc_provider_new();
    if (!P || cr_store_sqlite_open(db, &P->state.store, &err) != CR_STORE_OK)
        die("cannot open the routing map");
    nsteps = 0;
    printf("cellrouter_tenants, %zu tenants in %s (SQLite, in-process "
           "handlers)\n", n, JSON_FORM ? "tenants_json" : "the tenants map");

    cr_value *cfg = config(n, 0);
    size_t changed = 0, from = nsteps;

    validate(cfg);
    cr_value *planned = plan(NULL, cfg, &changed);
    cr_value *st = apply(NULL, planned, cfg);
    print_phase("apply (create)", from,
                JSON_FORM ? entries_at_version(1) : changed);
    if (JSON_FORM)
        print_private(n);
    cr_value_free(planned);

    from = nsteps;
    validate(cfg);
    cr_value *up = upgrade(st);
    cr_value *fresh = refresh(up);
    cr_value_free(up);
    planned = plan(fresh, cfg, &changed);
    if (changed != 0 || !cr_value_equal(planned, fresh))
        die("a no-change plan planned a change");
    print_phase("plan (no change)", from, changed);
    /* The same document reformatted: still no change (semantic
     * equality), the prior text planned. */
    if (JSON_FORM) {
        from = nsteps;
        const char *text = cr_value_get_str(cfg, "tenants_json");
        json_t *j = json_loads(text, 0, NULL);
        char *compact = j ? json_dumps(j, JSON_COMPACT) : NULL;
        cr_value *cfgc = compact ? cr_value_copy(cfg) : NULL;
        if (!cfgc)
            die("reformatting the document");
        set(cfgc, "tenants_json", cr_value_string(compact));
        cr_value_free(planned);
        planned = plan(fresh, cfgc, &changed);
        if (!cr_value_equal(planned, fresh))
            die("a reformatted document planned a change");
        free(compact);
        json_decref(j);
        cr_value_free(cfgc);
        print_phase("plan (reformatted, no change)", from, 0);
    }
    cr_value_free(planned);

    cr_value *cfg2 = config(n, 1);
    from = nsteps;
    validate(cfg2);
    up = upgrade(fresh);
    cr_value *fresh2 = refresh(up);
    cr_value_free(up);
    planned = plan(fresh2, cfg2, &changed);
    cr_value *st2 = apply(fresh2, planned, cfg2);
    print_phase("apply (1% failover)", from,
                JSON_FORM ? entries_at_version(2) : changed);

    printf("  peak RSS of this process so far: %ld MB\n\n", peak_rss_mb());
    fflush(stdout);

    cr_value_free(st2);
    cr_value_free(planned);
    cr_value_free(fresh2);
    cr_value_free(cfg2);
    cr_value_free(fresh);
    cr_value_free(st);
    cr_value_free(cfg);
    cr_rpc_provider_free(P);
    free(PRIV.data);
    free(PLANNED_PRIV.data);
    PRIV = PLANNED_PRIV = (ProtobufCBinaryData){0, NULL};
    static const char *const files[] = { "map.db", "map.db-wal",
                                         "map.db-shm" };
    for (size_t i = 0; i < 3; i++) {
        char path[160];
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* The private state after the create: its size, and what the same
 * versions and times would take as JSON ({"id": [version, "time"], ...}). */
static void print_private(size_t n)
{
    cr_tversions v;
    if (cr_tversions_decode(PRIV.data, PRIV.len, &v) != 0 || v.len != n)
        die("the private state does not hold every tenant's version");
    json_t *j = json_object();
    for (size_t i = 0; j && i < v.len; i++)
        json_object_set_new(j, v.ids[i], json_pack("[I,s?]",
                                                   (json_int_t)v.version[i],
                                                   v.at[i]));
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    printf("    private state: %.2f MB of MessagePack (%.1f bytes per "
           "tenant); as JSON %.2f MB\n", PRIV.len / 1e6,
           (double)PRIV.len / (double)n, text ? strlen(text) / 1e6 : 0.0);
    free(text);
    json_decref(j);
    cr_tversions_free(&v);
}

int main(int argc, char **argv)
{
    /* The provider's allocator policy (main.c does the same). */
    cr_heap_configure();
    const cr_resource_type *rt = cr_resource_find("cellrouter_tenants");
    if (!rt || !(T = cr_schema_type(rt->schema)))
        die("no cellrouter_tenants resource");
    size_t sizes[16] = { 10000, 100000 }, nsizes = 2;
    if (argc > 1)
        nsizes = 0;
    for (int i = 1; i < argc && nsizes < 16; i++) {
        long n = strtol(argv[i], NULL, 10);
        if (n <= 0 || n > 1000000)
            die("N must be 1 to 1,000,000");
        sizes[nsizes++] = (size_t)n;
    }
    for (int form = 0; form < 2; form++) {
        JSON_FORM = form == 1;
        for (size_t i = 0; i < nsizes; i++)
            run(sizes[i]);
    }
    return 0;
}
