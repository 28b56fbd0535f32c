/*
 * resource/tenants.c — the `cellrouter_tenants` resource: many routing-map
 * entries managed by one Terraform resource.
 *
 * Terraform core slows down sharply with thousands of resource instances,
 * so a fleet of 10,000-100,000 tenants is one resource whose `tenants`
 * attribute is a map nested attribute keyed by tenant id. Terraform then
 * renders the per-tenant diff itself, and this file makes sure the diff is
 * exact: an entry whose user-set values did not change keeps its version
 * and updated_at from the prior state (so it never shows a change), a
 * changed or new entry has both unknown until apply.
 *
 * Ownership. The resource owns exactly the keys in its map; entries it does
 * not list are never read or written. Every entry it writes carries the
 * owner tag (the reserved label CR_OWNER_LABEL = the resource's `name`, see
 * entry_value.h). Adding a key that is already in the map is refused at
 * plan, and again at apply if it appeared since, naming the key (and its
 * owner when another cellrouter_tenants resource has it); import refuses
 * keys tagged with another name; refresh warns about keys whose tag
 * changed under us. An entry imported without a tag gets it with its next
 * write (until then a second import elsewhere is not detected).
 *
 * Writes. Apply computes the changes by a merge of the prior and planned
 * maps (both sorted by key: O(n)), and writes only changed entries, in
 * batches of cr_store_batch_max, each all-or-nothing and conditional on the
 * versions Terraform last saw. When a batch fails, the batches before it
 * stay written and the new state records exactly what was written (written
 * entries with their new versions, the rest as they were), so the next
 * plan shows exactly what is left: nothing is lost or written twice.
 *
 * Refresh reads the owned keys in one store call (one SQLite query).
 *
 * Two forms of the fleet, exactly one per resource: the `tenants` map
 * (this file), whose version and updated_at per entry Terraform holds as
 * computed attributes, and the `tenants_json` document (tenants_json.c),
 * one string whose versions live in the private state. The map is for
 * small fleets: Terraform core converts a map of N objects at a cost that
 * grows with N² (20,000 tenants: 67 s of plan), so past CR_TN_MAP_WARN
 * entries the plan warns and points to the document, which stays linear.
 * A resource can move from one form to the other: each reads the other's
 * prior state (its versions included), so only real changes are written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "resource/tenants.h"

#define LOG "tenants"
#define TENANTS_SCHEMA_VERSION 0
#define NAME_MAX_LEN 128

/* ---- schema ------------------------------------------------------------- */

static const cr_attr_schema entry_attrs[] = {
    {
        .name = "cell_id", .type = &cr_type_string, .flags = CR_ATTR_REQUIRED,
        .description = "The cell that serves the tenant (same rules as "
                       "`cellrouter_tenant.cell_id`).",
    },
    {
        .name = "endpoint", .type = &cr_type_string,
        .flags = CR_ATTR_REQUIRED,
        .description = "Where the tenant's traffic goes: an absolute "
                       "`http://` or `https://` URL, kept exactly as written.",
    },
    {
        .name = "standby_cell_id", .type = &cr_type_string,
        .flags = CR_ATTR_OPTIONAL,
        .description = "The cell that takes the tenant over on failover; set "
                       "together with `standby_endpoint`, or neither.",
    },
    {
        .name = "standby_endpoint", .type = &cr_type_string,
        .flags = CR_ATTR_OPTIONAL,
        .description = "The standby cell's ingest URL.",
    },
    {
        .name = "labels", .type = &cr_ev_map_of_string,
        .flags = CR_ATTR_OPTIONAL,
        .description = "Free-form string labels kept with the entry. The key "
                       "`" CR_OWNER_LABEL "` is reserved.",
    },
    {
        .name = "version", .type = &cr_type_number, .flags = CR_ATTR_COMPUTED,
        .description = "The entry's generation number in the routing map; "
                       "writes only go through when it still has the value "
                       "Terraform last read.",
    },
    {
        .name = "updated_at", .type = &cr_type_string,
        .flags = CR_ATTR_COMPUTED,
        .description = "When the entry was last written, in RFC 3339 (UTC).",
    },
};

static const cr_schema entry_schema = {
    .version = 0,
    .description = "One tenant's routing-map entry.",
    .nattrs = sizeof entry_attrs / sizeof entry_attrs[0],
    .attrs = entry_attrs,
};

static const cr_attr_schema tenants_attrs[] = {
    {
        .name = "id", .type = &cr_type_string,
        .flags = CR_ATTR_COMPUTED | CR_ATTR_USE_STATE,
        .description = "Same as `name`.",
    },
    {
        .name = "name", .type = &cr_type_string, .flags = CR_ATTR_REQUIRED,
        .description =
            "Names this set of tenants in the routing map: every entry the "
            "resource writes is tagged with it (label `" CR_OWNER_LABEL "`), "
            "so another `cellrouter_tenants` resource, or an import, cannot "
            "take its keys over. 1 to 128 bytes of ASCII letters, digits and "
            "`.` `_` `:` `@` `-`, starting with a letter or digit; unique "
            "per routing map. Changing it re-tags (rewrites) every entry.",
    },
    {
        .name = "tenants", .nested = &entry_schema,
        .nested_mode = CR_NEST_MAP, .flags = CR_ATTR_OPTIONAL,
        .description =
            "The routing-map entries this resource manages, keyed by tenant "
            "id: the form for small fleets (exactly one of `tenants` and "
            "`tenants_json` is set). Entries not in this map are never "
            "touched. A tenant id that is already in the routing map is not "
            "taken over: import it (`terraform import "
            "cellrouter_tenants.<name> '<name>/<id>,<id>'` or "
            "`'<name>/prefix:<prefix>'`). Past 2,000 entries the plan warns: "
            "Terraform core converts a map of objects at a cost that grows "
            "with the square of its size (20,000 tenants take a minute to "
            "plan, 100,000 a quarter of an hour); use `tenants_json`.",
    },
    {
        .name = "tenants_json", .type = &cr_type_string,
        .flags = CR_ATTR_OPTIONAL,
        .description =
            "The same entries as one JSON document, for fleets of any size "
            "(exactly one of `tenants` and `tenants_json` is set): an object "
            "keyed by tenant id, each value an object with `cell_id` and "
            "`endpoint`, optionally `standby_cell_id` and `standby_endpoint` "
            "(both or neither) and `labels` (an object of strings), e.g. "
            "`file(\"${path.module}/tenants.json\")` or "
            "`jsonencode(local.fleet)`; `cellctl export` prints one. "
            "Formatting, key order, and fields left out or given as null "
            "(or `labels = {}`) make no difference: such a change plans "
            "nothing and the state keeps the text it had. Terraform shows a "
            "change to the document tenant by tenant. Per-tenant versions "
            "and write times are kept in the resource's private state, "
            "never in the plan. At most 64 MiB and 500,000 tenants; a "
            "document that is not valid (not an object, a key given twice, "
            "an unknown field, bad UTF-8) is an error at plan naming the "
            "tenant and the field, and nothing is written.",
    },
};

