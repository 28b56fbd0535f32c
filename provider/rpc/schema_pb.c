/*
 * rpc/schema_pb.c — cr_schema -> tfplugin6.Schema, and the GetProviderSchema
 * response built from the provider block and every registered resource
 * (with the list resources' schemas, and the checks on identity schemas,
 * which GetResourceIdentitySchemas must never fail on).
 *
 * GetProviderSchema is the first RPC of every Terraform process, so the
 * response is built once per provider and answered from then on. It is
 * therefore made of malloc'd memory (not a call arena), one allocation per
 * field, so that protobuf_c_message_free_unpacked can release it.
 *
 * While translating we also check what Terraform's own schema validation
 * checks (configschema.InternalValidate): a mistake there makes Terraform
 * refuse the provider, or panic for a few of them, so a provider-side error
 * diagnostic naming the attribute is the friendlier failure.
 *
 * Calls nothing else in rpc/ (its messages are malloc'd, not the call's).
 * May include: rpc/internal.h.
 */
#include <stdlib.h>
#include <string.h>

#include "rpc/internal.h"

static void *msg_malloc(const ProtobufCMessageDescriptor *d)
{
    void *m = calloc(1, d->sizeof_message);
    if (m != NULL)
        protobuf_c_message_init(d, m);
    return m;
}

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

/* Attribute and block type names: ^[a-z0-9_]+$. */
static bool valid_name(const char *s)
{
    if (s == NULL || *s == '\0')
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return true;
}

static void schema_error(cr_diags *diags, const char *where, const char *name,
                         const char *what)
{
    if (name != NULL && *name != '\0')
        cr_diags_error(diags, NULL, "Invalid provider schema",
                       "%s, \"%s\": %s. This is a bug in the provider.",
                       where, name, what);
    else
        cr_diags_error(diags, NULL, "Invalid provider schema",
                       "%s: %s. This is a bug in the provider.", where, what);
}

static Tfplugin6__Schema__Block *block_to_pb(const cr_schema *s,
                                             const char *where,
                                             cr_diags *diags);

static Tfplugin6__Schema__Attribute *attr_to_pb(const cr_attr_schema *a,
                                                const char *where,
                                                cr_diags *diags)
{
    Tfplugin6__Schema__Attribute *pa =
        msg_malloc(&tfplugin6__schema__attribute__descriptor);
    unsigned f = a->flags;

    if (pa == NULL)
        return NULL;
    if (!valid_name(a->name))
        schema_error(diags, where, a->name,
                     "attribute names must match ^[a-z0-9_]+$");
    if (!(f & (CR_ATTR_REQUIRED | CR_ATTR_OPTIONAL | CR_ATTR_COMPUTED)))
        schema_error(diags, where, a->name,
                     "must be required, optional or computed");
    if ((f & CR_ATTR_REQUIRED) && (f & (CR_ATTR_OPTIONAL | CR_ATTR_COMPUTED)))
        schema_error(diags, where, a->name,
                     "a required attribute cannot be optional or computed");
    if ((a->type == NULL) == (a->nested == NULL))
        schema_error(diags, where, a->name,
                     "exactly one of a type and a nested type is needed");

    pa->name = dup_or_empty(a->name);
    pa->description = dup_or_empty(a->description);
    if (pa->name == NULL || pa->description == NULL)
        goto oom;
    pa->description_kind = TFPLUGIN6__STRING_KIND__MARKDOWN;
    pa->required = (f & CR_ATTR_REQUIRED) != 0;
    pa->optional = (f & CR_ATTR_OPTIONAL) != 0;
    pa->computed = (f & CR_ATTR_COMPUTED) != 0;
    pa->sensitive = (f & CR_ATTR_SENSITIVE) != 0;

    if (a->type != NULL) {
        char *json = cr_type_to_json(a->type);
        if (json == NULL)
            goto oom;
        pa->type.data = (uint8_t *)json;
        pa->type.len = strlen(json);
    } else if (a->nested != NULL) {
        Tfplugin6__Schema__Object *o =
            msg_malloc(&tfplugin6__schema__object__descriptor);
        if (o == NULL)
            goto oom;
        pa->nested_type = o;
        switch (a->nested_mode) {
        case CR_NEST_SINGLE:
            o->nesting = TFPLUGIN6__SCHEMA__OBJECT__NESTING_MODE__SINGLE; break;
        case CR_NEST_LIST:
            o->nesting = TFPLUGIN6__SCHEMA__OBJECT__NESTING_MODE__LIST; break;
        case CR_NEST_SET:
            o->nesting = TFPLUGIN6__SCHEMA__OBJECT__NESTING_MODE__SET; break;
        case CR_NEST_MAP:
            o->nesting = TFPLUGIN6__SCHEMA__OBJECT__NESTING_MODE__MAP; break;
        default:
            schema_error(diags, where, a->name,
                         "nested attributes nest SINGLE, LIST, SET or MAP");
            o->nesting = TFPLUGIN6__SCHEMA__OBJECT__NESTING_MODE__SINGLE;
        }
        if (a->nested->nattrs > 0) {
            o->attributes = calloc(a->nested->nattrs, sizeof *o->attributes);
            if (o->attributes == NULL)
                goto oom;
            for (size_t i = 0; i < a->nested->nattrs; i++) {
                o->attributes[i] =
                    attr_to_pb(&a->nested->attrs[i], a->name, diags);
                if (o->attributes[i] == NULL)
                    goto oom;
                o->n_attributes++;
            }
        }
        if (a->nested->nblocks > 0)
            schema_error(diags, where, a->name,
                         "nested attribute types cannot hold blocks");
    }
    return pa;
oom:
    protobuf_c_message_free_unpacked(&pa->base, NULL);
    return NULL;
}

