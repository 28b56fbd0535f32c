/*
 * resource/registry.c — every resource type the provider serves.
 *
 * The rpc layer answers GetMetadata and GetProviderSchema from this list
 * and finds here the type of every resource call, which it runs through
 * the framework (resource/framework.c). A new resource type is one file
 * filling in a cr_resource_type (resource/README.md) plus one line here.
 * Data sources are listed in resource/data_sources.c (a separate file, so
 * a test can replace either list alone).
 */
#include <string.h>

#include "resource/resource.h"

static const cr_resource_type *const resource_types[] = {
    &cr_tenant_resource,
    &cr_tenants_resource,
    &cr_cell_resource,
};

const cr_resource_type *const *cr_resources(size_t *count)
{
    if (count)
        *count = sizeof resource_types / sizeof resource_types[0];
    return resource_types;
}

const cr_resource_type *cr_resource_find(const char *type_name)
{
    if (!type_name)
        return NULL;
    for (size_t i = 0; i < sizeof resource_types / sizeof resource_types[0];
         i++)
        if (strcmp(resource_types[i]->type_name, type_name) == 0)
            return resource_types[i];
    return NULL;
}