static const cr_schema tenants_schema = {
    .version = TENANTS_SCHEMA_VERSION,
    .description =
        "Many tenants' entries in the routing map, managed as one resource "
        "(a fleet of 100,000 tenants in `tenants_json` plans in seconds, "
        "where as many `cellrouter_tenant` resources would take Terraform "
        "hours). Writes go in batches of 1,000 entries, each "
        "all-or-nothing and conditional on the versions Terraform last "
        "read.",
    .nattrs = sizeof tenants_attrs / sizeof tenants_attrs[0],
    .attrs = tenants_attrs,
};

static const cr_state_upgrader tenants_upgraders[] = {
    { .from_version = -1, .upgrade = NULL },
};

/* ---- helpers ------------------------------------------------------------ */

static const cr_type *entry_type(void)
{
    return cr_schema_type(&entry_schema);
}

/* The type of `tenants`: map(object(entry)). */
static const cr_type *map_type(void)
{
    const cr_type *t = cr_schema_type(&tenants_schema);
    long i = cr_type_attr_index(t, "tenants");
    return i >= 0 ? t->attrs[i].type : NULL;
}

/* A copy of the resource object `base` whose `tenants` is `m` (adopted,
 * even on failure), without copying base's own map: at 100,000 tenants a
 * copy that is thrown away at once costs more than the rest of a refresh.
 * id follows name. NULL when out of memory. */
static cr_value *with_tenants(const cr_value *base, cr_value *m)
{
    cr_value *st = m ? cr_value_object(base->type) : NULL;
    if (!st) {
        cr_value_free(m);
        return NULL;
    }
    for (size_t i = 0; i < base->type->nattrs; i++) {
        const char *name = base->type->attrs[i].name;
        if (strcmp(name, "tenants") == 0 || strcmp(name, "id") == 0)
            continue;
        if (cr_res_set(st, name, cr_value_copy(cr_value_get(base, name)))) {
            cr_value_free(st);
            cr_value_free(m);
            return NULL;
        }
    }
    if (cr_res_set(st, "tenants", m) ||
        cr_res_set(st, "id", cr_value_copy(cr_value_get(st, "name")))) {
        cr_value_free(st);
        return NULL;
    }
    return st;
}

void cr_tn_nomem(cr_diags *d)
{
    cr_diags_error(d, NULL, "Out of memory", "%s",
                   "The provider ran out of memory.");
}

const char *cr_tn_name_check(const char *name)
{
    if (name && strlen(name) > NAME_MAX_LEN)
        return "name is longer than 128 bytes";
    const char *msg = cr_tenant_id_check(name);
    /* The rules are the tenant id's; say "name" rather than "tenant_id". */
    return msg ? "name must be 1 to 128 bytes of letters, digits and . _ : @ "
                 "-, starting with a letter or a digit"
               : NULL;
}

/* The known map of `tenants`, else NULL. */
static const cr_value *tenants_map(const cr_value *obj)
{
    const cr_value *m = cr_res_attr(obj, "tenants");
    return m && m->kind == CR_MAP ? m : NULL;
}

static bool elem_changed(const cr_value *planned_elem)
{
    const cr_value *v = cr_res_attr(planned_elem, "version");
    return !v || cr_value_is_unknown(v);
}

void cr_tn_keylist_add(cr_tn_keylist *k, const char *key, const char *note)
{
    size_t len = strlen(k->text);
    if (k->n < CR_TN_NAMED_KEYS && len + 80 < sizeof k->text)
        snprintf(k->text + len, sizeof k->text - len, "%s%.64s%s%s",
                 k->n ? ", " : "", key, note ? " " : "", note ? note : "");
    k->n++;
}

const char *cr_tn_keylist_more(const cr_tn_keylist *k, char buf[64])
{
    buf[0] = '\0';
    if (k->n > CR_TN_NAMED_KEYS)
        snprintf(buf, 64, " and %zu more", k->n - CR_TN_NAMED_KEYS);
    return buf;
}

bool cr_tn_import_refusals(cr_diags *d, const cr_tn_keylist *missing,
                           const cr_tn_keylist *foreign, bool disagree,
                           const char *id_prefix)
{
    char more[64];
    if (missing->n)
        cr_diags_error(d, NULL, "Cannot import non-existent tenants",
                       "%zu tenant(s) are not in the routing map: %s%s.",
                       missing->n, missing->text,
                       cr_tn_keylist_more(missing, more));
    if (foreign->n)
        cr_diags_error(d, NULL, "Tenants managed by another resource",
                       "%zu tenant(s) are managed by another "
                       "cellrouter_tenants resource: %s%s. A key can be "
                       "managed by one resource only: remove it from the "
                       "other resource first.", foreign->n, foreign->text,
                       cr_tn_keylist_more(foreign, more));
    if (disagree)
        cr_diags_error(d, NULL, "Tenants managed by several resources",
                       "The imported tenants are tagged with different "
                       "cellrouter_tenants names; import each resource's "
                       "tenants separately, naming it: "
                       "'%s<name>/<id>,<id>'.", id_prefix);
    return missing->n || foreign->n || disagree;
}

void cr_tn_warn_retagged(cr_diags *d, const cr_tn_keylist *retagged)
{
    char more[64];
    if (retagged->n)
        cr_diags_add(d, CR_DIAG_WARNING, NULL,
                     "Tenants tagged by another resource",
                     "%zu tenant(s) of this resource carry another "
                     "resource's tag in the routing map: %s%s. The next "
                     "write of each re-tags it.", retagged->n, retagged->text,
                     cr_tn_keylist_more(retagged, more));
}

/* ---- validate ----------------------------------------------------------- */

