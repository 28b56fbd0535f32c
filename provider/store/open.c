/*
 * store/open.c — backend selection, in one place.
 *
 * The provider's configuration and cellctl's flags both end up here: a
 * backend is one more case in cr_store_open and nothing else for the
 * callers. Settings come from the caller (cr_store_config) or, for what a
 * caller leaves out, from the environment.
 */
#include "store/backend.h"
#include "store/store.h"

#include <string.h>

cr_store_rc cr_store_open(const cr_store_config *cfg, cr_store **out,
                          cr_store_err *err)
{
    return cr_store_open_with(cfg, NULL, out, err);
}

cr_store_rc cr_store_open_with(const cr_store_config *cfg,
                               const cr_store_open_opts *opts,
                               cr_store **out, cr_store_err *err)
{
    static const cr_store_config defaults = {NULL, NULL};
    static const cr_store_open_opts no_opts = {NULL, NULL, NULL};
    if (!cfg)
        cfg = &defaults;
    if (!opts)
        opts = &no_opts;
    *out = NULL;
    const char *backend = cfg->backend;
    if (!backend || !*backend || strcmp(backend, "sqlite") == 0) {
        const char *path = cfg->path ? cfg->path
                                     : cr_store_sqlite_default_path();
        return cr_store_sqlite_open(path, out, err);
    }
    if (strcmp(backend, "cloudflare_kv") == 0) {
        cr_cfkv_config cf;
        if (opts->cloudflare_kv)
            cf = *opts->cloudflare_kv;
        else
            cr_cfkv_config_from_env(&cf);
        if (opts->progress) {
            cf.progress = opts->progress;
            cf.progress_ctx = opts->progress_ctx;
        }
        return cr_store_cfkv_open(&cf, out, err);
    }
    cr_store_err_clear(err);
    return cr_store_err_set(err, CR_STORE_INVALID,
                            "unknown routing map backend \"%.64s\" "
                            "(known: sqlite, cloudflare_kv)", backend);
}
