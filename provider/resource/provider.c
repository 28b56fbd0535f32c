/*
 * resource/provider.c — the `provider "cellrouter"` block: its schema, its
 * validation, and turning a configuration into an open routing-map store.
 *
 * The routing map lives in exactly one store. Each backend the provider can
 * use is one row of `backends` below: how to tell that the configuration
 * selects it, how to check its settings, and how to open it. There are
 * two: the embedded SQLite file, selected by the top-level `path` attribute
 * or by default, and Cloudflare Workers KV, selected by the `cloudflare_kv
 * { account_id, namespace_id, api_token, api_url, max_retry_seconds }`
 * block. The "exactly one store" rule, the unknown handling and the error
 * reporting below cover both. The API token is sensitive: no message here
 * quotes it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "resource/resource.h"

/* ---- schema ------------------------------------------------------------- */

static const cr_attr_schema provider_attrs[] = {
    {
        .name = "path",
        .type = &cr_type_string,
        .flags = CR_ATTR_OPTIONAL,
        .description =
            "Path of the SQLite file that holds the routing map. It is "
            "created on first use. When unset, the provider uses the "
            "`CELLROUTER_DB` environment variable, and when that is unset "
            "too, `cellrouter.db` in Terraform's working directory. "
            "Use the same file with `cellctl` to inspect or change the map.",
    },
};

/* The Cloudflare Workers KV store: the namespace the edge router reads. */
static const cr_attr_schema cloudflare_kv_attrs[] = {
    {
        .name = "account_id",
        .type = &cr_type_string,
        .flags = CR_ATTR_REQUIRED,
        .description = "The Cloudflare account that owns the namespace.",
    },
    {
        .name = "namespace_id",
        .type = &cr_type_string,
        .flags = CR_ATTR_REQUIRED,
        .description =
            "The id of the Workers KV namespace that holds the routing map "
            "(for example `cloudflare_workers_kv_namespace.routing_map.id`). "
            "The edge router reads the same namespace through its "
            "`ROUTING_MAP` binding.",
    },
    {
        .name = "api_token",
        .type = &cr_type_string,
        .flags = CR_ATTR_OPTIONAL | CR_ATTR_SENSITIVE,
        .description =
            "A Cloudflare API token with the \"Workers KV Storage:Edit\" "
            "permission on the account. When unset, the provider uses the "
            "`CLOUDFLARE_API_TOKEN` environment variable. It is sent to "
            "`api_url` only and never logged.",
    },
    {
        .name = "api_url",
        .type = &cr_type_string,
        .flags = CR_ATTR_OPTIONAL,
        .description =
            "Base URL of Cloudflare's v4 API; defaults to "
            "`" CR_CFKV_DEFAULT_API_URL "`. Must be `https://`, except for "
            "an API stand-in on this machine (127.0.0.1, localhost, [::1]).",
    },
    {
        .name = "max_retry_seconds",
        .type = &cr_type_number,
        .flags = CR_ATTR_OPTIONAL,
        .description =
            "How long one operation keeps retrying answers that say \"try "
            "again\" (HTTP 429 rate limits, 5xx, network errors), honouring "
            "`Retry-After`, before it fails with a diagnostic. 1 to 3600; "
            "default 30.",
    },
};

static const cr_schema cloudflare_kv_schema = {
    .version = 0,
    .description =
        "Keep the routing map in a Cloudflare Workers KV namespace, where "
        "the edge router reads it: the key is the tenant id, the value its "
        "endpoint, the metadata the rest of the entry.",
    .nattrs = sizeof cloudflare_kv_attrs / sizeof cloudflare_kv_attrs[0],
    .attrs = cloudflare_kv_attrs,
    .nblocks = 0,
    .blocks = NULL,
};

static const cr_block_schema provider_blocks[] = {
    {
        .type_name = "cloudflare_kv",
        .nesting = CR_NEST_SINGLE,
        .block = &cloudflare_kv_schema,
        .min_items = 0,
        .max_items = 0,
    },
};

static const cr_schema provider_schema = {
    .version = 0,
    .description =
        "The `cellrouter` provider manages the routing map of a cell-based "
        "architecture: which cell serves each tenant, at which endpoint, and "
        "where its traffic goes on failover. The map is kept in exactly one "
        "store: by default an embedded SQLite file (`path`), or a Cloudflare "
        "Workers KV namespace (a `cloudflare_kv` block).",
    .nattrs = sizeof provider_attrs / sizeof provider_attrs[0],
    .attrs = provider_attrs,
    .nblocks = sizeof provider_blocks / sizeof provider_blocks[0],
    .blocks = provider_blocks,
};

const cr_schema *cr_provider_schema(void)
{
    return &provider_schema;
}

