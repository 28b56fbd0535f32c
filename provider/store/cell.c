/*
 * store/cell.c — the cells of the routing map (store.h, "cells"): the cell
 * type's memory, the rules a cell definition and a serving record obey,
 * and the cr_store_cell_* calls, which check their arguments once for
 * every backend and then dispatch to it.
 *
 * The rules, and why:
 *
 *   cell_id      a cell id as tenants name it (cr_cell_id_check), so that
 *                every cell a tenant names can have a definition.
 *   endpoint,    absolute http:// or https:// URLs with a host, by the
 *   health_url   endpoint rules (store.c): the prober fetches the health
 *                URL and the router forwards to the endpoint, and neither
 *                may carry credentials. The health URL is optional (a cell
 *                without one is never probed).
 *   labels       the tenants' label rules.
 *   reason       at most CR_CELL_REASON_MAX bytes of UTF-8 without control
 *                characters: it is printed in cellctl's table and plans.
 *   changed_by   "automation" or "operator:<name>", the name 1 to 64 bytes
 *                of letters, digits and . _ @ - (a login name, or an
 *                e-mail address), so it reads unambiguously in a log line.
 *
 * Labels are kept exactly as an entry's: the label calls of store.c work
 * on a view of the cell's label fields (cr_cell_labels_view, backend.h),
 * so both types share
 * one implementation of sorted, unique keys.
 */
#include "store/backend.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- memory ---------------------------------------------------------------- */

cr_cell *cr_cell_new(void)
{
    return calloc(1, sizeof(cr_cell));
}

static int dup_opt(char **dst, const char *src)
{
    *dst = NULL;
    if (!src)
        return 0;
    *dst = strdup(src);
    return *dst ? 0 : -1;
}

int cr_cell_state_copy(cr_cell_state *dst, const cr_cell_state *src)
{
    *dst = *src;
    dst->reason = dst->changed_at = dst->changed_by = dst->probe = NULL;
    if (dup_opt(&dst->reason, src->reason) ||
        dup_opt(&dst->changed_at, src->changed_at) ||
        dup_opt(&dst->changed_by, src->changed_by) ||
        dup_opt(&dst->probe, src->probe)) {
        cr_cell_state_clear(dst);
        return -1;
    }
    return 0;
}

void cr_cell_state_clear(cr_cell_state *st)
{
    if (!st)
        return;
    free(st->reason);
    free(st->changed_at);
    free(st->changed_by);
    free(st->probe);
    memset(st, 0, sizeof *st);
}

int cr_cell_copy(cr_cell *dst, const cr_cell *src)
{
    memset(dst, 0, sizeof *dst);
    cr_entry view = cr_cell_labels_view(src), labels;
    if (cr_entry_copy(&labels, &view) != 0)
        return -1;
    cr_cell_take_labels(dst, &labels);
    dst->version = src->version;
    if (dup_opt(&dst->cell_id, src->cell_id) ||
        dup_opt(&dst->endpoint, src->endpoint) ||
        dup_opt(&dst->health_url, src->health_url) ||
        dup_opt(&dst->updated_at, src->updated_at) ||
        cr_cell_state_copy(&dst->serving, &src->serving)) {
        cr_cell_clear(dst);
        return -1;
    }
    return 0;
}

void cr_cell_clear(cr_cell *c)
{
    if (!c)
        return;
    cr_entry view = cr_cell_labels_view(c);
    cr_entry_clear(&view);
    free(c->cell_id);
    free(c->endpoint);
    free(c->health_url);
    free(c->updated_at);
    cr_cell_state_clear(&c->serving);
    memset(c, 0, sizeof *c);
}

void cr_cell_free(cr_cell *c)
{
    cr_cell_clear(c);
    free(c);
}

int cr_cell_set_label(cr_cell *c, const char *key, const char *value)
{
    cr_entry view = cr_cell_labels_view(c);
    int rc = cr_entry_set_label(&view, key, value);
    cr_cell_take_labels(c, &view);
    return rc;
}

