/*
 * rpc/plan_check.c — Terraform's rules on planned values and apply results,
 * checked before we answer.
 *
 * Terraform rejects a plan or an apply result that breaks its rules with
 * "Provider produced invalid plan" or "Provider produced inconsistent result
 * after apply", wording that sends users to the provider's issue tracker
 * with little to go on. Checking the same rules here turns a resource bug
 * into an error diagnostic that names the attribute, and keeps a bad value
 * from ever reaching Terraform's state.
 *
 * The rules mirror Terraform's objchange package:
 *  - conformance: every value has the schema's type;
 *  - plan: a non-null config value is planned unchanged or as the prior
 *    value; a null config value stays null unless the attribute is
 *    computed; computed-only attributes may be anything; LIST/SET/MAP
 *    blocks are never null and keep the config's element count;
 *  - apply: every known planned value is in the result, unchanged.
 * Diagnostics name paths, never values: a value may be sensitive.
 *
 * Calls nothing else in rpc/. May include: rpc/internal.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/internal.h"

/* Where a check is: a stack of borrowed names (attribute names, map keys
 * of the values being checked) over the caller's path. Pushing allocates
 * nothing, where a cr_path copies every name: a check of 100,000 tenants
 * visits about a million values and usually reports nothing, so the
 * stack becomes a cr_path only when a diagnostic is reported. */
typedef struct ckstep {
    cr_path_step_kind kind;
    const char *name;           /* ATTR and KEY */
    int64_t index;              /* INDEX */
} ckstep;

typedef struct ckpath {
    const cr_path *base;        /* the caller's prefix, or NULL */
    size_t len, cap;
    ckstep *s;
    ckstep fixed[16];
} ckpath;

static void ck_init(ckpath *p, const cr_path *base)
{
    p->base = base;
    p->len = 0;
    p->cap = sizeof p->fixed / sizeof p->fixed[0];
    p->s = p->fixed;
}

static void ck_free(ckpath *p)
{
    if (p->s != p->fixed)
        free(p->s);
}

/* 0, or -1 on ENOMEM (only past 16 levels). */
static int ck_push(ckpath *p, cr_path_step_kind kind, const char *name,
                   int64_t index)
{
    if (p->len == p->cap) {
        if (p->cap > SIZE_MAX / 2 / sizeof *p->s)
            return -1;
        ckstep *grown = malloc(2 * p->cap * sizeof *grown);
        if (grown == NULL)
            return -1;
        memcpy(grown, p->s, p->len * sizeof *grown);
        ck_free(p);
        p->s = grown;
        p->cap *= 2;
    }
    p->s[p->len++] = (ckstep){ .kind = kind, .name = name, .index = index };
    return 0;
}

static int ck_attr(ckpath *p, const char *name)
{
    return ck_push(p, CR_STEP_ATTR, name, 0);
}

static int ck_key(ckpath *p, const char *key)
{
    return ck_push(p, CR_STEP_KEY, key, 0);
}

static int ck_index(ckpath *p, int64_t i)
{
    return ck_push(p, CR_STEP_INDEX, NULL, i);
}

static void ck_pop(ckpath *p)
{
    if (p->len)
        p->len--;
}

static void path_error(cr_diags *diags, const ckpath *ck, const char *summary,
                       const char *what)
{
    cr_path path;
    int rc = cr_path_copy(&path, ck->base);
    for (size_t i = 0; rc == 0 && i < ck->len; i++)
        rc = ck->s[i].kind == CR_STEP_INDEX
                 ? cr_path_push_index(&path, ck->s[i].index)
             : ck->s[i].kind == CR_STEP_KEY
                 ? cr_path_push_key(&path, ck->s[i].name)
                 : cr_path_push_attr(&path, ck->s[i].name);
    if (rc != 0) {
        /* Out of memory: the error still stands, without its place. */
        cr_path_free(&path);
        path = (cr_path){0};
    }
    char *where = cr_path_format(&path);
    cr_diags_error(diags, &path, summary,
                   "%s%s%s This is a bug in the provider; please report it.",
                   where && *where ? where : "", where && *where ? ": " : "",
                   what);
    free(where);
    cr_path_free(&path);
}