static void tenants_validate(const cr_value *config, cr_diags *d)
{
    const cr_value *name = cr_res_attr(config, "name");
    const char *s = cr_res_cstr(name);
    if (cr_res_is_null(name) && !cr_value_is_unknown(name))
        cr_res_error(d, NULL, "name", NULL, "Missing required argument",
                     "This argument is required.");
    else if (cr_res_has_nul(name) || (s && cr_tn_name_check(s)))
        cr_res_error(d, NULL, "name", NULL, "Invalid name",
                     cr_res_has_nul(name) ? "The value contains a NUL "
                                          "character."
                                        : cr_tn_name_check(s));

    /* Exactly one form. An unknown value may still turn out null: only
     * known values conflict. */
    const cr_value *tenants = cr_res_attr(config, CR_TN_MAP);
    const cr_value *doc = cr_res_attr(config, CR_TN_JSON);
    bool has_map = !cr_res_is_null(tenants) && !cr_value_is_unknown(tenants);
    bool has_doc = !cr_res_is_null(doc) && !cr_value_is_unknown(doc);
    if (has_map && has_doc) {
        cr_res_error(d, NULL, CR_TN_JSON, NULL, "Conflicting arguments",
                     "Set either `tenants` or `tenants_json`, not both: "
                     "they are two forms of the same fleet.");
        return;
    }
    if (cr_res_is_null(tenants) && !cr_value_is_unknown(tenants) &&
        cr_res_is_null(doc) && !cr_value_is_unknown(doc)) {
        cr_res_error(d, NULL, NULL, NULL, "Missing required argument",
                     "One of `tenants` (a map) or `tenants_json` (a JSON "
                     "document) is required; an empty one manages no "
                     "entries.");
        return;
    }
    if (has_doc) {
        cr_tnj_validate(config, d);
        return;
    }
    if (!tenants || tenants->kind != CR_MAP)
        return;
    cr_path at = {0, 0, NULL};
    cr_ev_cache cache;
    memset(&cache, 0, sizeof cache);
    if (cr_path_push_attr(&at, "tenants")) {
        cr_tn_nomem(d);
        return;
    }
    for (size_t i = 0; i < tenants->u.coll.len; i++) {
        const char *key = tenants->u.coll.keys[i];
        if (cr_path_push_key(&at, key)) {
            cr_tn_nomem(d);
            break;
        }
        const char *msg = cr_tenant_id_check(key);
        if (msg)
            cr_res_error(d, &at, NULL, NULL, "Invalid tenant id", msg);
        const cr_value *elem = tenants->u.coll.items[i];
        if (cr_res_is_null(elem) && !cr_value_is_unknown(elem))
            cr_res_error(d, &at, NULL, NULL, "Invalid tenant",
                         "A tenant's entry must not be null.");
        else
            cr_ev_validate(elem, &at, &cache, d);
        cr_path_pop(&at);
    }
    cr_path_free(&at);
}

/* ---- plan --------------------------------------------------------------- */

/* A new or changed entry that the store could not hold (its limits, with
 * the owner tag the write adds), named at tenants["key"]. */
static void check_fits(cr_provider_state *p, const char *key,
                       const cr_value *elem, const char *owner, cr_diags *d)
{
    cr_path at = {0, 0, NULL};

    if (!p || !p->store || !p->store->ops->fits || !owner)
        return;
    if (cr_path_push_attr(&at, "tenants") == 0 &&
        cr_path_push_key(&at, key) == 0)
        cr_ev_check_fits(p->store, elem, key, owner, &at, d);
    cr_path_free(&at);
}

/* Keys new to this resource that already have an entry are refused at
 * plan time, naming each (one store read for all of them), so such a plan
 * never gets to a half-done apply. Apply checks again (the map may change
 * in between), conditionally, as for every write. */
void cr_tn_check_new_keys(cr_provider_state *p, const char *const *keys,
                          size_t n, const char *owner, const char *attr,
                          cr_diags *d)
{
    cr_entry_list got = {0};
    cr_store_err err;

    if (!p || !p->store || n == 0)
        return;
    memset(&err, 0, sizeof err);
    if (cr_store_get_many(p->store, keys, n, &got, &err) != CR_STORE_OK) {
        /* Not fatal to the plan: apply refuses existing keys anyway. */
        cr_log_warn(LOG, "could not check new tenants at plan: %s", err.msg);
        return;
    }
    for (size_t i = 0; i < got.len && i < 100; i++) {
        const cr_entry *e = &got.items[i];
        const char *tag = cr_entry_label(e, CR_OWNER_LABEL);
        cr_path at = {0, 0, NULL};
        /* In the map, the key itself; in a document, the attribute. */
        if (cr_path_push_attr(&at, attr) == 0 &&
            (strcmp(attr, CR_TN_MAP) != 0 ||
             cr_path_push_key(&at, e->tenant_id) == 0))
            cr_diags_error(d, &at, "Tenant already in the routing map",
                           "Tenant %s already has an entry (cell %s, "
                           "version %lld%s%.64s%s). Terraform does not take "
                           "over entries it did not create: import it "
                           "(terraform import cellrouter_tenants.<name> "
                           "'%s/%s'), or remove it from the map first.",
                           e->tenant_id, e->cell_id, (long long)e->version,
                           tag ? ", managed by cellrouter_tenants \"" : "",
                           tag ? tag : "", tag ? "\"" : "",
                           owner ? owner : "<name>", e->tenant_id);
        cr_path_free(&at);
    }
    if (got.len > 100)
        cr_diags_attr_error(d, attr, "Tenants already in the routing map",
                       "%zu more tenants to be added already have an "
                       "entry.", got.len - 100);
    cr_entry_list_free(&got);
}

/* The framework adopted the proposed state as the plan and kept id (the
 * resource's only top-level computed attribute); this walks the entries,
 * each planned by the framework's rule for one object, a rename counting
 * as a change of every entry (each is re-tagged). */