/* ---- backends ----------------------------------------------------------- */

/* How a configuration relates to one backend. */
typedef enum backend_use {
    BACKEND_ABSENT = 0,     /* the configuration does not mention it */
    BACKEND_PRESENT,        /* it is configured (values may be unknown) */
    BACKEND_MAYBE,          /* its selector is unknown: may turn out null */
} backend_use;

typedef struct backend {
    const char *name;
    /* The attribute or block that selects this backend, for messages. */
    const char *selector;
    backend_use (*used)(const cr_value *config);
    /* Diagnostics for bad settings; unknown values are never an error. */
    void (*validate)(const cr_value *config, cr_diags *diags);
    /* True when every setting the backend needs is known. */
    bool (*known)(const cr_value *config);
    /* Opens the store through cr_store_open_with (store/open.c, the one
     * place a backend is chosen); `stop` ends the store's long waits
     * (a Workers KV rate-limit lockout) when Terraform asks to stop. */
    void (*open)(const cr_value *config, const volatile int *stop,
                 cr_store **out, cr_diags *diags);
} backend;

/* A string attribute as a C string, or NULL when it is null or unknown.
 * Strings holding a NUL byte cannot be passed to C APIs; they are reported
 * by validation and read as NULL here with *bad set. */
static const char *attr_cstr(const cr_value *obj, const char *name, bool *bad)
{
    const cr_value *v = obj ? cr_value_get(obj, name) : NULL;
    if (bad)
        *bad = false;
    if (!v || v->kind != CR_STRING)
        return NULL;
    if (strlen(v->u.str.ptr) != v->u.str.len) {
        if (bad)
            *bad = true;
        return NULL;
    }
    return v->u.str.ptr;
}

static bool attr_is_unknown(const cr_value *obj, const char *name)
{
    const cr_value *v = obj ? cr_value_get(obj, name) : NULL;
    return v && cr_value_is_unknown(v);
}

static bool attr_is_null(const cr_value *obj, const char *name)
{
    const cr_value *v = obj ? cr_value_get(obj, name) : NULL;
    return !v || cr_value_is_null(v);
}

/* SQLite: the default, so it counts as used whenever `path` is set; when
 * nothing selects any backend, the default is opened anyway. */
static backend_use sqlite_used(const cr_value *config)
{
    if (attr_is_unknown(config, "path"))
        return BACKEND_MAYBE;
    return attr_is_null(config, "path") ? BACKEND_ABSENT : BACKEND_PRESENT;
}

static void sqlite_validate(const cr_value *config, cr_diags *diags)
{
    const cr_value *v = config ? cr_value_get(config, "path") : NULL;
    if (!v || v->kind != CR_STRING)
        return;                         /* null or unknown: fine */
    if (v->u.str.len == 0)
        cr_diags_attr_error(diags, "path", "Invalid routing map path",
                            "`path` must not be empty. Leave it unset to use "
                            "$CELLROUTER_DB or cellrouter.db in the working "
                            "directory.");
    else if (strlen(v->u.str.ptr) != v->u.str.len)
        cr_diags_attr_error(diags, "path", "Invalid routing map path",
                            "`path` contains a NUL character, which no file "
                            "name can hold.");
}

static bool sqlite_known(const cr_value *config)
{
    return !attr_is_unknown(config, "path");
}

static void sqlite_open(const cr_value *config, const volatile int *stop,
                        cr_store **out, cr_diags *diags)
{
    bool bad = false;
    const char *path = attr_cstr(config, "path", &bad);
    const cr_store_config cfg = { "sqlite", path };
    cr_path at = {0, 0, NULL};
    cr_store_err err;

    (void)stop;             /* SQLite never waits long */
    if (bad)
        return;         /* validation reported it */
    memset(&err, 0, sizeof err);
    cr_log_debug("provider", "opening the SQLite routing map %s",
                 path ? path : cr_store_sqlite_default_path());
    if (cr_store_open_with(&cfg, NULL, out, &err) == CR_STORE_OK)
        return;
    *out = NULL;
    if (path && cr_path_push_attr(&at, "path") != 0)
        cr_path_free(&at);
    const char *env = getenv("CELLROUTER_DB");
    cr_diags_error(diags, at.len ? &at : NULL,
                   "Could not open the routing map",
                   "The SQLite routing map %s (%s) could not be opened: %s",
                   path ? path : cr_store_sqlite_default_path(),
                   path ? "set by `path`" :
                   env && *env ? "from the CELLROUTER_DB environment "
                                 "variable" :
                   "the default in the working directory",
                   err.msg[0] ? err.msg : cr_store_rc_name(err.rc));
    cr_path_free(&at);
}

