/*
 * resource/provider.c — the `provider "cellrouter"` block: its schema, its
 * validation, and turning a configuration into an open routing-map store.
 *
 * The routing map lives in exactly one store. Each backend the provider can
 * use is one row of `backends` below: how to tell that the configuration
 * selects it, how to check its settings, and how to open it. Today there is
 * one, the embedded SQLite file, selected by the top-level `path` attribute
 * or by default. A remote backend (e.g. a `cloudflare_kv { account_id,
 * namespace_id, api_token, api_url }` nested block) is added by giving the
 * schema its block and the table its row; the "exactly one store" rule, the
 * unknown handling and the error reporting below already cover it.
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

static const cr_schema provider_schema = {
    .version = 0,
    .description =
        "The `cellrouter` provider manages the routing map of a cell-based "
        "architecture: which cell serves each tenant, at which endpoint, and "
        "where its traffic goes on failover. The map is kept in exactly one "
        "store; by default an embedded SQLite file.",
    .nattrs = sizeof provider_attrs / sizeof provider_attrs[0],
    .attrs = provider_attrs,
    .nblocks = 0,
    .blocks = NULL,
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
    void (*open)(const cr_value *config, cr_store **out, cr_diags *diags);
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

static void sqlite_open(const cr_value *config, cr_store **out,
                        cr_diags *diags)
{
    bool bad = false;
    const char *path = attr_cstr(config, "path", &bad);
    const cr_store_config cfg = { "sqlite", path };
    cr_path at = {0, 0, NULL};
    cr_store_err err;

    if (bad)
        return;         /* validation reported it */
    memset(&err, 0, sizeof err);
    cr_log_debug("provider", "opening the SQLite routing map %s",
                 path ? path : cr_store_sqlite_default_path());
    if (cr_store_open(&cfg, out, &err) == CR_STORE_OK)
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

static const backend backends[] = {
    { "sqlite", "path", sqlite_used, sqlite_validate, sqlite_known,
      sqlite_open },
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
                           cr_diags *diags)
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
    b->open(config, &store, diags);
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
