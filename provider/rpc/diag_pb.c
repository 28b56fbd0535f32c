/*
 * rpc/diag_pb.c — cr_diags and cr_path -> tfplugin6.Diagnostic and
 * tfplugin6.AttributePath.
 *
 * A diagnostic with a path makes Terraform point at the expression in the
 * configuration; the steps map one to one: attribute (and block type) names
 * to attribute_name, map keys to element_key_string, list indexes to
 * element_key_int. Everything is copied into the call's arena because the
 * cr_diags are freed before the response is packed.
 *
 * Calls pb.c only. May include: rpc/pb.h.
 */
#include <string.h>

#include "rpc/pb.h"

Tfplugin6__AttributePath *cr_rpc_path_to_pb(cr_call *call, const cr_path *p)
{
    Tfplugin6__AttributePath *ap =
        cr_rpc_msg_new(call, &tfplugin6__attribute_path__descriptor);

    if (ap == NULL)
        return NULL;
    if (p == NULL || p->len == 0)
        return ap;
    ap->steps = cr_call_alloc(call, p->len * sizeof *ap->steps);
    if (ap->steps == NULL)
        return NULL;
    for (size_t i = 0; i < p->len; i++) {
        const cr_path_step *src = &p->steps[i];
        Tfplugin6__AttributePath__Step *st =
            cr_rpc_msg_new(call, &tfplugin6__attribute_path__step__descriptor);
        if (st == NULL)
            return NULL;
        switch (src->kind) {
        case CR_STEP_ATTR:
            st->selector_case =
                TFPLUGIN6__ATTRIBUTE_PATH__STEP__SELECTOR_ATTRIBUTE_NAME;
            st->attribute_name = cr_call_strdup(call, src->name ? src->name : "");
            if (st->attribute_name == NULL)
                return NULL;
            break;
        case CR_STEP_KEY:
            st->selector_case =
                TFPLUGIN6__ATTRIBUTE_PATH__STEP__SELECTOR_ELEMENT_KEY_STRING;
            st->element_key_string =
                cr_call_strdup(call, src->name ? src->name : "");
            if (st->element_key_string == NULL)
                return NULL;
            break;
        case CR_STEP_INDEX:
            st->selector_case =
                TFPLUGIN6__ATTRIBUTE_PATH__STEP__SELECTOR_ELEMENT_KEY_INT;
            st->element_key_int = src->index;
            break;
        }
        ap->steps[ap->n_steps++] = st;
    }
    return ap;
}

int cr_rpc_diags_to_pb(cr_call *call, const cr_diags *d,
                       Tfplugin6__Diagnostic ***out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    if (d == NULL || d->len == 0)
        return 0;
    Tfplugin6__Diagnostic **arr = cr_call_alloc(call, d->len * sizeof *arr);
    if (arr == NULL)
        return -1;
    for (size_t i = 0; i < d->len; i++) {
        const cr_diag *src = &d->items[i];
        Tfplugin6__Diagnostic *pd =
            cr_rpc_msg_new(call, &tfplugin6__diagnostic__descriptor);
        if (pd == NULL)
            return -1;
        /* INVALID would make Terraform treat the diagnostic as neither
         * error nor warning; anything not a warning is an error. */
        pd->severity = src->severity == CR_DIAG_WARNING
                           ? TFPLUGIN6__DIAGNOSTIC__SEVERITY__WARNING
                           : TFPLUGIN6__DIAGNOSTIC__SEVERITY__ERROR;
        pd->summary = cr_call_strdup(call, src->summary ? src->summary : "");
        pd->detail = cr_call_strdup(call, src->detail ? src->detail : "");
        if (pd->summary == NULL || pd->detail == NULL)
            return -1;
        if (src->path.len > 0) {
            pd->attribute = cr_rpc_path_to_pb(call, &src->path);
            if (pd->attribute == NULL)
                return -1;
        }
        arr[i] = pd;
    }
    *out = arr;
    *n_out = d->len;
    return 0;
}
