locals {
  prefix = "${var.system}-${var.cell_id}"
  tags = merge(var.tags, {
    "cellrouter:system"   = var.system
    "cellrouter:cell"     = var.cell_id
    "cellrouter:location" = var.location
  })
  # Storage account names allow only lowercase letters and digits.
  storage_account_name = replace("${var.system}${var.cell_id}", "-", "")
  # Timeouts and Service Bus batch sizes are per app on Azure Functions:
  # the largest consumer value applies to the whole app.
  max_timeout    = max([for c in values(var.consumers) : c.timeout_seconds]...)
  max_batch_size = max([for c in values(var.consumers) : c.batch_size]...)
  # Durations as [days, hours, minutes, seconds], then in the compact ISO 8601
  # form Service Bus reports back (PT1M, P4D), so plans show no false changes.
  lock_parts     = { for name, c in var.consumers : name => [floor(c.timeout_seconds / 86400), floor(c.timeout_seconds % 86400 / 3600), floor(c.timeout_seconds % 3600 / 60), c.timeout_seconds % 60] }
  ttl_parts      = { for name, c in var.consumers : name => [floor(c.retention_seconds / 86400), floor(c.retention_seconds % 86400 / 3600), floor(c.retention_seconds % 3600 / 60), c.retention_seconds % 60] }
  lock_durations = { for name, p in local.lock_parts : name => "P${p[0] > 0 ? "${p[0]}D" : ""}${p[1] + p[2] + p[3] > 0 ? "T" : ""}${p[1] > 0 ? "${p[1]}H" : ""}${p[2] > 0 ? "${p[2]}M" : ""}${p[3] > 0 ? "${p[3]}S" : ""}" }
  message_ttls   = { for name, p in local.ttl_parts : name => "P${p[0] > 0 ? "${p[0]}D" : ""}${p[1] + p[2] + p[3] > 0 ? "T" : ""}${p[1] > 0 ? "${p[1]}H" : ""}${p[2] > 0 ? "${p[2]}M" : ""}${p[3] > 0 ? "${p[3]}S" : ""}" }
  # The consumers run in the Function App, or as Container Apps when
  # var.workers is set (workers.tf); the subscriptions are the same.
  container          = var.workers != null
  function_consumers = local.container ? {} : var.consumers
  consumer_settings = merge(
    { for name, c in local.function_consumers : "CONSUMER_${upper(replace(name, "-", "_"))}_SUBSCRIPTION" => name },
    { for name, c in local.function_consumers : "CONSUMER_${upper(replace(name, "-", "_"))}_HANDLER" => c.handler },
    { for name, c in local.function_consumers : "CONSUMER_${upper(replace(name, "-", "_"))}_BATCH_SIZE" => tostring(c.batch_size) },
  )
}

resource "azurerm_resource_group" "cell" {
  name     = "rg-${local.prefix}"
  location = var.location
  tags     = local.tags
}

# Events land in a Cosmos DB container (serverless, like DynamoDB on demand);
# its change feed, tracked in the leases container, feeds the forwarder.
resource "azurerm_cosmosdb_account" "events" {
  name                          = local.prefix
  resource_group_name           = azurerm_resource_group.cell.name
  location                      = azurerm_resource_group.cell.location
  offer_type                    = "Standard"
  kind                          = "GlobalDocumentDB"
  local_authentication_disabled = true
  tags                          = local.tags

  capabilities {
    name = "EnableServerless"
  }

  consistency_policy {
    consistency_level = "Session"
  }

  geo_location {
    location          = azurerm_resource_group.cell.location
    failover_priority = 0
  }
}

resource "azurerm_cosmosdb_sql_database" "events" {
  name                = var.system
  resource_group_name = azurerm_resource_group.cell.name
  account_name        = azurerm_cosmosdb_account.events.name
}

resource "azurerm_cosmosdb_sql_container" "events" {
  name                = var.table_name
  resource_group_name = azurerm_resource_group.cell.name
  account_name        = azurerm_cosmosdb_account.events.name
  database_name       = azurerm_cosmosdb_sql_database.events.name
  partition_key_paths = ["/${var.partition_key}"]
}

resource "azurerm_cosmosdb_sql_container" "leases" {
  name                = "${var.table_name}-leases"
  resource_group_name = azurerm_resource_group.cell.name
  account_name        = azurerm_cosmosdb_account.events.name
  database_name       = azurerm_cosmosdb_sql_database.events.name
  partition_key_paths = ["/id"]
}

# Key authentication stays off unless container workers need it: the
# Container Apps scale rule (KEDA) reads queue depth with a connection
# string in azurerm 3.x (workers.tf); the workers themselves use their
# identity.
resource "azurerm_servicebus_namespace" "events" {
  name                = "${local.prefix}-bus"
  resource_group_name = azurerm_resource_group.cell.name
  location            = azurerm_resource_group.cell.location
  sku                 = "Standard"
  local_auth_enabled  = local.container
  minimum_tls_version = "1.2"
  tags                = local.tags
}