const char *cr_cell_label(const cr_cell *c, const char *key)
{
    cr_entry view = cr_cell_labels_view(c);
    return cr_entry_label(&view, key);
}

void cr_cell_list_free(cr_cell_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->len; i++)
        cr_cell_clear(&l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

const char *cr_cell_serving_name(cr_cell_serving s)
{
    return s == CR_CELL_FAILED ? "failed" : "serving";
}

int cr_cell_serving_parse(const char *name, cr_cell_serving *out)
{
    if (name && strcmp(name, "serving") == 0)
        *out = CR_CELL_SERVING;
    else if (name && strcmp(name, "failed") == 0)
        *out = CR_CELL_FAILED;
    else
        return -1;
    return 0;
}

/* ---- rules ----------------------------------------------------------------- */

const char *cr_health_url_check(const char *url)
{
    /* The endpoint rules, worded for this field: every message of
     * cr_endpoint_check starts with "endpoint". */
    static _Thread_local char msg[200];
    const char *bad = cr_endpoint_check(url);
    if (!bad)
        return NULL;
    if (strncmp(bad, "endpoint", 8) != 0)
        return bad;
    snprintf(msg, sizeof msg, "health_url%s", bad + 8);
    return msg;
}

const char *cr_cell_check(const cr_cell *c, const char **field)
{
    const char *dummy, *msg;
    if (!field)
        field = &dummy;
    *field = NULL;
    if (!c)
        return "no cell";
    *field = "cell_id";
    if ((msg = cr_cell_id_check(c->cell_id)))
        return msg;
    *field = "endpoint";
    if (!c->endpoint)
        return "endpoint is required";
    if ((msg = cr_endpoint_check(c->endpoint)))
        return msg;
    *field = "health_url";
    if (c->health_url && (msg = cr_health_url_check(c->health_url)))
        return msg;
    *field = "labels";
    if (!c->has_labels && c->nlabels)
        return "labels are null but the cell carries some";
    cr_entry view = cr_cell_labels_view(c);
    if ((msg = cr_store_labels_check(&view)))
        return msg;
    *field = NULL;
    return NULL;
}

const char *cr_cell_reason_check(const char *reason)
{
    if (!reason || !*reason)
        return NULL;
    if (strlen(reason) > CR_CELL_REASON_MAX)
        return "reason is longer than 512 bytes";
    if (!cr_store_text_ok(reason))
        return "reason must be UTF-8 text without control characters";
    return NULL;
}

const char *cr_cell_changed_by_check(const char *by)
{
    if (!by || !*by)
        return "changed_by must not be empty";
    if (strcmp(by, CR_CELL_BY_AUTOMATION) == 0)
        return NULL;
    size_t pre = sizeof CR_CELL_BY_OPERATOR - 1;
    if (strncmp(by, CR_CELL_BY_OPERATOR, pre) != 0)
        return "changed_by must be \"automation\" or \"operator:<name>\"";
    const char *name = by + pre;
    size_t n = strlen(name);
    if (n == 0 || n > CR_CELL_OPERATOR_MAX)
        return "the operator's name must be 1 to 64 bytes";
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
              ch == '@' || ch == '-'))
            return "the operator's name may only contain letters, digits "
                   "and . _ @ -";
    }
    return NULL;
}

/* ---- the calls --------------------------------------------------------------
 *
 * Arguments are checked here, once for every backend: a backend's cell
 * operation always gets a valid cell id, a valid definition or serving
 * record and a sensible expected version.
 */

static const cr_store_cell_ops *cells_of(cr_store *s, cr_store_err *err)
{
    cr_store_err_clear(err);
    if (s && s->ops->cells)
        return s->ops->cells;
    cr_store_err_set(err, CR_STORE_INVALID, "the %s routing map keeps no "
                     "cells", s ? s->ops->name : "(missing)");
    return NULL;
}