static Tfplugin6__Schema__NestedBlock *nested_block_to_pb(
    const cr_block_schema *b, const char *where, cr_diags *diags)
{
    Tfplugin6__Schema__NestedBlock *nb =
        msg_malloc(&tfplugin6__schema__nested_block__descriptor);

    if (nb == NULL)
        return NULL;
    if (!valid_name(b->type_name))
        schema_error(diags, where, b->type_name,
                     "block type names must match ^[a-z0-9_]+$");
    nb->type_name = dup_or_empty(b->type_name);
    if (nb->type_name == NULL)
        goto oom;
    nb->min_items = b->min_items;
    nb->max_items = b->max_items;
    switch (b->nesting) {
    case CR_NEST_SINGLE:
        nb->nesting = TFPLUGIN6__SCHEMA__NESTED_BLOCK__NESTING_MODE__SINGLE;
        if (b->min_items != b->max_items || b->min_items > 1 ||
            b->min_items < 0)
            schema_error(diags, where, b->type_name,
                         "a SINGLE block needs min_items = max_items, 0 or 1");
        break;
    case CR_NEST_GROUP:
        nb->nesting = TFPLUGIN6__SCHEMA__NESTED_BLOCK__NESTING_MODE__GROUP;
        if (b->min_items != 0 || b->max_items != 0)
            schema_error(diags, where, b->type_name,
                         "a GROUP block cannot set min_items or max_items");
        break;
    case CR_NEST_MAP:
        nb->nesting = TFPLUGIN6__SCHEMA__NESTED_BLOCK__NESTING_MODE__MAP;
        if (b->min_items != 0 || b->max_items != 0)
            schema_error(diags, where, b->type_name,
                         "a MAP block cannot set min_items or max_items");
        break;
    case CR_NEST_LIST:
    case CR_NEST_SET:
        nb->nesting = b->nesting == CR_NEST_LIST
                          ? TFPLUGIN6__SCHEMA__NESTED_BLOCK__NESTING_MODE__LIST
                          : TFPLUGIN6__SCHEMA__NESTED_BLOCK__NESTING_MODE__SET;
        if (b->min_items < 0 || b->max_items < 0 ||
            (b->max_items != 0 && b->min_items > b->max_items))
            schema_error(diags, where, b->type_name,
                         "min_items must not exceed max_items");
        break;
    default:
        schema_error(diags, where, b->type_name, "unknown nesting mode");
        nb->nesting = TFPLUGIN6__SCHEMA__NESTED_BLOCK__NESTING_MODE__LIST;
    }
    /* A NestedBlock without a block crashes Terraform: always send one. */
    if (b->block == NULL) {
        static const cr_schema empty;
        schema_error(diags, where, b->type_name, "the block has no schema");
        nb->block = block_to_pb(&empty, b->type_name, diags);
    } else {
        nb->block = block_to_pb(b->block, b->type_name, diags);
    }
    if (nb->block == NULL)
        goto oom;
    return nb;
oom:
    protobuf_c_message_free_unpacked(&nb->base, NULL);
    return NULL;
}