resource "azurerm_servicebus_topic" "events" {
  name         = var.topic_name
  namespace_id = azurerm_servicebus_namespace.events.id
}

# One subscription per consumer, mirroring the AWS queue settings: a message is
# delivered max_retries + 1 times, then dead-lettered (as SQS redrive does);
# expired messages are dropped, not dead-lettered, as SQS drops them.
resource "azurerm_servicebus_subscription" "consumer" {
  for_each = var.consumers

  name                                 = each.key
  topic_id                             = azurerm_servicebus_topic.events.id
  max_delivery_count                   = each.value.max_retries + 1
  lock_duration                        = local.lock_durations[each.key]
  default_message_ttl                  = local.message_ttls[each.key]
  dead_lettering_on_message_expiration = false
}

# One Linux Function App (Consumption plan) runs the ingest, forwarder and
# consumer functions from the package; their triggers are declared in code and
# bind to the app settings below.
resource "azurerm_storage_account" "functions" {
  name                     = local.storage_account_name
  resource_group_name      = azurerm_resource_group.cell.name
  location                 = azurerm_resource_group.cell.location
  account_tier             = "Standard"
  account_replication_type = "LRS"
  min_tls_version          = "TLS1_2"
  tags                     = local.tags
}

resource "azurerm_service_plan" "functions" {
  name                = "${local.prefix}-plan"
  resource_group_name = azurerm_resource_group.cell.name
  location            = azurerm_resource_group.cell.location
  os_type             = "Linux"
  sku_name            = "Y1"
  tags                = local.tags
}

resource "azurerm_linux_function_app" "cell" {
  name                       = "${local.prefix}-fn"
  resource_group_name        = azurerm_resource_group.cell.name
  location                   = azurerm_resource_group.cell.location
  service_plan_id            = azurerm_service_plan.functions.id
  storage_account_name       = azurerm_storage_account.functions.name
  storage_account_access_key = azurerm_storage_account.functions.primary_access_key
  https_only                 = true
  tags                       = local.tags
  app_settings = merge(local.consumer_settings, {
    WEBSITE_RUN_FROM_PACKAGE                                           = var.package_uri
    CELL_ID                                                            = var.cell_id
    PARTITION_KEY                                                      = var.partition_key
    INGEST_HANDLER                                                     = var.ingest_handler
    FORWARDER_HANDLER                                                  = var.forwarder_handler
    EVENTS_DATABASE                                                    = azurerm_cosmosdb_sql_database.events.name
    EVENTS_CONTAINER                                                   = azurerm_cosmosdb_sql_container.events.name
    EVENTS_LEASES_CONTAINER                                            = azurerm_cosmosdb_sql_container.leases.name
    EVENTS_TOPIC                                                       = azurerm_servicebus_topic.events.name
    COSMOS__accountEndpoint                                            = azurerm_cosmosdb_account.events.endpoint
    SERVICEBUS__fullyQualifiedNamespace                                = "${azurerm_servicebus_namespace.events.name}.servicebus.windows.net"
    AzureFunctionsJobHost__functionTimeout                             = format("00:%02d:%02d", floor(local.max_timeout / 60), local.max_timeout % 60)
    AzureFunctionsJobHost__extensions__serviceBus__maxMessageBatchSize = tostring(local.max_batch_size)
  })

  identity {
    type = "SystemAssigned"
  }

  site_config {
    application_stack {
      python_version = var.runtime.language == "python" ? var.runtime.version : null
      node_version   = var.runtime.language == "node" ? var.runtime.version : null
    }
  }
}

# The app's identity may read and write documents in this cell's database only
# (built-in Cosmos DB Data Contributor), send to the topic, and receive from
# each consumer's subscription when the consumers run here.
resource "azurerm_cosmosdb_sql_role_assignment" "functions" {
  resource_group_name = azurerm_resource_group.cell.name
  account_name        = azurerm_cosmosdb_account.events.name
  role_definition_id  = "${azurerm_cosmosdb_account.events.id}/sqlRoleDefinitions/00000000-0000-0000-0000-000000000002"
  principal_id        = azurerm_linux_function_app.cell.identity[0].principal_id
  scope               = "${azurerm_cosmosdb_account.events.id}/dbs/${azurerm_cosmosdb_sql_database.events.name}"
}

resource "azurerm_role_assignment" "topic_sender" {
  scope                = azurerm_servicebus_topic.events.id
  role_definition_name = "Azure Service Bus Data Sender"
  principal_id         = azurerm_linux_function_app.cell.identity[0].principal_id
}

resource "azurerm_role_assignment" "consumer_receiver" {
  for_each = local.function_consumers

  scope                = azurerm_servicebus_subscription.consumer[each.key].id
  role_definition_name = "Azure Service Bus Data Receiver"
  principal_id         = azurerm_linux_function_app.cell.identity[0].principal_id
}