static const char *type_name(const cr_type *t)
{
    switch (t->kind) {
    case CR_TYPE_STRING:  return "a string";
    case CR_TYPE_NUMBER:  return "a number";
    case CR_TYPE_BOOL:    return "a bool";
    case CR_TYPE_DYNAMIC: return "any value";
    case CR_TYPE_LIST:    return "a list";
    case CR_TYPE_SET:     return "a set";
    case CR_TYPE_MAP:     return "a map";
    case CR_TYPE_OBJECT:  return "an object";
    case CR_TYPE_TUPLE:   return "a tuple";
    }
    return "a value";
}

static bool kind_matches(cr_value_kind k, cr_type_kind t)
{
    switch (t) {
    case CR_TYPE_STRING: return k == CR_STRING;
    case CR_TYPE_NUMBER: return k == CR_NUMBER;
    case CR_TYPE_BOOL:   return k == CR_BOOL;
    case CR_TYPE_LIST:   return k == CR_LIST;
    case CR_TYPE_SET:    return k == CR_SET;
    case CR_TYPE_MAP:    return k == CR_MAP;
    case CR_TYPE_OBJECT: return k == CR_OBJECT;
    case CR_TYPE_TUPLE:  return k == CR_TUPLE;
    case CR_TYPE_DYNAMIC: return true;
    }
    return false;
}

static void conforms(const cr_value *v, const cr_type *t, ckpath *path,
                     const char *summary, cr_diags *diags)
{
    char what[160];

    if (v == NULL || t == NULL || t->kind == CR_TYPE_DYNAMIC)
        return;
    if (v->kind == CR_NULL || v->kind == CR_UNKNOWN)
        return;
    if (!kind_matches(v->kind, t->kind)) {
        snprintf(what, sizeof what, "the value is not %s.", type_name(t));
        path_error(diags, path, summary, what);
        return;
    }
    switch (t->kind) {
    case CR_TYPE_LIST:
    case CR_TYPE_SET:
        for (size_t i = 0; i < v->u.coll.len; i++) {
            if (t->kind == CR_TYPE_LIST && ck_index(path, (int64_t)i))
                return;
            conforms(v->u.coll.items[i], t->elem, path, summary,
                                  diags);
            if (t->kind == CR_TYPE_LIST)
                ck_pop(path);
        }
        break;
    case CR_TYPE_MAP:
        for (size_t i = 0; i < v->u.coll.len; i++) {
            if (ck_key(path, v->u.coll.keys[i]))
                return;
            conforms(v->u.coll.items[i], t->elem, path, summary,
                                  diags);
            ck_pop(path);
        }
        break;
    case CR_TYPE_OBJECT:
        /* Exactly the type's attributes: both lists are sorted by name. */
        if (v->u.coll.len != t->nattrs) {
            snprintf(what, sizeof what,
                     "an object with %zu attributes is required (%zu given).",
                     t->nattrs, v->u.coll.len);
            path_error(diags, path, summary, what);
            return;
        }
        for (size_t i = 0; i < t->nattrs; i++) {
            /* Both are sorted by name, so attribute i is normally at i:
             * one comparison instead of a search, for every object of a
             * 100,000-element map. */
            const cr_value *av =
                v->u.coll.keys[i] == t->attrs[i].name ||
                strcmp(v->u.coll.keys[i], t->attrs[i].name) == 0
                    ? v->u.coll.items[i]
                    : cr_value_get(v, t->attrs[i].name);
            if (ck_attr(path, t->attrs[i].name))
                return;
            if (av == NULL)
                path_error(diags, path, summary, "the attribute is missing.");
            else
                conforms(av, t->attrs[i].type, path, summary,
                                      diags);
            ck_pop(path);
        }
        break;
    case CR_TYPE_TUPLE:
        if (v->u.coll.len != t->nattrs) {
            snprintf(what, sizeof what,
                     "a tuple of %zu elements is required (%zu given).",
                     t->nattrs, v->u.coll.len);
            path_error(diags, path, summary, what);
            return;
        }
        for (size_t i = 0; i < t->nattrs; i++) {
            if (ck_index(path, (int64_t)i))
                return;
            conforms(v->u.coll.items[i], t->attrs[i].type, path,
                                  summary, diags);
            ck_pop(path);
        }
        break;
    default:
        break;
    }
}

