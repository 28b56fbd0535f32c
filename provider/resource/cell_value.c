/*
 * resource/cell_value.c — cells <-> resource values (see cell_value.h for
 * who uses them). A cell's definition has the shape of a routing-map entry
 * without a tenant and a standby (cell_id, endpoint, labels), so its
 * conversions and validation are the entries' (entry_value.c) on the same
 * attributes, plus the health URL and the serving state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resource/cell_value.h"

static bool has(const cr_value *obj, const char *name)
{
    return cr_type_attr_index(obj->type, name) >= 0;
}

int cr_cv_fill_serving(cr_value *obj, const cr_cell_state *st)
{
    if (!obj || obj->kind != CR_OBJECT)
        return -1;
    if (cr_res_set_str(obj, "serving_state", cr_cell_serving_name(st->state)) ||
        cr_res_set_str(obj, "state_reason", st->reason ? st->reason : "") ||
        cr_res_set_str(obj, "state_changed_at", st->changed_at) ||
        cr_res_set_str(obj, "state_changed_by", st->changed_by) ||
        cr_res_set(obj, "pinned", cr_value_bool(st->pinned)))
        return -1;
    return 0;
}

int cr_cv_fill(cr_value *obj, const cr_cell *c)
{
    if (!obj || obj->kind != CR_OBJECT)
        return -1;
    /* The labels as an entry's: null or a map, exactly as stored. */
    cr_entry view;
    memset(&view, 0, sizeof view);
    view.labels = c->labels;
    view.nlabels = c->nlabels;
    view.has_labels = c->has_labels;
    if ((has(obj, "id") && cr_res_set_str(obj, "id", c->cell_id)) ||
        (has(obj, "cell_id") && cr_res_set_str(obj, "cell_id", c->cell_id)) ||
        cr_res_set_str(obj, "endpoint", c->endpoint) ||
        cr_res_set_str(obj, "health_url", c->health_url) ||
        cr_res_set(obj, "labels", cr_ev_labels(&view, NULL)) ||
        cr_res_set(obj, "version", cr_value_int(c->version)) ||
        cr_res_set_str(obj, "updated_at", c->updated_at))
        return -1;
    return cr_cv_fill_serving(obj, &c->serving);
}

int cr_cv_to_cell(const cr_value *obj, cr_cell *c, cr_diags *d)
{
    static const char *const user[] = {"cell_id", "endpoint", "health_url",
                                       "labels"};
    const cr_value *labels = cr_res_attr(obj, "labels");

    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < sizeof user / sizeof *user; i++) {
        const cr_value *v = cr_res_attr(obj, user[i]);
        if (v && !cr_value_is_wholly_known(v)) {
            char detail[200];
            snprintf(detail, sizeof detail, "`%s` is still unknown when the "
                     "cell is written; Terraform should have resolved it. "
                     "This is a bug in the provider or in Terraform.",
                     user[i]);
            cr_res_error(d, NULL, user[i], NULL, "Unknown value at apply",
                         detail);
            return -1;
        }
        if (cr_res_has_nul(v)) {
            cr_res_error(d, NULL, user[i], NULL, "Invalid value",
                         "The value contains a NUL character.");
            return -1;
        }
    }
    const char *id = cr_res_cstr(cr_res_attr(obj, "cell_id"));
    const char *ep = cr_res_cstr(cr_res_attr(obj, "endpoint"));
    const char *hu = cr_res_cstr(cr_res_attr(obj, "health_url"));
    if (!id || !ep) {
        cr_res_error(d, NULL, NULL, NULL, "Missing required argument",
                     "`cell_id` and `endpoint` must be set.");
        return -1;
    }
    if (!(c->cell_id = strdup(id)) || !(c->endpoint = strdup(ep)) ||
        (hu && !(c->health_url = strdup(hu))))
        goto nomem;
    c->has_labels = !cr_res_is_null(labels);
    for (size_t i = 0; c->has_labels && i < labels->u.coll.len; i++) {
        const char *s = cr_res_cstr(labels->u.coll.items[i]);
        if (!s) {
            cr_res_error(d, NULL, "labels", labels->u.coll.keys[i],
                         "Invalid label", "A label's value must not be null.");
            cr_cell_clear(c);
            return -1;
        }
        if (cr_cell_set_label(c, labels->u.coll.keys[i], s) != 0)
            goto nomem;
    }
    return 0;
nomem:
    cr_cell_clear(c);
    cr_diags_error(d, NULL, "Out of memory", "%s",
                   "The provider ran out of memory.");
    return -1;
}

void cr_cv_validate(const cr_value *obj, cr_diags *d)
{
    const cr_value *h = cr_res_attr(obj, "health_url");
    const char *s = cr_res_cstr(h), *msg;
    cr_ev_validate(obj, NULL, NULL, d);
    if (cr_res_has_nul(h))
        cr_res_error(d, NULL, "health_url", NULL, "Invalid value",
                     "The value contains a NUL character, which the routing "
                     "map cannot hold.");
    else if (s && (msg = cr_health_url_check(s)))
        cr_res_error(d, NULL, "health_url", NULL, "Invalid health_url", msg);
}