/* Cloudflare Workers KV: selected by the `cloudflare_kv` block. */
static backend_use cfkv_used(const cr_value *config)
{
    if (attr_is_unknown(config, "cloudflare_kv"))
        return BACKEND_MAYBE;
    return attr_is_null(config, "cloudflare_kv") ? BACKEND_ABSENT
                                                 : BACKEND_PRESENT;
}

/* An error on one attribute of the cloudflare_kv block (NULL: the block). */
static void cfkv_error(cr_diags *diags, const char *name, const char *summary,
                       const char *detail)
{
    cr_path at = {0, 0, NULL};
    if (cr_path_push_attr(&at, "cloudflare_kv") != 0 ||
        (name && cr_path_push_attr(&at, name) != 0))
        cr_path_free(&at);
    cr_diags_error(diags, at.len ? &at : NULL, summary, "%s", detail);
    cr_path_free(&at);
}

static void cfkv_validate(const cr_value *config, cr_diags *diags)
{
    const cr_value *blk = config ? cr_value_get(config, "cloudflare_kv")
                                 : NULL;
    static const struct {
        const char *name, *what;
        const char *(*check)(const char *);
    } fields[] = {
        {"account_id", "account id", cr_cfkv_check_id},
        {"namespace_id", "namespace id", cr_cfkv_check_id},
        {"api_token", "API token", cr_cfkv_check_token},
        {"api_url", "API URL", cr_cfkv_check_api_url},
    };
    if (!blk || blk->kind != CR_OBJECT)
        return;                         /* absent, null or unknown */
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const cr_value *v = cr_value_get(blk, fields[i].name);
        if (!v || v->kind != CR_STRING)
            continue;                   /* null (optional) or unknown */
        bool nul = strlen(v->u.str.ptr) != v->u.str.len;
        const char *msg = nul ? "contains a NUL character"
                              : fields[i].check(v->u.str.ptr);
        if (!msg)
            continue;
        /* The rule, never the value: the token must not be quoted. */
        char summary[64], detail[400];
        snprintf(summary, sizeof summary, "Invalid Cloudflare %s",
                 fields[i].what);
        snprintf(detail, sizeof detail, "`%s` %s.", fields[i].name, msg);
        cfkv_error(diags, fields[i].name, summary, detail);
    }
    const cr_value *r = cr_value_get(blk, "max_retry_seconds");
    if (r && r->kind == CR_NUMBER &&
        (!r->u.num.is_int || r->u.num.i < 1 || r->u.num.i > 3600))
        cfkv_error(diags, "max_retry_seconds", "Invalid retry budget",
                   "`max_retry_seconds` must be a whole number of seconds "
                   "from 1 to 3600.");
    const cr_value *tok = cr_value_get(blk, "api_token");
    if (tok && cr_value_is_null(tok) && !cr_value_is_unknown(tok)) {
        const char *env = getenv("CLOUDFLARE_API_TOKEN");
        if (!env || !*env)
            cfkv_error(diags, "api_token", "Missing Cloudflare API token",
                       "Set `api_token` in the `cloudflare_kv` block or "
                       "the CLOUDFLARE_API_TOKEN environment variable to a "
                       "token with the \"Workers KV Storage:Edit\" "
                       "permission.");
        else if (cr_cfkv_check_token(env)) {
            char detail[300];
            snprintf(detail, sizeof detail, "The CLOUDFLARE_API_TOKEN "
                     "environment variable %s.", cr_cfkv_check_token(env));
            cfkv_error(diags, "api_token", "Invalid Cloudflare API token",
                       detail);
        }
    }
}

static bool cfkv_known(const cr_value *config)
{
    const cr_value *blk = config ? cr_value_get(config, "cloudflare_kv")
                                 : NULL;
    return blk && cr_value_is_wholly_known(blk);
}

static void cfkv_open(const cr_value *config, const volatile int *stop,
                      cr_store **out, cr_diags *diags)
{
    const cr_value *blk = cr_value_get(config, "cloudflare_kv");
    const cr_value *r = blk ? cr_value_get(blk, "max_retry_seconds") : NULL;
    cr_cfkv_config cfg;
    cr_store_err err;

    memset(&cfg, 0, sizeof cfg);
    memset(&err, 0, sizeof err);
    cfg.account_id = attr_cstr(blk, "account_id", NULL);
    cfg.namespace_id = attr_cstr(blk, "namespace_id", NULL);
    cfg.api_token = attr_cstr(blk, "api_token", NULL);
    if (!cfg.api_token)
        cfg.api_token = getenv("CLOUDFLARE_API_TOKEN");
    cfg.api_url = attr_cstr(blk, "api_url", NULL);
    if (r && r->kind == CR_NUMBER && r->u.num.is_int)
        cfg.retry_budget_ms = (long)r->u.num.i * 1000;
    cfg.stop = stop;
    cr_log_debug("provider", "opening the Workers KV routing map: namespace "
                 "%s of account %s", cfg.namespace_id ? cfg.namespace_id : "?",
                 cfg.account_id ? cfg.account_id : "?");
    const cr_store_config which = { "cloudflare_kv", NULL };
    const cr_store_open_opts opts = { &cfg, NULL, NULL };
    if (cr_store_open_with(&which, &opts, out, &err) == CR_STORE_OK)
        return;
    *out = NULL;
    char detail[700];
    snprintf(detail, sizeof detail, "The Workers KV routing map could not "
             "be used: %s", err.msg[0] ? err.msg : cr_store_rc_name(err.rc));
    cfkv_error(diags, NULL, err.rc == CR_STORE_AUTH
                                ? "Cloudflare refused the API token"
                                : "Could not open the routing map", detail);
}