static void tenants_modify_plan(cr_provider_state *p, const cr_plan_req *req,
                                cr_plan_resp *resp)
{
    cr_value *planned = resp->planned;
    const char **new_keys = NULL;   /* borrowed from planned */
    cr_value *prior_json = NULL;
    cr_path map_path = {0, 0, NULL};

    const cr_value *name = cr_res_attr(planned, "name");
    if (cr_res_set(planned, "id", name && !cr_value_is_null(name)
                                      ? cr_value_copy(name)
                                      : cr_value_unknown(&cr_type_string)))
        goto oom;

    if (cr_tnj_mode(planned)) {
        cr_tnj_plan(p, req, resp);
        return;
    }
    /* A prior state in the document form (the resource moves to the map):
     * its entries, with their versions, as the prior map. */
    if (cr_tnj_mode(req->prior)) {
        prior_json = cr_tnj_as_map(req->prior, req->priv, map_type(),
                                   &resp->diags);
        if (!prior_json)
            return;
    }
    if (cr_path_push_attr(&map_path, CR_TN_MAP))
        goto oom;
    const cr_value *prior_map = prior_json ? prior_json
                                           : tenants_map(req->prior);
    bool renamed = req->prior &&
                   !cr_value_equal(cr_res_attr(req->prior, "name"), name);
    const char *owner = cr_res_cstr(name);
    cr_value *m = (cr_value *)tenants_map(planned);
    size_t j = 0, nprior = prior_map ? prior_map->u.coll.len : 0;
    size_t nnew = 0;
    new_keys = m && m->u.coll.len ? malloc(m->u.coll.len * sizeof *new_keys)
                                  : NULL;
    if (m && m->u.coll.len && !new_keys)
        goto oom;

    /* Both maps are sorted by key: one merge walk pairs every planned
     * entry with its prior counterpart. The framework's rule reaches
     * entry attributes by index, not by name, for each of 100,000
     * entries. */
    for (size_t i = 0; m && i < m->u.coll.len; i++) {
        const char *key = m->u.coll.keys[i];
        cr_value *pe = m->u.coll.items[i];
        const cr_value *pr = NULL;
        while (j < nprior && strcmp(prior_map->u.coll.keys[j], key) < 0)
            j++;
        if (j < nprior && strcmp(prior_map->u.coll.keys[j], key) == 0)
            pr = prior_map->u.coll.items[j];
        else
            new_keys[nnew++] = key;
        if (!pe || pe->kind != CR_OBJECT)
            continue;                   /* wholly unknown: all of it is */
        bool changed = renamed ||
                       cr_res_plan_changed(&entry_schema, pr, pe, NULL);
        if (cr_res_plan_computed(&entry_schema, pr, pe, NULL, changed))
            goto oom;
        if (changed)
            check_fits(p, key, pe, owner, &resp->diags);
    }
    cr_tn_check_new_keys(p, new_keys, nnew, owner, CR_TN_MAP, &resp->diags);
    if (m && m->u.coll.len > CR_TN_MAP_WARN)
        cr_diags_add(&resp->diags, CR_DIAG_WARNING, &map_path,
                     "Large fleet in `tenants`: use `tenants_json`",
                     "This resource holds %zu tenants in the `tenants` map. "
                     "Terraform core converts a map of objects at a cost "
                     "that grows with the square of its size (measured: "
                     "2,500 tenants plan in 4 s of CPU, 20,000 in 67 s, "
                     "100,000 in about 16 minutes), whichever provider it "
                     "is. The same fleet as one JSON document plans in "
                     "linear time (100,000 tenants in seconds): write "
                     "`tenants_json = jsonencode(...)` or `tenants_json = "
                     "file(\"tenants.json\")` instead (`cellctl export` "
                     "prints the document of a routing map). The change "
                     "writes nothing to the routing map.", m->u.coll.len);
    free(new_keys);
    cr_value_free(prior_json);
    cr_path_free(&map_path);
    return;

oom:
    free(new_keys);
    cr_value_free(prior_json);
    cr_path_free(&map_path);
    cr_diags_error(&resp->diags, NULL, "Out of memory", "%s",
                   "The provider ran out of memory while planning.");
}

/* ---- writing the routing map (both forms) ------------------------------- */

/* Describes a refused batch: which keys, and why. */
static void report_refused(cr_provider_state *p, const cr_tn_op *ops,
                           const cr_batch_op *bops, size_t n,
                           const char *owner, cr_diags *d)
{
    cr_tn_keylist exists = {{0}, 0}, conflict = {{0}, 0}, invalid = {{0}, 0};
    char more[64], note[160];

    for (size_t i = 0; i < n; i++) {
        const char *key = ops[i].key;
        switch (bops[i].rc) {
        case CR_STORE_EXISTS: {
            cr_entry *cur = NULL;
            cr_store_err err;
            const char *tag = NULL;
            if (cr_store_get(p->store, key, &cur, &err) == CR_STORE_OK && cur)
                tag = cr_entry_label(cur, CR_OWNER_LABEL);
            if (tag && owner && strcmp(tag, owner) != 0)
                snprintf(note, sizeof note,
                         "(managed by cellrouter_tenants \"%.64s\")", tag);
            else
                note[0] = '\0';
            cr_tn_keylist_add(&exists, key, note[0] ? note : NULL);
            cr_entry_free(cur);
            break;
        }
        case CR_STORE_CONFLICT:
            if (bops[i].actual_version == 0)
                snprintf(note, sizeof note, "(deleted outside Terraform)");
            else
                snprintf(note, sizeof note, "(Terraform last saw version "
                         "%lld, the map holds %lld)",
                         (long long)bops[i].expect,
                         (long long)bops[i].actual_version);
            cr_tn_keylist_add(&conflict, key, note);
            break;
        case CR_STORE_INVALID:
            cr_tn_keylist_add(&invalid, key, NULL);
            break;
        default:
            break;
        }
    }
    if (exists.n)
        cr_diags_error(d, NULL, "Tenants already in the routing map",
                       "%zu tenant(s) to be added already have an entry in "
                       "the routing map: %s%s.\n\nTerraform does not take "
                       "over entries it did not create. Remove them from "
                       "this resource, or import them (terraform import "
                       "cellrouter_tenants.<name> '%s/<id>,<id>'), or "
                       "remove them from the map first (cellctl delete).",
                       exists.n, exists.text,
                       cr_tn_keylist_more(&exists, more),
                       owner ? owner : "<name>");
    if (conflict.n)
        cr_diags_error(d, NULL, "Routing map entries changed",
                       "%zu entr%s changed outside of Terraform since the "
                       "last refresh and %s not written: %s%s. Run "
                       "terraform plan again to see the changes.",
                       conflict.n, conflict.n == 1 ? "y" : "ies",
                       conflict.n == 1 ? "was" : "were", conflict.text,
                       cr_tn_keylist_more(&conflict, more));
    if (invalid.n)
        cr_diags_error(d, NULL, "Invalid routing map entries",
                       "The routing map refused %zu entr%s: %s%s.",
                       invalid.n, invalid.n == 1 ? "y" : "ies", invalid.text,
                       cr_tn_keylist_more(&invalid, more));
}