static Tfplugin6__Schema__Block *block_to_pb(const cr_schema *s,
                                             const char *where,
                                             cr_diags *diags)
{
    Tfplugin6__Schema__Block *pb =
        msg_malloc(&tfplugin6__schema__block__descriptor);

    if (pb == NULL)
        return NULL;
    pb->description = dup_or_empty(s->description);
    if (pb->description == NULL)
        goto oom;
    pb->description_kind = TFPLUGIN6__STRING_KIND__MARKDOWN;
    if (s->nattrs > 0) {
        pb->attributes = calloc(s->nattrs, sizeof *pb->attributes);
        if (pb->attributes == NULL)
            goto oom;
    }
    for (size_t i = 0; i < s->nattrs; i++) {
        for (size_t j = 0; j < i; j++)
            if (s->attrs[i].name && s->attrs[j].name &&
                strcmp(s->attrs[i].name, s->attrs[j].name) == 0)
                schema_error(diags, where, s->attrs[i].name,
                             "the attribute is declared twice");
        pb->attributes[i] = attr_to_pb(&s->attrs[i], where, diags);
        if (pb->attributes[i] == NULL)
            goto oom;
        pb->n_attributes++;
    }
    if (s->nblocks > 0) {
        pb->block_types = calloc(s->nblocks, sizeof *pb->block_types);
        if (pb->block_types == NULL)
            goto oom;
    }
    for (size_t i = 0; i < s->nblocks; i++) {
        const char *bn = s->blocks[i].type_name;
        if (bn != NULL && cr_schema_attr(s, bn) != NULL)
            schema_error(diags, where, bn,
                         "a block type has the name of an attribute");
        pb->block_types[i] = nested_block_to_pb(&s->blocks[i], where, diags);
        if (pb->block_types[i] == NULL)
            goto oom;
        pb->n_block_types++;
    }
    return pb;
oom:
    protobuf_c_message_free_unpacked(&pb->base, NULL);
    return NULL;
}

static Tfplugin6__Schema *schema_to_pb(const cr_schema *s, const char *where,
                                       cr_diags *diags)
{
    Tfplugin6__Schema *ps = msg_malloc(&tfplugin6__schema__descriptor);

    if (ps == NULL)
        return NULL;
    if (s->version < 0)
        schema_error(diags, where, "", "the schema version must be >= 0");
    ps->version = s->version;
    ps->block = block_to_pb(s, where, diags);
    if (ps->block == NULL) {
        protobuf_c_message_free_unpacked(&ps->base, NULL);
        return NULL;
    }
    /* The implied type is what every value of this schema is decoded
     * against: building it now proves it can be built, and warms the
     * cache before the first resource call. It fails on an invalid
     * nesting mode (reported above) or when out of memory. */
    if (cr_schema_type(s) == NULL && !cr_diags_has_error(diags))
        schema_error(diags, where, "",
                     "its value type could not be built (out of memory?)");
    return ps;
}

void cr_rpc_identity_schema_check(const cr_resource_type *rt,
                                  cr_diags *diags)
{
    const cr_schema *is = rt->identity_schema;
    const char *where = rt->type_name;

    if (is == NULL) {
        if (rt->list_schema != NULL)
            schema_error(diags, where, "", "a list resource needs an "
                         "identity schema (Terraform requires one)");
        return;
    }
    if (is->version < 0)
        schema_error(diags, where, "", "the identity version must be >= 0");
    if (is->nattrs == 0 || is->nblocks > 0)
        schema_error(diags, where, "", "an identity has attributes only, "
                     "at least one");
    for (size_t i = 0; i < is->nattrs; i++) {
        const cr_attr_schema *a = &is->attrs[i];
        unsigned f = a->flags & (CR_ATTR_REQUIRED | CR_ATTR_OPTIONAL);
        const cr_attr_schema *in_state = cr_schema_attr(rt->schema, a->name);
        if (!valid_name(a->name))
            schema_error(diags, where, a->name,
                         "identity attribute names must match ^[a-z0-9_]+$");
        if (f != CR_ATTR_REQUIRED && f != CR_ATTR_OPTIONAL)
            schema_error(diags, where, a->name, "an identity attribute is "
                         "required or optional for import, not both");
        if (a->type == NULL || a->type->kind == CR_TYPE_MAP ||
            a->type->kind == CR_TYPE_SET || a->type->kind == CR_TYPE_OBJECT)
            schema_error(diags, where, a->name, "an identity attribute is "
                         "of a primitive or list type");
        else if (in_state == NULL || in_state->type == NULL ||
                 !cr_type_equal(in_state->type, a->type))
            schema_error(diags, where, a->name, "an identity attribute is "
                         "an attribute of the same type in the resource");
    }
}