static const backend backends[] = {
    { "sqlite", "path", sqlite_used, sqlite_validate, sqlite_known,
      sqlite_open },
    { "cloudflare_kv", "cloudflare_kv", cfkv_used, cfkv_validate,
      cfkv_known, cfkv_open },
};
#define NBACKENDS (sizeof backends / sizeof backends[0])
/* The backend used when the configuration selects none. */
#define DEFAULT_BACKEND (&backends[0])

/* The one backend the configuration selects, DEFAULT_BACKEND when it
 * selects none, or NULL: with an error when it selects several, without
 * one (*undecided set) when an unknown selector leaves the choice open. */
static const backend *select_backend(const cr_value *config, cr_diags *diags,
                                     bool *undecided)
{
    const backend *chosen = NULL;
    char names[256] = "";
    size_t n = 0, used = 0;
    bool maybe = false;

    for (size_t i = 0; i < NBACKENDS; i++) {
        backend_use u = backends[i].used(config);
        maybe |= u == BACKEND_MAYBE;
        if (u != BACKEND_PRESENT)
            continue;
        if (n++ == 0)
            chosen = &backends[i];
        if (used < sizeof names) {
            int w = snprintf(names + used, sizeof names - used, "%s`%s`",
                             used ? ", " : "", backends[i].selector);
            used += w > 0 ? (size_t)w : 0;
        }
    }
    if (n > 1) {
        cr_diags_error(diags, NULL, "Conflicting routing map stores",
                       "The provider keeps the routing map in exactly one "
                       "store, but its configuration selects %zu: %s. Keep "
                       "the settings of one store only.", n, names);
        return NULL;
    }
    if (undecided)
        *undecided = false;
    if (maybe && n == 0) {
        /* With one backend selected, an unknown selector of another one
         * can only be null in a valid configuration; with none, which
         * backend applies is not known yet. */
        if (undecided)
            *undecided = true;
        return NULL;
    }
    return chosen ? chosen : DEFAULT_BACKEND;
}

/* ---- validate, configure, close ----------------------------------------- */

void cr_provider_validate(const cr_value *config, cr_diags *diags)
{
    /* A missing provider block arrives as null: every backend default. */
    if (config && cr_value_is_unknown(config))
        return;
    for (size_t i = 0; i < NBACKENDS; i++)
        backends[i].validate(config, diags);
    (void)select_backend(config, diags, NULL);
}

void cr_provider_configure(cr_provider_state *p, const cr_value *config,
                           const volatile int *stop, cr_diags *diags)
{
    cr_diags local = CR_DIAGS_INIT;
    const backend *b;
    cr_store *store = NULL;
    bool undecided = false;

    if (config && cr_value_is_unknown(config)) {
        cr_log_debug("provider", "configuration unknown: not configured");
        return;
    }
    cr_provider_validate(config, &local);
    if (cr_diags_has_error(&local)) {
        cr_diags_move(diags, &local);
        return;
    }
    cr_diags_move(diags, &local);
    b = select_backend(config, diags, &undecided);
    if (!b && undecided)
        cr_log_debug("provider", "store selection unknown until apply: "
                     "not configured");
    if (!b)
        return;
    if (!b->known(config)) {
        /* Terraform configures with unknowns only while planning, when the
         * provider depends on something not created yet. Resources then
         * report that the provider is not configured if they need it. */
        cr_log_debug("provider", "%s settings unknown until apply: "
                     "not configured", b->name);
        return;
    }
    b->open(config, stop, &store, diags);
    if (!store)
        return;
    /* Terraform configures a provider once per process; a second
     * configuration replaces the first store. */
    cr_provider_close(p);
    p->store = store;
    cr_log_info("provider", "routing map store %s ready", b->name);
}

void cr_provider_close(cr_provider_state *p)
{
    if (!p || !p->store)
        return;
    cr_store_close(p->store);
    p->store = NULL;
}
