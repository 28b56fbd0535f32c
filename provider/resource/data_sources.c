/*
 * resource/data_sources.c — every data source type the provider serves.
 *
 * The rpc layer answers GetMetadata, GetProviderSchema and the data-source
 * RPCs through this list (running each through the framework), so a new
 * data source is one file filling in a cr_data_source_type plus one line
 * here.
 */
#include <string.h>

#include "resource/resource.h"

static const cr_data_source_type *const data_source_types[] = {
    &cr_tenant_data_source,
    &cr_routing_map_data_source,
    &cr_cells_data_source,
};

const cr_data_source_type *const *cr_data_sources(size_t *count)
{
    if (count)
        *count = sizeof data_source_types / sizeof data_source_types[0];
    return data_source_types;
}

const cr_data_source_type *cr_data_source_find(const char *type_name)
{
    if (!type_name)
        return NULL;
    for (size_t i = 0;
         i < sizeof data_source_types / sizeof data_source_types[0]; i++)
        if (strcmp(data_source_types[i]->type_name, type_name) == 0)
            return data_source_types[i];
    return NULL;
}