void cr_rpc_check_conforms(const cr_value *v, const cr_type *t, cr_path *path,
                           const char *summary, cr_diags *diags)
{
    ckpath ck;
    ck_init(&ck, path);
    conforms(v, t, &ck, summary, diags);
    ck_free(&ck);
}

/* ---- plan ---------------------------------------------------------------- */

#define PLAN_SUMMARY "Provider produced an invalid plan"

static const cr_value *attr_of(const cr_value *obj, const char *name)
{
    if (obj == NULL || obj->kind != CR_OBJECT)
        return NULL;
    return cr_value_get(obj, name);
}

static bool is_null(const cr_value *v)
{
    return v == NULL || v->kind == CR_NULL;
}

/* The element of MAP or OBJECT `m` under `key`, where `key` is the i-th key
 * of a collection usually having the same keys as m (planned vs configured,
 * prior, applied): both are sorted, so it is normally at i, and one
 * comparison replaces a binary search for each of 100,000 elements. */
static const cr_value *get_at(const cr_value *m, size_t i, const char *key)
{
    if (i < m->u.coll.len && strcmp(m->u.coll.keys[i], key) == 0)
        return m->u.coll.items[i];
    return cr_value_get(m, key);
}

static void check_plan_object(const cr_schema *s, const cr_value *prior,
                              const cr_value *config, const cr_value *planned,
                              ckpath *path, cr_diags *diags);

/* The elements of a MAP or LIST nested attribute whose planned and
 * configured collections have the same length. Maps are sorted by key, so
 * the configured and prior counterparts are at the same index when the
 * key sets agree (get_at), else found by binary search. */
static void check_plan_elements(const cr_attr_schema *a,
                                const cr_value *prior,
                                const cr_value *config,
                                const cr_value *planned, ckpath *path,
                                cr_diags *diags)
{
    bool is_map = a->nested_mode == CR_NEST_MAP;
    cr_value_kind kind = is_map ? CR_MAP : CR_LIST;

    if (config->kind != kind || planned->kind != kind)
        return;                     /* conformance reports the kind */
    if (prior != NULL && prior->kind != kind)
        prior = NULL;
    for (size_t i = 0; i < planned->u.coll.len; i++) {
        const cr_value *pe = planned->u.coll.items[i];
        const cr_value *ce, *pre = NULL;
        if (is_map) {
            const char *k = planned->u.coll.keys[i];
            ce = get_at(config, i, k);
            pre = prior ? get_at(prior, i, k) : NULL;
            if (ck_key(path, k))
                return;
        } else {
            ce = config->u.coll.items[i];
            if (prior && i < prior->u.coll.len)
                pre = prior->u.coll.items[i];
            if (ck_index(path, (int64_t)i))
                return;
        }
        if (ce == NULL)
            path_error(diags, path, PLAN_SUMMARY,
                       "an element was planned under a key the "
                       "configuration does not have.");
        else if (cr_value_is_unknown(pe) && !cr_value_is_unknown(ce))
            path_error(diags, path, PLAN_SUMMARY,
                       "an element of a nested attribute must not be "
                       "planned wholly unknown; plan its attributes "
                       "unknown instead.");
        else if (pe->kind == CR_OBJECT && ce->kind == CR_OBJECT)
            check_plan_object(a->nested, is_null(pre) ? NULL : pre, ce, pe,
                              path, diags);
        else if (is_null(pe) != is_null(ce))
            path_error(diags, path, PLAN_SUMMARY,
                       "the planned element does not match the "
                       "configuration.");
        ck_pop(path);
    }
}