cr_label *cr_tn_tagged_labels(const cr_entry *e, const char *owner,
                              size_t *n)
{
    cr_label *l = malloc((e->nlabels + 1) * sizeof *l);
    size_t k = 0;
    bool put = false;
    if (!l)
        return NULL;
    for (size_t i = 0; i < e->nlabels; i++) {
        int c = strcmp(e->labels[i].key, CR_OWNER_LABEL);
        if (c == 0)
            continue;                   /* never set by users; replaced */
        if (c > 0 && !put) {
            l[k++] = (cr_label){ (char *)CR_OWNER_LABEL, (char *)owner };
            put = true;
        }
        l[k++] = e->labels[i];
    }
    if (!put)
        l[k++] = (cr_label){ (char *)CR_OWNER_LABEL, (char *)owner };
    *n = k;
    return l;
}

/* Runs one batch. 0 when every change was applied; -1 with diagnostics
 * otherwise (the ops' `applied` say what was). */
static int run_batch(cr_provider_state *p, cr_tn_op *ops, size_t n,
                     const char *owner, cr_diags *d)
{
    cr_batch_op *bops = calloc(n, sizeof *bops);
    cr_entry *tagged = calloc(n, sizeof *tagged);
    cr_store_err err;
    int ret = -1;

    if (!bops || !tagged) {
        cr_tn_nomem(d);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        bops[i].expect = ops[i].expect;
        bops[i].tenant_id = ops[i].key;
        if (!ops[i].entry) {
            bops[i].kind = CR_BATCH_DELETE;
            continue;
        }
        /* The entry as given, its labels with the owner tag. */
        tagged[i] = *ops[i].entry;
        tagged[i].tenant_id = (char *)ops[i].key;
        if (owner) {
            tagged[i].labels = cr_tn_tagged_labels(ops[i].entry, owner,
                                             &tagged[i].nlabels);
            tagged[i].has_labels = true;
            if (!tagged[i].labels) {
                cr_tn_nomem(d);
                goto out;
            }
        }
        bops[i].kind = CR_BATCH_PUT;
        bops[i].entry = &tagged[i];
    }
    memset(&err, 0, sizeof err);
    cr_store_rc rc = cr_store_batch(p->store, bops, n, &err);
    for (size_t i = 0; i < n; i++) {
        ops[i].applied = bops[i].applied;
        ops[i].was_absent = bops[i].kind == CR_BATCH_DELETE &&
                            bops[i].rc == CR_STORE_NOT_FOUND;
        ops[i].version = bops[i].version;
        memcpy(ops[i].updated_at, bops[i].updated_at,
               sizeof ops[i].updated_at);
    }
    switch (rc) {
    case CR_STORE_OK:
        ret = 0;
        break;
    case CR_STORE_EXISTS:
    case CR_STORE_CONFLICT:
        report_refused(p, ops, bops, n, owner, d);
        break;
    case CR_STORE_INVALID: {
        bool named = false;
        for (size_t i = 0; i < n; i++)
            named |= bops[i].rc == CR_STORE_INVALID;
        if (named)
            report_refused(p, ops, bops, n, owner, d);
        else
            cr_diags_error(d, NULL, "Could not write the routing map",
                           "%s", err.msg[0] ? err.msg : "invalid batch");
        break;
    }
    default:
        cr_res_store_error(d, rc, &err, "Could not write the routing map",
                           "Writing %zu entries (from tenant %s) failed", n,
                           ops[0].key);
        break;
    }
out:
    for (size_t i = 0; tagged && owner && i < n; i++)
        if (ops[i].entry)
            free(tagged[i].labels);
    free(tagged);
    free(bops);
    return ret;
}

bool cr_tn_write(cr_provider_state *p, cr_tn_op *ops, size_t n,
                 const char *owner, cr_diags *d)
{
    size_t done = 0, nwritten = 0, nabsent = 0;
    bool failed = false;

    while (done < n && !failed) {
        if (p->stopping) {
            cr_diags_error(d, NULL, "Apply stopped",
                           "Terraform asked the provider to stop: %zu of "
                           "%zu changes were written and are recorded in "
                           "the state; apply again to write the rest.",
                           done, n);
            failed = true;
            break;
        }
        size_t k = n - done;
        if (k > cr_store_batch_max(p->store))
            k = cr_store_batch_max(p->store);
        failed = run_batch(p, &ops[done], k, owner, d) != 0;
        for (size_t i = done; i < done + k; i++) {
            nwritten += ops[i].applied;
            nabsent += ops[i].was_absent;
        }
        done += k;
    }
    if (failed && n > 0)
        cr_diags_add(d, CR_DIAG_WARNING, NULL, "Routing map partly written",
                     "%zu of %zu changes were written before the failure. "
                     "The state records exactly what the routing map now "
                     "holds, so the next plan shows what is left.",
                     nwritten, n);
    if (nabsent)
        cr_diags_add(d, CR_DIAG_WARNING, NULL, "Tenants already removed",
                     "%zu tenant(s) to be removed were no longer in the "
                     "routing map: someone removed them outside of "
                     "Terraform.", nabsent);
    cr_log_info(LOG, "%s: %zu of %zu change(s) written", owner ? owner : "?",
                nwritten, n);
    return !failed;
}

/* ---- apply (the map) -------------------------------------------------------- */

/* One change to the routing map, found by the merge of prior and planned. */
typedef struct change {
    const char *key;
    const cr_value *prior;      /* NULL: a new key */
    const cr_value *planned;    /* NULL: a removed key */
    bool applied;
    int64_t version;
    char updated_at[40];
} change;

typedef struct change_set {
    change *items;
    size_t len;
} change_set;