Tfplugin6__GetProviderSchema__Response *cr_rpc_schema_response_new(
    cr_diags *diags)
{
    Tfplugin6__GetProviderSchema__Response *r =
        msg_malloc(&tfplugin6__get_provider_schema__response__descriptor);
    size_t nres = 0;
    const cr_resource_type *const *res = cr_resources(&nres);

    if (r == NULL)
        return NULL;
    r->provider = schema_to_pb(cr_provider_schema(), "provider", diags);
    if (r->provider == NULL)
        goto oom;

    r->server_capabilities =
        msg_malloc(&tfplugin6__server_capabilities__descriptor);
    if (r->server_capabilities == NULL)
        goto oom;
    /* plan_destroy: PlanResourceChange is called for destroys too, so the
     * resource sees them before apply. The schema is cheap to serve, so no
     * get_provider_schema_optional. */
    r->server_capabilities->plan_destroy = true;
    r->server_capabilities->get_provider_schema_optional = false;

    if (nres > 0) {
        r->resource_schemas = calloc(nres, sizeof *r->resource_schemas);
        if (r->resource_schemas == NULL)
            goto oom;
    }
    for (size_t i = 0; i < nres; i++) {
        Tfplugin6__GetProviderSchema__Response__ResourceSchemasEntry *e =
            msg_malloc(
              &tfplugin6__get_provider_schema__response__resource_schemas_entry__descriptor);
        if (e == NULL)
            goto oom;
        r->resource_schemas[r->n_resource_schemas++] = e;
        e->key = dup_or_empty(res[i]->type_name);
        if (e->key == NULL)
            goto oom;
        if (!valid_name(res[i]->type_name) ||
            strncmp(res[i]->type_name, "cellrouter_", 11) != 0)
            schema_error(diags, "resource type", res[i]->type_name,
                         "resource type names are cellrouter_<name>, "
                         "lower case");
        e->value = schema_to_pb(res[i]->schema, res[i]->type_name, diags);
        if (e->value == NULL)
            goto oom;
        cr_rpc_identity_schema_check(res[i], diags);
    }
    /* List resources (Terraform 1.14+; older clients skip the field):
     * each is its resource type's name, with the schema of its `config`
     * block, which Terraform wraps in a `list` block of its own
     * (internal/plugin6/convert/schema.go ProtoToListSchema). */
    if (nres > 0) {
        r->list_resource_schemas =
            calloc(nres, sizeof *r->list_resource_schemas);
        if (r->list_resource_schemas == NULL)
            goto oom;
    }
    for (size_t i = 0; i < nres; i++) {
        if (res[i]->list_schema == NULL)
            continue;
        Tfplugin6__GetProviderSchema__Response__ListResourceSchemasEntry *e =
            msg_malloc(
              &tfplugin6__get_provider_schema__response__list_resource_schemas_entry__descriptor);
        if (e == NULL)
            goto oom;
        r->list_resource_schemas[r->n_list_resource_schemas++] = e;
        e->key = dup_or_empty(res[i]->type_name);
        if (e->key == NULL)
            goto oom;
        e->value = schema_to_pb(res[i]->list_schema, res[i]->type_name,
                                diags);
        if (e->value == NULL)
            goto oom;
    }
    size_t nds = 0;
    const cr_data_source_type *const *ds = cr_data_sources(&nds);
    if (nds > 0) {
        r->data_source_schemas = calloc(nds, sizeof *r->data_source_schemas);
        if (r->data_source_schemas == NULL)
            goto oom;
    }
    for (size_t i = 0; i < nds; i++) {
        Tfplugin6__GetProviderSchema__Response__DataSourceSchemasEntry *e =
            msg_malloc(
              &tfplugin6__get_provider_schema__response__data_source_schemas_entry__descriptor);
        if (e == NULL)
            goto oom;
        r->data_source_schemas[r->n_data_source_schemas++] = e;
        e->key = dup_or_empty(ds[i]->type_name);
        if (e->key == NULL)
            goto oom;
        if (!valid_name(ds[i]->type_name) ||
            strncmp(ds[i]->type_name, "cellrouter_", 11) != 0)
            schema_error(diags, "data source type", ds[i]->type_name,
                         "data source type names are cellrouter_<name>, "
                         "lower case");
        e->value = schema_to_pb(ds[i]->schema, ds[i]->type_name, diags);
        if (e->value == NULL)
            goto oom;
    }
    return r;
oom:
    cr_rpc_schema_response_free(r);
    return NULL;
}

void cr_rpc_schema_response_free(Tfplugin6__GetProviderSchema__Response *r)
{
    if (r != NULL)
        protobuf_c_message_free_unpacked(&r->base, NULL);
}