static void check_plan_attr(const cr_attr_schema *a, const cr_value *prior,
                            const cr_value *config, const cr_value *planned,
                            ckpath *path, cr_diags *diags)
{
    bool computed = (a->flags & CR_ATTR_COMPUTED) != 0;
    bool optional = (a->flags & CR_ATTR_OPTIONAL) != 0;
    bool required = (a->flags & CR_ATTR_REQUIRED) != 0;

    if (planned == NULL) {
        path_error(diags, path, PLAN_SUMMARY,
                   "the planned object lacks this attribute.");
        return;
    }
    /* Planned as configured, or kept as it was: both always fine. */
    if (config != NULL && cr_value_equal(planned, config))
        return;
    if (!is_null(prior) && !is_null(config) && cr_value_equal(planned, prior))
        return;
    if (computed && !optional && !required)
        return;
    if (is_null(config) && computed)
        return;
    if (is_null(config) && !is_null(planned)) {
        path_error(diags, path, PLAN_SUMMARY,
                   "a value was planned for an attribute that is not set in "
                   "the configuration and is not computed.");
        return;
    }
    if (a->nested != NULL && a->nested_mode == CR_NEST_SINGLE &&
        !is_null(config) && !is_null(planned) &&
        !cr_value_is_unknown(config) && !cr_value_is_unknown(planned)) {
        check_plan_object(a->nested, is_null(prior) ? NULL : prior, config,
                          planned, path, diags);
        return;
    }
    if (a->nested != NULL && a->nested_mode != CR_NEST_SINGLE &&
        !is_null(config) && !is_null(planned) &&
        !cr_value_is_unknown(config) && !cr_value_is_unknown(planned)) {
        /* Collections of nested objects (objchange's
         * assertPlannedObjectValid): the same element count as configured;
         * for MAP and LIST, each element is checked against its configured
         * and prior counterpart (by key, by index), so a computed
         * attribute inside may be planned while a configured one may not
         * change. SET elements have no identity: the count is all. */
        if (config->u.coll.len != planned->u.coll.len) {
            path_error(diags, path, PLAN_SUMMARY,
                       "the planned number of elements differs from the "
                       "configuration.");
            return;
        }
        if (a->nested_mode == CR_NEST_MAP || a->nested_mode == CR_NEST_LIST)
            check_plan_elements(a, prior, config, planned, path, diags);
        return;
    }
    if (is_null(prior))
        path_error(diags, path, PLAN_SUMMARY,
                   "the planned value does not match the configuration.");
    else
        path_error(diags, path, PLAN_SUMMARY,
                   "the planned value matches neither the configuration nor "
                   "the prior state.");
}