/* Every key whose entry must be written or deleted, in key order. */
static int collect_changes(const cr_value *prior_map,
                           const cr_value *planned_map, change_set *cs)
{
    size_t np = prior_map ? prior_map->u.coll.len : 0;
    size_t nl = planned_map ? planned_map->u.coll.len : 0;
    size_t i = 0, j = 0;

    cs->len = 0;
    cs->items = calloc(np + nl ? np + nl : 1, sizeof *cs->items);
    if (!cs->items)
        return -1;
    while (i < np || j < nl) {
        int c = i >= np ? 1 : j >= nl ? -1
                : strcmp(prior_map->u.coll.keys[i],
                         planned_map->u.coll.keys[j]);
        change *ch = &cs->items[cs->len];
        if (c < 0) {
            ch->key = prior_map->u.coll.keys[i];
            ch->prior = prior_map->u.coll.items[i++];
            cs->len++;
        } else if (c > 0) {
            ch->key = planned_map->u.coll.keys[j];
            ch->planned = planned_map->u.coll.items[j++];
            cs->len++;
        } else {
            const cr_value *pl = planned_map->u.coll.items[j];
            if (elem_changed(pl)) {
                ch->key = planned_map->u.coll.keys[j];
                ch->prior = prior_map->u.coll.items[i];
                ch->planned = pl;
                cs->len++;
            }
            i++;
            j++;
        }
    }
    return 0;
}

/* The entry object for a key as applied: the planned object with what
 * the store decided filled in. */
static cr_value *applied_elem(const change *ch)
{
    cr_value *v = cr_value_copy(ch->planned);
    if (!v || cr_res_set(v, "version", cr_value_int(ch->version)) ||
        cr_res_set_str(v, "updated_at", ch->updated_at)) {
        cr_value_free(v);
        return NULL;
    }
    return v;
}

/* The `tenants` map as the routing map now holds it for this resource:
 * unchanged entries as planned, applied changes as written, changes not
 * applied as they were before. */
static cr_value *result_map(const cr_value *prior_map,
                            const cr_value *planned_map, const change_set *cs,
                            const cr_type *map_type)
{
    cr_value *m = cr_value_collection(map_type);
    size_t np = prior_map ? prior_map->u.coll.len : 0;
    size_t nl = planned_map ? planned_map->u.coll.len : 0;
    size_t i = 0, j = 0, k = 0;

    if (!m)
        return NULL;
    while (i < np || j < nl) {
        int c = i >= np ? 1 : j >= nl ? -1
                : strcmp(prior_map->u.coll.keys[i],
                         planned_map->u.coll.keys[j]);
        const char *key = c <= 0 ? prior_map->u.coll.keys[i]
                                 : planned_map->u.coll.keys[j];
        const change *ch = NULL;
        if (k < cs->len && strcmp(cs->items[k].key, key) == 0)
            ch = &cs->items[k++];
        cr_value *v = NULL;
        bool keep = true;
        if (!ch) {                              /* unchanged */
            v = cr_value_copy(planned_map->u.coll.items[j]);
        } else if (ch->applied) {
            if (ch->planned)
                v = applied_elem(ch);
            else
                keep = false;                   /* deleted */
        } else if (ch->prior) {
            v = cr_value_copy(ch->prior);       /* as it was */
        } else {
            keep = false;                       /* never created */
        }
        if (c <= 0)
            i++;
        if (c >= 0)
            j++;
        if (!keep)
            continue;
        if (!v || cr_value_map_put(m, key, v) != 0) {
            cr_value_free(m);
            return NULL;
        }
    }
    return m;
}

/* Create, update and delete alike: the changes between the prior and the
 * planned map, written in batches. */
static void tenants_write(cr_provider_state *p, const cr_apply_req *req,
                          cr_apply_resp *resp)
{
    const cr_value *prior = req->prior, *planned = req->planned;
    change_set cs = {NULL, 0};
    cr_tn_op *ops = NULL;
    cr_entry *entries = NULL;
    cr_value *prior_json = NULL;

    if (planned ? cr_tnj_mode(planned) : cr_tnj_mode(prior)) {
        cr_tnj_write(p, req, resp);
        return;
    }
    /* A prior state in the document form: its entries as the prior map. */
    if (cr_tnj_mode(prior) &&
        !(prior_json = cr_tnj_as_map(prior, req->priv, map_type(),
                                     &resp->diags)))
        return;
    const cr_value *prior_map = prior_json ? prior_json : tenants_map(prior);
    const cr_value *planned_map = tenants_map(planned);
    if (planned && !planned_map) {
        cr_diags_error(&resp->diags, NULL, "Unknown value at apply", "%s",
                       "`tenants` is still unknown when the entries are "
                       "written; Terraform should have resolved it. This is "
                       "a bug in the provider or in Terraform.");
        goto out;
    }
    const char *owner = cr_res_cstr(cr_res_attr(planned ? planned : prior,
                                                "name"));
    if (collect_changes(prior_map, planned_map, &cs) != 0) {
        cr_tn_nomem(&resp->diags);
        goto out;
    }

    /* Every entry to write, before anything is written: one that cannot
     * be made writes nothing. */
    ops = calloc(cs.len ? cs.len : 1, sizeof *ops);
    entries = calloc(cs.len ? cs.len : 1, sizeof *entries);
    if (!ops || !entries) {
        cr_tn_nomem(&resp->diags);
        goto out;
    }
    for (size_t i = 0; i < cs.len; i++) {
        change *ch = &cs.items[i];
        ops[i].key = ch->key;
        ops[i].expect = ch->prior ? cr_res_version(ch->prior, NULL)
                                  : CR_VERSION_ABSENT;
        if (!ch->planned)
            continue;
        cr_path at = {0, 0, NULL};
        int rc = cr_path_push_attr(&at, CR_TN_MAP) ||
                 cr_path_push_key(&at, ch->key)
                     ? -1 : cr_ev_to_entry(ch->planned, ch->key, &entries[i],
                                           &at, &resp->diags);
        cr_path_free(&at);
        if (rc != 0) {
            if (!cr_diags_has_error(&resp->diags))
                cr_tn_nomem(&resp->diags);
            goto out;
        }
        ops[i].entry = &entries[i];
    }
    bool failed = !cr_tn_write(p, ops, cs.len, owner, &resp->diags);
    size_t nwritten = 0;
    for (size_t i = 0; i < cs.len; i++) {
        cs.items[i].applied = ops[i].applied;
        cs.items[i].version = ops[i].version;
        memcpy(cs.items[i].updated_at, ops[i].updated_at,
               sizeof cs.items[i].updated_at);
        nwritten += ops[i].applied;
    }

    /* The new state. A successful destroy is null; otherwise the object
     * the plan (or, after a failure, the prior state) describes, with the
     * map as written. */
    if (!planned && !failed)
        goto out;
    if (failed && (!prior || prior_json) && nwritten == 0)
        goto out;       /* a create that wrote nothing; or the prior kept */
    const cr_value *base = planned && !(failed && prior) ? planned : prior;
    cr_value *m = map_type() ? result_map(prior_map, planned_map, &cs,
                                          map_type())
                             : NULL;
    resp->new_state = with_tenants(base, m);
    if (resp->new_state && base == prior && prior_json &&
        cr_res_set(resp->new_state, CR_TN_JSON,
                   cr_value_null(&cr_type_string))) {
        cr_value_free(resp->new_state);
        resp->new_state = NULL;
    }
    if (!resp->new_state)
        cr_tn_nomem(&resp->diags);
    else if (prior_json)
        cr_private_adopt(&resp->priv, NULL, 0);   /* versions in the map */
out:
    for (size_t i = 0; entries && i < cs.len; i++)
        cr_entry_clear(&entries[i]);
    free(entries);
    free(ops);
    free(cs.items);
    cr_value_free(prior_json);
}

