data "azurerm_client_config" "current" {}

resource "azurerm_resource_group" "cell" {
  name     = "rg-${var.cell_id}"
  location = "eastus"
  tags     = var.tags
}

resource "azurerm_cosmosdb_account" "events" {
  name                = "cosmos-${var.cell_id}"
  location            = azurerm_resource_group.cell.location
  resource_group_name = azurerm_resource_group.cell.name
  offer_type          = "Standard"

  consistency_policy {
    consistency_level = "Session"
  }

  geo_location {
    location          = azurerm_resource_group.cell.location
    failover_priority = 0
  }
}

resource "azurerm_cosmosdb_sql_database" "events" {
  name                = "events"
  resource_group_name = azurerm_resource_group.cell.name
  account_name        = azurerm_cosmosdb_account.events.name
}

resource "azurerm_cosmosdb_sql_container" "events" {
  name                = "events"
  resource_group_name = azurerm_resource_group.cell.name
  account_name        = azurerm_cosmosdb_account.events.name
  database_name       = azurerm_cosmosdb_sql_database.events.name
  partition_key_path  = "/tenant"
}

resource "azurerm_servicebus_namespace" "cell" {
  name                = "sb-${var.cell_id}"
  location            = azurerm_resource_group.cell.location
  resource_group_name = azurerm_resource_group.cell.name
  sku                 = "Standard"
}

resource "azurerm_servicebus_topic" "events" {
  name         = "events"
  namespace_id = azurerm_servicebus_namespace.cell.id
}

resource "azurerm_servicebus_subscription" "consumer" {
  for_each = var.consumers

  name                                 = each.key
  topic_id                             = azurerm_servicebus_topic.events.id
  max_delivery_count                   = each.value.max_retries + 1
  lock_duration                        = "PT${each.value.timeout_s}S"
  default_message_ttl                  = "PT${each.value.retention_s}S"
  dead_lettering_on_message_expiration = true
}

resource "azurerm_service_plan" "cell" {
  name                = "plan-${var.cell_id}"
  location            = azurerm_resource_group.cell.location
  resource_group_name = azurerm_resource_group.cell.name
  os_type             = "Linux"
  sku_name            = "Y1"
}

resource "azurerm_storage_account" "functions" {
  name                     = "st${replace(var.cell_id, "-", "")}"
  location                 = azurerm_resource_group.cell.location
  resource_group_name      = azurerm_resource_group.cell.name
  account_tier             = "Standard"
  account_replication_type = "LRS"
}

resource "azurerm_linux_function_app" "ingest" {
  name                       = "func-${var.cell_id}-ingest"
  location                   = azurerm_resource_group.cell.location
  resource_group_name        = azurerm_resource_group.cell.name
  service_plan_id            = azurerm_service_plan.cell.id
  storage_account_name       = azurerm_storage_account.functions.name
  storage_account_access_key = azurerm_storage_account.functions.primary_access_key

  app_settings = {
    COSMOS_ENDPOINT = azurerm_cosmosdb_account.events.endpoint
    TOPIC_ID        = azurerm_servicebus_topic.events.id
    TENANT          = data.azurerm_client_config.current.tenant_id
  }

  site_config {
    application_stack {
      python_version = "3.11"
    }
  }

  identity {
    type = "SystemAssigned"
  }
}

locals {
  deploy_user = azurerm_linux_function_app.ingest.site_credential[0].name
}