static void check_plan_block(const cr_block_schema *b, const cr_value *prior,
                             const cr_value *config, const cr_value *planned,
                             ckpath *path, cr_diags *diags)
{
    const cr_schema empty = {0};
    const cr_schema *bs = b->block ? b->block : &empty;

    switch (b->nesting) {
    case CR_NEST_SINGLE:
    case CR_NEST_GROUP:
        if (is_null(config) && b->nesting == CR_NEST_SINGLE) {
            if (!is_null(planned))
                path_error(diags, path, PLAN_SUMMARY,
                           "a block absent from the configuration was "
                           "planned.");
            return;
        }
        if (planned == NULL || planned->kind != CR_OBJECT) {
            if (!cr_value_is_unknown(config))
                path_error(diags, path, PLAN_SUMMARY,
                           "a configured block was planned null.");
            return;
        }
        if (config != NULL && config->kind == CR_OBJECT)
            check_plan_object(bs, prior, config, planned, path, diags);
        return;
    case CR_NEST_LIST:
    case CR_NEST_SET:
    case CR_NEST_MAP:
        if (is_null(planned)) {
            path_error(diags, path, PLAN_SUMMARY,
                       "a list, set or map of blocks must be empty rather "
                       "than null.");
            return;
        }
        if (config != NULL && !cr_value_is_unknown(config) &&
            !cr_value_is_unknown(planned) && config->kind != CR_NULL &&
            config->u.coll.len != planned->u.coll.len)
            path_error(diags, path, PLAN_SUMMARY,
                       "the planned number of blocks differs from the "
                       "configuration.");
        if (b->nesting == CR_NEST_LIST && config != NULL &&
            config->kind == CR_LIST && planned->kind == CR_LIST &&
            config->u.coll.len == planned->u.coll.len) {
            const cr_value *pl = prior;
            for (size_t i = 0; i < planned->u.coll.len; i++) {
                const cr_value *pe = planned->u.coll.items[i];
                const cr_value *ce = config->u.coll.items[i];
                const cr_value *pre =
                    (pl && pl->kind == CR_LIST && i < pl->u.coll.len)
                        ? pl->u.coll.items[i] : NULL;
                if (ck_index(path, (int64_t)i))
                    return;
                if (cr_value_is_unknown(pe))
                    path_error(diags, path, PLAN_SUMMARY,
                               "a block must not be planned wholly unknown.");
                else if (pe->kind == CR_OBJECT && ce->kind == CR_OBJECT)
                    check_plan_object(bs, pre, ce, pe, path, diags);
                ck_pop(path);
            }
        }
        if (b->nesting == CR_NEST_MAP && config != NULL &&
            config->kind == CR_MAP && planned->kind == CR_MAP &&
            config->u.coll.len == planned->u.coll.len) {
            /* Blocks by label: the same labels as configured, each block
             * checked against its configured and prior counterpart. */
            for (size_t i = 0; i < planned->u.coll.len; i++) {
                const char *k = planned->u.coll.keys[i];
                const cr_value *pe = planned->u.coll.items[i];
                const cr_value *ce = get_at(config, i, k);
                const cr_value *pre = prior && prior->kind == CR_MAP
                                          ? get_at(prior, i, k) : NULL;
                if (ck_key(path, k))
                    return;
                if (ce == NULL)
                    path_error(diags, path, PLAN_SUMMARY,
                               "a block was planned under a label the "
                               "configuration does not have.");
                else if (cr_value_is_unknown(pe))
                    path_error(diags, path, PLAN_SUMMARY,
                               "a block must not be planned wholly unknown.");
                else if (pe->kind == CR_OBJECT && ce->kind == CR_OBJECT)
                    check_plan_object(bs, pre, ce, pe, path, diags);
                ck_pop(path);
            }
        }
        return;
    }
}

static void check_plan_object(const cr_schema *s, const cr_value *prior,
                              const cr_value *config, const cr_value *planned,
                              ckpath *path, cr_diags *diags)
{
    for (size_t i = 0; i < s->nattrs; i++) {
        const cr_attr_schema *a = &s->attrs[i];
        if (ck_attr(path, a->name))
            return;
        check_plan_attr(a, attr_of(prior, a->name), attr_of(config, a->name),
                        attr_of(planned, a->name), path, diags);
        ck_pop(path);
    }
    for (size_t i = 0; i < s->nblocks; i++) {
        const cr_block_schema *b = &s->blocks[i];
        if (ck_attr(path, b->type_name))
            return;
        check_plan_block(b, attr_of(prior, b->type_name),
                         attr_of(config, b->type_name),
                         attr_of(planned, b->type_name), path, diags);
        ck_pop(path);
    }
}