/* ---- read --------------------------------------------------------------- */

static void tenants_read(cr_provider_state *p, const cr_read_req *req,
                         cr_read_resp *resp)
{
    if (cr_tnj_mode(req->state)) {
        cr_tnj_read(p, req, resp);
        return;
    }
    const cr_value *state = req->state;
    cr_diags *d = &resp->diags;
    const cr_value *sm = tenants_map(state);
    size_t n = sm ? sm->u.coll.len : 0;
    const char *name = cr_res_cstr(cr_res_attr(state, "name"));
    cr_entry_list got = {0};
    cr_store_err err;
    memset(&err, 0, sizeof err);
    cr_store_rc rc = cr_store_get_many(p->store,
                                       (const char *const *)(sm ? sm->u.coll.keys
                                                                : NULL),
                                       n, &got, &err);
    if (rc != CR_STORE_OK) {
        cr_res_store_error(d, rc, &err, "Could not read tenants",
                           "Reading %zu tenants from the routing map failed",
                           n);
        return;
    }

    /* An imported state has no versions yet: its keys must exist, and
     * must not be another resource's. Its name, when the import did not
     * give one, is the one tag its entries agree on. */
    cr_tn_keylist missing = {{0}, 0}, foreign = {{0}, 0}, retagged = {{0}, 0};
    const char *adopted = NULL;
    char adopted_buf[CR_LABEL_VALUE_MAX + 1];
    bool disagree = false;

    /* Both lists are sorted by key: one merge walk pairs every key with
     * its entry. The new map is then made in one block (arrays and key
     * text), its keys in the state's order, so it is sorted and unique as
     * the state's map is: at 100,000 tenants, a put per key would cost
     * more than the rest of the refresh. */
    const cr_entry **match = n ? malloc(n * sizeof *match) : NULL;
    size_t found = 0, keybytes = 0, j = 0;
    for (size_t i = 0; match && i < n; i++) {
        const char *key = sm->u.coll.keys[i];
        while (j < got.len && strcmp(got.items[j].tenant_id, key) < 0)
            j++;
        match[i] = j < got.len && strcmp(got.items[j].tenant_id, key) == 0
                       ? &got.items[j] : NULL;
        if (match[i]) {
            found++;
            keybytes += strlen(key) + 1;
        }
    }
    char *ks = NULL;
    void *unused;
    cr_value *m = map_type() && (match || !n)
                      ? cr_value_map_block(map_type(), found, keybytes, 0,
                                           &ks, &unused)
                      : NULL;
    size_t k = 0;
    cr_ev_slots slots;
    cr_ev_slots_init(&slots, entry_type());
    for (size_t i = 0; m && i < n; i++) {
        const char *key = sm->u.coll.keys[i];
        const cr_value *se = sm->u.coll.items[i];
        bool imported =
            cr_res_is_null(cr_ev_slot(&slots, se, CR_EV_SLOT_VERSION));
        const cr_entry *e = match[i];
        if (!e) {
            if (imported)
                cr_tn_keylist_add(&missing, key, NULL);
            continue;                   /* gone: drift on this key */
        }
        const char *tag = cr_entry_label(e, CR_OWNER_LABEL);
        if (tag && (!name || strcmp(tag, name) != 0)) {
            if (imported && name) {
                char note[100];
                snprintf(note, sizeof note, "(\"%.64s\")", tag);
                cr_tn_keylist_add(&foreign, key, note);
            } else if (imported) {
                if (adopted && strcmp(adopted, tag) != 0)
                    disagree = true;
                /* Kept past the entries' lifetime (labels are at most
                 * 256 bytes). */
                snprintf(adopted_buf, sizeof adopted_buf, "%s", tag);
                adopted = adopted_buf;
            } else {
                cr_tn_keylist_add(&retagged, key, NULL);
            }
        }
        cr_value *v = cr_ev_entry_object(&slots, e,
                                          imported ? NULL
                                                   : cr_ev_slot(&slots, se,
                                                                CR_EV_SLOT_LABELS));
        if (!v) {
            cr_value_free(m);
            m = NULL;
            break;
        }
        size_t kn = strlen(key) + 1;
        memcpy(ks, key, kn);
        m->u.coll.keys[k] = ks;
        m->u.coll.items[k++] = v;
        ks += kn;
    }
    free(match);
    cr_tn_import_refusals(d, &missing, &foreign, disagree, "");
    cr_tn_warn_retagged(d, &retagged);
    cr_entry_list_free(&got);

    cr_value *st = with_tenants(state, m);
    if (!st || (!name && adopted && !disagree &&
                cr_res_set_str(st, "name", adopted)) ||
        cr_res_set(st, "id", cr_value_copy(cr_res_attr(st, "name")))) {
        cr_value_free(st);
        cr_tn_nomem(d);
        return;
    }
    resp->new_state = st;
}

/* ---- import ------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "[<name>/]<id>,<id>,..." or "[<name>/]prefix:<prefix>" (neither names
 * nor tenant ids can hold '/' or ','), into the `tenants` map; with a
 * third part first, "<attribute>/<name>/<spec>", into that attribute:
 * "tenants_json/fleet/prefix:eu-" (an empty name: the entries' tag). */