static cr_store_rc check_id(const char *cell_id, cr_store_err *err)
{
    const char *bad = cr_cell_id_check(cell_id);
    return bad ? cr_store_err_set(err, CR_STORE_INVALID, "%s", bad)
               : CR_STORE_OK;
}

cr_store_rc cr_store_cell_get(cr_store *s, const char *cell_id, cr_cell **out,
                              cr_store_err *err)
{
    const cr_store_cell_ops *ops = cells_of(s, err);
    *out = NULL;
    if (!ops)
        return CR_STORE_INVALID;
    cr_store_rc rc = check_id(cell_id, err);
    return rc != CR_STORE_OK ? rc : ops->get(s, cell_id, out, err);
}

cr_store_rc cr_store_cell_list(cr_store *s, cr_cell_list *out,
                               cr_store_err *err)
{
    const cr_store_cell_ops *ops = cells_of(s, err);
    memset(out, 0, sizeof *out);
    if (!ops)
        return CR_STORE_INVALID;
    cr_store_rc rc = ops->list(s, out, err);
    if (rc != CR_STORE_OK)
        cr_cell_list_free(out);
    return rc;
}

cr_store_rc cr_store_cell_put(cr_store *s, const cr_cell *in, int64_t expect,
                              cr_cell **written, cr_store_err *err)
{
    const cr_store_cell_ops *ops = cells_of(s, err);
    const char *field = NULL, *bad;
    if (written)
        *written = NULL;
    if (!ops)
        return CR_STORE_INVALID;
    if ((bad = cr_cell_check(in, &field)))
        return cr_store_err_set(err, CR_STORE_INVALID, "%s: %s",
                                field ? field : "cell", bad);
    cr_store_rc rc = cr_store_check_expect(expect, false, err);
    return rc != CR_STORE_OK ? rc : ops->put(s, in, expect, written, err);
}

cr_store_rc cr_store_cell_delete(cr_store *s, const char *cell_id,
                                 int64_t expect, size_t *tenants,
                                 cr_store_err *err)
{
    size_t dummy;
    const cr_store_cell_ops *ops = cells_of(s, err);
    if (!tenants)
        tenants = &dummy;
    *tenants = 0;
    if (!ops)
        return CR_STORE_INVALID;
    cr_store_rc rc = check_id(cell_id, err);
    if (rc == CR_STORE_OK)
        rc = cr_store_check_expect(expect, true, err);
    return rc != CR_STORE_OK ? rc
                             : ops->del(s, cell_id, expect, tenants, err);
}

cr_store_rc cr_store_cell_set_state(cr_store *s, const char *cell_id,
                                    const cr_cell_state *in, int64_t expect,
                                    cr_cell **written, cr_store_err *err)
{
    const cr_store_cell_ops *ops = cells_of(s, err);
    const char *bad;
    if (written)
        *written = NULL;
    if (!ops)
        return CR_STORE_INVALID;
    cr_store_rc rc = check_id(cell_id, err);
    if (rc != CR_STORE_OK)
        return rc;
    if (!in)
        return cr_store_err_set(err, CR_STORE_INVALID, "no serving state");
    if (in->state != CR_CELL_SERVING && in->state != CR_CELL_FAILED)
        return cr_store_err_set(err, CR_STORE_INVALID,
                                "state must be serving or failed");
    if ((bad = cr_cell_changed_by_check(in->changed_by)) ||
        (bad = cr_cell_reason_check(in->reason)))
        return cr_store_err_set(err, CR_STORE_INVALID, "%s", bad);
    rc = cr_store_check_expect(expect, false, err);
    return rc != CR_STORE_OK ? rc
                             : ops->set_state(s, cell_id, in, expect,
                                              written, err);
}

const char *cr_store_cell_fits(cr_store *s, const cr_cell *c, char *buf,
                               size_t bufsz)
{
    const cr_store_cell_ops *ops = s ? s->ops->cells : NULL;
    return ops && ops->fits ? ops->fits(s, c, buf, bufsz) : NULL;
}