void cr_rpc_check_plan(const cr_schema *s, const cr_value *prior,
                       const cr_value *config, const cr_value *planned,
                       cr_diags *diags)
{
    ckpath path;
    const cr_type *t = cr_schema_type(s);

    ck_init(&path, NULL);

    if (planned == NULL || planned->kind != CR_OBJECT) {
        path_error(diags, &path, PLAN_SUMMARY,
                   planned != NULL && planned->kind == CR_UNKNOWN
                       ? "the planned object is wholly unknown."
                       : "the planned object is null for a create or "
                         "update.");
        return;
    }
    conforms(planned, t, &path, PLAN_SUMMARY, diags);
    if (cr_diags_has_error(diags))
        goto out;
    check_plan_object(s, is_null(prior) ? NULL : prior, config, planned,
                      &path, diags);
out:
    ck_free(&path);
}

/* ---- apply --------------------------------------------------------------- */

#define APPLY_SUMMARY "Provider produced an inconsistent result after apply"

static void check_compat(const cr_value *planned, const cr_value *actual,
                         ckpath *path, cr_diags *diags)
{
    if (planned->kind == CR_UNKNOWN)
        return;                 /* anything conforming; known-ness checked
                                   separately */
    if (planned->kind == CR_NULL) {
        if (actual->kind != CR_NULL)
            path_error(diags, path, APPLY_SUMMARY,
                       "the plan said null, but the result has a value.");
        return;
    }
    if (actual->kind == CR_NULL || actual->kind != planned->kind) {
        path_error(diags, path, APPLY_SUMMARY,
                   actual->kind == CR_NULL
                       ? "the plan had a value, but the result is null."
                       : "the result has another type than the plan.");
        return;
    }
    switch (planned->kind) {
    case CR_OBJECT:
    case CR_MAP:
        if (planned->u.coll.len != actual->u.coll.len) {
            path_error(diags, path, APPLY_SUMMARY,
                       planned->kind == CR_MAP
                           ? "the result has other map keys than the plan."
                           : "the result has other attributes than the "
                             "plan.");
            return;
        }
        for (size_t i = 0; i < planned->u.coll.len; i++) {
            const char *k = planned->u.coll.keys[i];
            const cr_value *av = get_at(actual, i, k);
            if (planned->kind == CR_OBJECT ? ck_attr(path, k)
                                           : ck_key(path, k))
                return;
            if (av == NULL)
                path_error(diags, path, APPLY_SUMMARY,
                           "the result lacks this element of the plan.");
            else
                check_compat(planned->u.coll.items[i], av, path, diags);
            ck_pop(path);
        }
        return;
    case CR_LIST:
    case CR_TUPLE:
        if (planned->u.coll.len != actual->u.coll.len) {
            path_error(diags, path, APPLY_SUMMARY,
                       "the result has another number of elements than the "
                       "plan.");
            return;
        }
        for (size_t i = 0; i < planned->u.coll.len; i++) {
            if (ck_index(path, (int64_t)i))
                return;
            check_compat(planned->u.coll.items[i], actual->u.coll.items[i],
                         path, diags);
            ck_pop(path);
        }
        return;
    case CR_SET:
        /* Set elements have no identity; an unknown inside a planned set
         * can match anything, so only wholly known sets are compared. */
        if (cr_value_is_wholly_known(planned) &&
            !cr_value_equal(planned, actual))
            path_error(diags, path, APPLY_SUMMARY,
                       "the result set differs from the planned set.");
        return;
    default:
        if (!cr_value_equal(planned, actual))
            path_error(diags, path, APPLY_SUMMARY,
                       "the result differs from the planned value.");
        return;
    }
}

