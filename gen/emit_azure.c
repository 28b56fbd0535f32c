/*
 * gen/emit_azure.c — main.tf of modules/azure_event_cell.
 *
 * HTTP-triggered Function -> Cosmos DB (SQL API) container + leases
 * container -> change-feed Function -> Service Bus topic -> per consumer:
 * subscription (max delivery count, lock duration, TTL, dead-lettering) ->
 * consumer Function. The Function App authenticates with its managed
 * identity only; resource names follow the formulas checked in naming.c.
 */
#include "emit.h"

#include <stdlib.h>

/* [days, hours, minutes, seconds] of the whole number of seconds `n`. */
static char *duration_parts(const char *n)
{
    return cg_xasprintf("[floor(%1$s / 86400), floor(%1$s %% 86400 / 3600), floor(%1$s %% 3600 / 60), %1$s %% 60]", n);
}

/* "P[nD][T[nH][nM][nS]]" from parts p, zero parts left out. */
static const char *ISO_FROM_PARTS =
    "\"P${p[0] > 0 ? \"${p[0]}D\" : \"\"}${p[1] + p[2] + p[3] > 0 ? \"T\" : \"\"}"
    "${p[1] > 0 ? \"${p[1]}H\" : \"\"}${p[2] > 0 ? \"${p[2]}M\" : \"\"}${p[3] > 0 ? \"${p[3]}S\" : \"\"}\"";

/* Every resource with a location sits in the cell's resource group. */
static void rg_loc(cg_hcl *h)
{
    cg_hcl_attr(h, "resource_group_name", "azurerm_resource_group.cell.name");
    cg_hcl_attr(h, "location", "azurerm_resource_group.cell.location");
}

/* Cosmos DB databases, containers and role assignments name their account. */
static void in_cosmos_account(cg_hcl *h)
{
    cg_hcl_attr(h, "resource_group_name", "azurerm_resource_group.cell.name");
    cg_hcl_attr(h, "account_name", "azurerm_cosmosdb_account.events.name");
}

/* Every grant goes to the Function App's managed identity (no keys). */
static void to_app_identity(cg_hcl *h)
{
    cg_hcl_attr(h, "principal_id", "azurerm_linux_function_app.cell.identity[0].principal_id");
}