static void tenants_import(cr_provider_state *p, const cr_import_req *req,
                           cr_import_resp *resp)
{
    const char *id = req->id;
    cr_diags *d = &resp->diags;
    static const char usage[] =
        "Import tenants by a comma-separated list of tenant ids or by a "
        "prefix, optionally preceded by the resource's name and a slash:\n\n"
        "  terraform import cellrouter_tenants.<r> 'fleet/acme,globex'\n"
        "  terraform import cellrouter_tenants.<r> 'fleet/prefix:eu-'\n\n"
        "Without a name, the name the entries are tagged with is used. "
        "That imports into the `tenants` map; for a resource whose "
        "configuration sets `tenants_json`, put `tenants_json/` first:\n\n"
        "  terraform import cellrouter_tenants.<r> "
        "'tenants_json/fleet/prefix:eu-'";
    char *copy = NULL, *name = NULL, **keys = NULL;
    size_t nkeys = 0;
    cr_entry_list listed = {0};
    bool json = false;

    if (!*id || !(copy = strdup(id))) {
        if (*id)
            cr_tn_nomem(d);
        else
            cr_diags_error(d, NULL, "Invalid import ID", "%s", usage);
        return;
    }
    char *spec = copy, *slash = strchr(copy, '/');
    if (slash && strchr(slash + 1, '/')) {
        /* <attribute>/<name>/<spec> */
        *slash = '\0';
        if (strcmp(copy, CR_TN_JSON) != 0 && strcmp(copy, CR_TN_MAP) != 0) {
            cr_diags_error(d, NULL, "Invalid import ID",
                           "\"%.40s\" is not an attribute to import into "
                           "(tenants or tenants_json).\n\n%s", copy, usage);
            goto out;
        }
        json = strcmp(copy, CR_TN_JSON) == 0;
        spec = slash + 1;
        slash = strchr(spec, '/');
        *slash = '\0';
        name = *spec ? spec : NULL;
        spec = slash + 1;
        if (strchr(spec, '/')) {
            cr_diags_error(d, NULL, "Invalid import ID", "%s", usage);
            goto out;
        }
    } else if (slash) {
        *slash = '\0';
        name = copy;
        spec = slash + 1;
    }
    if (name) {
        const char *msg = cr_tn_name_check(name);
        if (msg) {
            cr_diags_error(d, NULL, "Invalid import ID", "%s.\n\n%s", msg,
                           usage);
            goto out;
        }
    }
    if (strncmp(spec, "prefix:", 7) == 0) {
        const char *prefix = spec + 7;
        cr_store_err err = {0};
        cr_store *store = cr_res_store(p, d);
        if (!store)
            goto out;
        if (*prefix && cr_tenant_id_check(prefix)) {
            cr_diags_error(d, NULL, "Invalid import ID",
                           "\"%.80s\" cannot begin a tenant id: %s", prefix,
                           cr_tenant_id_check(prefix));
            goto out;
        }
        cr_store_rc rc = cr_store_list(store, prefix, &listed, &err);
        if (rc != CR_STORE_OK) {
            cr_res_store_error(d, rc, &err, "Could not list tenants",
                               "Listing tenants with prefix \"%.80s\" failed",
                               prefix);
            goto out;
        }
        if (listed.len == 0) {
            cr_diags_error(d, NULL, "Cannot import non-existent tenants",
                           "No tenant id in the routing map starts with "
                           "\"%.80s\".", prefix);
            goto out;
        }
        keys = calloc(listed.len, sizeof *keys);
        if (!keys) {
            cr_tn_nomem(d);
            goto out;
        }
        for (size_t i = 0; i < listed.len; i++)
            keys[nkeys++] = listed.items[i].tenant_id;
    } else {
        size_t cap = 1;
        for (const char *c = spec; *c; c++)
            cap += *c == ',';
        keys = calloc(cap, sizeof *keys);
        if (!keys) {
            cr_tn_nomem(d);
            goto out;
        }
        for (char *save = NULL, *tok = strtok_r(spec, ",", &save); tok;
             tok = strtok_r(NULL, ",", &save))
            keys[nkeys++] = tok;
        if (nkeys == 0) {
            cr_diags_error(d, NULL, "Invalid import ID", "%s", usage);
            goto out;
        }
        for (size_t i = 0; i < nkeys; i++) {
            const char *msg = cr_tenant_id_check(keys[i]);
            if (msg) {
                cr_diags_error(d, NULL, "Invalid import ID",
                               "\"%.80s\" is not a valid tenant id: %s",
                               keys[i], msg);
                goto out;
            }
        }
        qsort(keys, nkeys, sizeof *keys, cmp_str);
        for (size_t i = 1; i < nkeys; i++) {
            if (strcmp(keys[i - 1], keys[i]) == 0) {
                cr_diags_error(d, NULL, "Invalid import ID",
                               "Tenant %.80s is listed twice.", keys[i]);
                goto out;
            }
        }
    }

    if (json) {
        /* The document is made from the entries as they are now. */
        cr_tnj_import(p, cr_schema_type(&tenants_schema), name,
                      listed.len ? &listed : NULL, (const char *const *)keys,
                      nkeys, resp);
        goto out;
    }

    /* The entries are filled in by ReadResource, called next; a null
     * version marks them as just imported. */
    const cr_type *t = cr_schema_type(&tenants_schema);
    cr_value *obj = t && map_type() ? cr_value_object(t) : NULL;
    cr_value *m = obj ? cr_value_collection(map_type()) : NULL;
    bool ok = obj && m;
    for (size_t i = 0; ok && i < nkeys; i++) {
        cr_value *e = cr_value_object(entry_type());
        ok = e && cr_value_map_put(m, keys[i], e) == 0;
    }
    if (!ok || cr_res_set(obj, "tenants", m) ||
        cr_res_set_str(obj, "name", name) || cr_res_set_str(obj, "id", name)) {
        if (!ok)
            cr_value_free(m);
        cr_value_free(obj);
        cr_tn_nomem(d);
        goto out;
    }
    resp->state = obj;
out:
    free(keys);
    cr_entry_list_free(&listed);
    free(copy);
}

const cr_resource_type cr_tenants_resource = {
    .type_name = "cellrouter_tenants",
    .schema = &tenants_schema,
    .validate_config = tenants_validate,
    .modify_plan = tenants_modify_plan,
    .create = tenants_write,
    .update = tenants_write,
    .delete = tenants_write,
    .read = tenants_read,
    .import_state = tenants_import,
    .upgraders = tenants_upgraders,
    .nupgraders = 0,
};