void cr_rpc_check_apply(const cr_value *planned, const cr_value *actual,
                        cr_diags *diags)
{
    ckpath path;

    ck_init(&path, NULL);
    if (is_null(planned)) {
        if (!is_null(actual))
            path_error(diags, &path, APPLY_SUMMARY,
                       "the object was to be destroyed, but the result is "
                       "not null.");
        return;
    }
    if (is_null(actual)) {
        path_error(diags, &path, APPLY_SUMMARY,
                   "the result of a create or update is null.");
        return;
    }
    if (!cr_value_is_wholly_known(actual)) {
        path_error(diags, &path, APPLY_SUMMARY,
                   "the result still holds unknown values.");
        return;
    }
    conforms(actual, planned->type, &path, APPLY_SUMMARY, diags);
    if (!cr_diags_has_error(diags))
        check_compat(planned, actual, &path, diags);
    ck_free(&path);
}

/* ---- requires_replace ---------------------------------------------------- */

static bool has_path(const cr_path *paths, size_t n, const cr_path *p)
{
    for (size_t i = 0; i < n; i++) {
        if (paths[i].len != p->len)
            continue;
        size_t j = 0;
        for (; j < p->len; j++) {
            const cr_path_step *a = &paths[i].steps[j], *b = &p->steps[j];
            if (a->kind != b->kind)
                break;
            if (a->kind == CR_STEP_INDEX ? a->index != b->index
                                         : strcmp(a->name, b->name) != 0)
                break;
        }
        if (j == p->len)
            return true;
    }
    return false;
}

/* The value at `p` inside v, or NULL when the path leads nowhere. */
static const cr_value *value_at(const cr_value *v, const cr_path *p)
{
    for (size_t i = 0; v != NULL && i < p->len; i++) {
        const cr_path_step *st = &p->steps[i];
        if (st->kind == CR_STEP_INDEX) {
            if ((v->kind != CR_LIST && v->kind != CR_TUPLE) ||
                st->index < 0 || (uint64_t)st->index >= v->u.coll.len)
                return NULL;
            v = v->u.coll.items[st->index];
        } else if (v->kind == CR_OBJECT || v->kind == CR_MAP) {
            v = cr_value_get(v, st->name);
        } else {
            return NULL;
        }
    }
    return v;
}

/* Whether a change at `p` between prior and planned is a real one (what
 * Terraform itself keeps of requires_replace): the values differ, or the
 * planned one is not known yet. */
static bool path_changes(const cr_value *prior, const cr_value *planned,
                         const cr_path *p)
{
    const cr_value *a = value_at(prior, p), *b = value_at(planned, p);
    if (a == NULL && b == NULL)
        return false;
    if (a == NULL || b == NULL)
        return true;
    return !cr_value_is_wholly_known(b) || !cr_value_equal(a, b);
}

int cr_rpc_requires_replace(const cr_schema *s, const cr_value *prior,
                            const cr_value *planned, cr_path **paths,
                            size_t *npaths)
{
    if (is_null(prior) || planned == NULL || planned->kind != CR_OBJECT)
        return 0;               /* create and destroy replace nothing */
    /* The resource may list every force-new path; answer only those that
     * change, so the plan reads the same to every client. */
    size_t kept = 0;
    for (size_t i = 0; i < *npaths; i++) {
        if (path_changes(prior, planned, &(*paths)[i]))
            (*paths)[kept++] = (*paths)[i];
        else
            cr_path_free(&(*paths)[i]);
    }
    *npaths = kept;
    for (size_t i = 0; i < s->nattrs; i++) {
        const cr_attr_schema *a = &s->attrs[i];
        if (!(a->flags & CR_ATTR_FORCE_NEW))
            continue;
        cr_path p = {0};
        if (cr_path_push_attr(&p, a->name))
            return -1;
        if (!path_changes(prior, planned, &p) ||
            has_path(*paths, *npaths, &p)) {
            cr_path_free(&p);
            continue;
        }
        cr_path *grown = realloc(*paths, (*npaths + 1) * sizeof *grown);
        if (grown == NULL) {
            cr_path_free(&p);
            return -1;
        }
        *paths = grown;
        grown[(*npaths)++] = p;
    }
    return 0;
}