char *cg_emit_azure_main(const cg_gen_opts *o)
{
    cg_hcl h = {0};
    cg_emit_header(&h, o, true);

    cg_emit_cell_locals_open(&h);
    cg_hcl_comment(&h, "Storage account names allow only lowercase letters and digits.");
    cg_hcl_attr(&h, "storage_account_name", "replace(\"${var.system}${var.cell_id}\", \"-\", \"\")");
    cg_hcl_comment(&h, "Timeouts and Service Bus batch sizes are per app on Azure Functions:\n"
                       "the largest consumer value applies to the whole app.");
    cg_hcl_attr(&h, "max_timeout", "max([for c in values(var.consumers) : c.timeout_seconds]...)");
    cg_hcl_attr(&h, "max_batch_size", "max([for c in values(var.consumers) : c.batch_size]...)");
    /* Service Bus reports durations in compact ISO 8601 ("PT1M", "P4D");
     * writing them the same way keeps plans free of perpetual diffs. */
    cg_hcl_comment(&h, "Durations as [days, hours, minutes, seconds], then in the compact ISO 8601\n"
                       "form Service Bus reports back (PT1M, P4D), so plans show no false changes.");
    char *lock = duration_parts("c.timeout_seconds"), *ttl = duration_parts("c.retention_seconds");
    cg_hcl_attr(&h, "lock_parts", "{ for name, c in var.consumers : name => %s }", lock);
    cg_hcl_attr(&h, "ttl_parts", "{ for name, c in var.consumers : name => %s }", ttl);
    cg_hcl_attr(&h, "lock_durations", "{ for name, p in local.lock_parts : name => %s }", ISO_FROM_PARTS);
    cg_hcl_attr(&h, "message_ttls", "{ for name, p in local.ttl_parts : name => %s }", ISO_FROM_PARTS);
    free(lock);
    free(ttl);
    cg_hcl_open_line(&h, "consumer_settings = merge(");
    cg_hcl_line(&h, "{ for name, c in var.consumers : \"CONSUMER_${upper(replace(name, \"-\", \"_\"))}_SUBSCRIPTION\" => name },");
    cg_hcl_line(&h, "{ for name, c in var.consumers : \"CONSUMER_${upper(replace(name, \"-\", \"_\"))}_HANDLER\" => c.handler },");
    cg_hcl_line(&h, "{ for name, c in var.consumers : \"CONSUMER_${upper(replace(name, \"-\", \"_\"))}_BATCH_SIZE\" => tostring(c.batch_size) },");
    cg_hcl_close(&h, ")");
    cg_hcl_end(&h);

    cg_hcl_open(&h, "resource \"azurerm_resource_group\" \"cell\"");
    cg_hcl_attr(&h, "name", "\"rg-${local.prefix}\"");
    cg_hcl_attr(&h, "location", "var.location");
    cg_hcl_attr(&h, "tags", "local.tags");
    cg_hcl_end(&h);

    /* ---- storage: the event container and the change feed's leases */
    cg_hcl_comment(&h, "Events land in a Cosmos DB container (serverless, like DynamoDB on demand);\n"
                       "its change feed, tracked in the leases container, feeds the forwarder.");
    cg_hcl_open(&h, "resource \"azurerm_cosmosdb_account\" \"events\"");
    cg_hcl_attr(&h, "name", "local.prefix");
    rg_loc(&h);
    cg_hcl_attr(&h, "offer_type", "\"Standard\"");
    cg_hcl_attr(&h, "kind", "\"GlobalDocumentDB\"");
    cg_hcl_attr(&h, "local_authentication_disabled", "true");
    cg_hcl_attr(&h, "tags", "local.tags");
    cg_hcl_blank(&h);
    cg_hcl_block1(&h, "capabilities", "name", "\"EnableServerless\"");
    cg_hcl_blank(&h);
    cg_hcl_block1(&h, "consistency_policy", "consistency_level", "\"Session\"");
    cg_hcl_blank(&h);
    cg_hcl_open(&h, "geo_location");
    cg_hcl_attr(&h, "location", "azurerm_resource_group.cell.location");
    cg_hcl_attr(&h, "failover_priority", "0");
    cg_hcl_close(&h, "}");
    cg_hcl_end(&h);

    cg_hcl_open(&h, "resource \"azurerm_cosmosdb_sql_database\" \"events\"");
    cg_hcl_attr(&h, "name", "var.system");
    in_cosmos_account(&h);
    cg_hcl_end(&h);

    cg_hcl_open(&h, "resource \"azurerm_cosmosdb_sql_container\" \"events\"");
    cg_hcl_attr(&h, "name", "var.table_name");
    in_cosmos_account(&h);
    cg_hcl_attr(&h, "database_name", "azurerm_cosmosdb_sql_database.events.name");
    cg_hcl_attr(&h, "partition_key_paths", "[\"/${var.partition_key}\"]");
    cg_hcl_end(&h);

    cg_hcl_open(&h, "resource \"azurerm_cosmosdb_sql_container\" \"leases\"");
    cg_hcl_attr(&h, "name", "\"${var.table_name}-leases\"");
    in_cosmos_account(&h);
    cg_hcl_attr(&h, "database_name", "azurerm_cosmosdb_sql_database.events.name");
    cg_hcl_attr(&h, "partition_key_paths", "[\"/id\"]");
    cg_hcl_end(&h);

    /* ---- messaging */
    cg_hcl_open(&h, "resource \"azurerm_servicebus_namespace\" \"events\"");
    cg_hcl_attr(&h, "name", "\"${local.prefix}-bus\"");
    rg_loc(&h);
    cg_hcl_attr(&h, "sku", "\"Standard\"");
    cg_hcl_attr(&h, "local_auth_enabled", "false");
    cg_hcl_attr(&h, "minimum_tls_version", "\"1.2\"");
    cg_hcl_attr(&h, "tags", "local.tags");
    cg_hcl_end(&h);

    cg_hcl_open(&h, "resource \"azurerm_servicebus_topic\" \"events\"");
    cg_hcl_attr(&h, "name", "var.topic_name");
    cg_hcl_attr(&h, "namespace_id", "azurerm_servicebus_namespace.events.id");
    cg_hcl_end(&h);

    cg_hcl_comment(&h, "One subscription per consumer, mirroring the AWS queue settings: a message is\n"
                       "delivered max_retries + 1 times, then dead-lettered (as SQS redrive does);\n"
                       "expired messages are dropped, not dead-lettered, as SQS drops them.");
    cg_hcl_open(&h, "resource \"azurerm_servicebus_subscription\" \"consumer\"");
    cg_emit_for_each_consumer(&h);
    cg_hcl_attr(&h, "name", "each.key");
    cg_hcl_attr(&h, "topic_id", "azurerm_servicebus_topic.events.id");
    cg_hcl_attr(&h, "max_delivery_count", "each.value.max_retries + 1");
    cg_hcl_attr(&h, "lock_duration", "local.lock_durations[each.key]");
    cg_hcl_attr(&h, "default_message_ttl", "local.message_ttls[each.key]");
    cg_hcl_attr(&h, "dead_lettering_on_message_expiration", "false");
    cg_hcl_end(&h);

    /* ---- functions */
    cg_hcl_comment(&h, "One Linux Function App (Consumption plan) runs the ingest, forwarder and\n"
                       "consumer functions from the package; their triggers are declared in code and\n"
                       "bind to the app settings below.");
    cg_hcl_open(&h, "resource \"azurerm_storage_account\" \"functions\"");
    cg_hcl_attr(&h, "name", "local.storage_account_name");
    rg_loc(&h);
    cg_hcl_attr(&h, "account_tier", "\"Standard\"");
    cg_hcl_attr(&h, "account_replication_type", "\"LRS\"");
    cg_hcl_attr(&h, "min_tls_version", "\"TLS1_2\"");
    cg_hcl_attr(&h, "tags", "local.tags");
    cg_hcl_end(&h);

    cg_hcl_open(&h, "resource \"azurerm_service_plan\" \"functions\"");
    cg_hcl_attr(&h, "name", "\"${local.prefix}-plan\"");
    rg_loc(&h);
    cg_hcl_attr(&h, "os_type", "\"Linux\"");
    cg_hcl_attr(&h, "sku_name", "\"Y1\"");
    cg_hcl_attr(&h, "tags", "local.tags");
    cg_hcl_end(&h);

    cg_hcl_open(&h, "resource \"azurerm_linux_function_app\" \"cell\"");
    cg_hcl_attr(&h, "name", "\"${local.prefix}-fn\"");
    rg_loc(&h);
    cg_hcl_attr(&h, "service_plan_id", "azurerm_service_plan.functions.id");
    cg_hcl_attr(&h, "storage_account_name", "azurerm_storage_account.functions.name");
    cg_hcl_attr(&h, "storage_account_access_key", "azurerm_storage_account.functions.primary_access_key");
    cg_hcl_attr(&h, "https_only", "true");
    cg_hcl_attr(&h, "tags", "local.tags");
    cg_hcl_open_line(&h, "app_settings = merge(local.consumer_settings, {");
    cg_hcl_attr(&h, "WEBSITE_RUN_FROM_PACKAGE", "var.package_uri");
    cg_hcl_attr(&h, "CELL_ID", "var.cell_id");
    cg_hcl_attr(&h, "PARTITION_KEY", "var.partition_key");
    cg_hcl_attr(&h, "INGEST_HANDLER", "var.ingest_handler");
    cg_hcl_attr(&h, "FORWARDER_HANDLER", "var.forwarder_handler");
    cg_hcl_attr(&h, "EVENTS_DATABASE", "azurerm_cosmosdb_sql_database.events.name");
    cg_hcl_attr(&h, "EVENTS_CONTAINER", "azurerm_cosmosdb_sql_container.events.name");
    cg_hcl_attr(&h, "EVENTS_LEASES_CONTAINER", "azurerm_cosmosdb_sql_container.leases.name");
    cg_hcl_attr(&h, "EVENTS_TOPIC", "azurerm_servicebus_topic.events.name");
    cg_hcl_attr(&h, "COSMOS__accountEndpoint", "azurerm_cosmosdb_account.events.endpoint");
    cg_hcl_attr(&h, "SERVICEBUS__fullyQualifiedNamespace",
                "\"${azurerm_servicebus_namespace.events.name}.servicebus.windows.net\"");
    cg_hcl_attr(&h, "AzureFunctionsJobHost__functionTimeout",
                "format(\"00:%%02d:%%02d\", floor(local.max_timeout / 60), local.max_timeout %% 60)");
    cg_hcl_attr(&h, "AzureFunctionsJobHost__extensions__serviceBus__maxMessageBatchSize",
                "tostring(local.max_batch_size)");
    cg_hcl_close(&h, "})");
    cg_hcl_blank(&h);
    cg_hcl_block1(&h, "identity", "type", "\"SystemAssigned\"");
    cg_hcl_blank(&h);
    cg_hcl_open(&h, "site_config");
    cg_hcl_open(&h, "application_stack");
    cg_hcl_attr(&h, "python_version", "var.runtime.language == \"python\" ? var.runtime.version : null");
    cg_hcl_attr(&h, "node_version", "var.runtime.language == \"node\" ? var.runtime.version : null");
    cg_hcl_close(&h, "}");
    cg_hcl_close(&h, "}");
    cg_hcl_end(&h);

    /* ---- least privilege for the app's identity */
    cg_hcl_comment(&h, "The app's identity may read and write documents in this cell's database only\n"
                       "(built-in Cosmos DB Data Contributor), send to the topic, and receive from\n"
                       "each consumer's subscription.");
    cg_hcl_open(&h, "resource \"azurerm_cosmosdb_sql_role_assignment\" \"functions\"");
    in_cosmos_account(&h);
    cg_hcl_attr(&h, "role_definition_id",
                "\"${azurerm_cosmosdb_account.events.id}/sqlRoleDefinitions/00000000-0000-0000-0000-000000000002\"");
    to_app_identity(&h);
    cg_hcl_attr(&h, "scope", "\"${azurerm_cosmosdb_account.events.id}/dbs/${azurerm_cosmosdb_sql_database.events.name}\"");
    cg_hcl_end(&h);

    cg_hcl_open(&h, "resource \"azurerm_role_assignment\" \"topic_sender\"");
    cg_hcl_attr(&h, "scope", "azurerm_servicebus_topic.events.id");
    cg_hcl_attr(&h, "role_definition_name", "\"Azure Service Bus Data Sender\"");
    to_app_identity(&h);
    cg_hcl_end(&h);

    cg_hcl_open(&h, "resource \"azurerm_role_assignment\" \"consumer_receiver\"");
    cg_emit_for_each_consumer(&h);
    cg_hcl_attr(&h, "scope", "azurerm_servicebus_subscription.consumer[each.key].id");
    cg_hcl_attr(&h, "role_definition_name", "\"Azure Service Bus Data Receiver\"");
    to_app_identity(&h);
    cg_hcl_close(&h, "}");

    return cg_hcl_finish(&h);
}
