/*
 * store/open.c — backend selection, in one place.
 *
 * The provider's configuration and cellctl's flags both end up here, so
 * adding a backend (Cloudflare Workers KV is next) means one more case in
 * cr_store_open and nothing else for the callers.
 */
#include "store/backend.h"
#include "store/store.h"

#include <string.h>

cr_store_rc cr_store_open(const cr_store_config *cfg, cr_store **out,
                          cr_store_err *err)
{
    static const cr_store_config defaults = {NULL, NULL};
    if (!cfg)
        cfg = &defaults;
    *out = NULL;
    const char *backend = cfg->backend;
    if (!backend || !*backend || strcmp(backend, "sqlite") == 0) {
        const char *path = cfg->path ? cfg->path
                                     : cr_store_sqlite_default_path();
        return cr_store_sqlite_open(path, out, err);
    }
    if (strcmp(backend, "cloudflare_kv") == 0) {
        cr_cfkv_config cf;
        cr_cfkv_config_from_env(&cf);
        return cr_store_cfkv_open(&cf, out, err);
    }
    cr_store_err_clear(err);
    return cr_store_err_set(err, CR_STORE_INVALID,
                            "unknown routing map backend \"%.64s\" "
                            "(known: sqlite, cloudflare_kv)", backend);
}
