# The observability pipeline (var.observability): the diagnostic settings of
# the Function App, the Service Bus namespace and the Cosmos DB account send
# all their logs and metrics to an Event Hub of the cell; an OpenTelemetry
# Collector (a Container App) reads it, adds system, cell and cloud to every
# record, and exports to the one platform all cells report to, with the key
# it reads from Key Vault through its own identity. The workers' own OTLP
# goes to the same collector. This is the AWS module's subscription filters
# and Firehose stream, in Azure's terms.
locals {
  telemetry       = var.observability != null
  site            = local.telemetry ? (var.observability.site == null ? "" : var.observability.site) : ""
  key_secret_name = local.telemetry ? regex("/secrets/([^/]+)$", var.observability.key_vault_secret_id)[0] : null
  diagnostics = local.telemetry ? {
    function_app = azurerm_linux_function_app.cell.id
    servicebus   = azurerm_servicebus_namespace.events.id
    cosmosdb     = azurerm_cosmosdb_account.events.id
  } : {}
  # The collector's exporter per destination; the key comes from the
  # TELEMETRY_KEY environment variable, a Key Vault reference.
  exporters = local.telemetry ? {
    otlp     = { otlphttp = { endpoint = var.observability.endpoint, headers = { authorization = "Bearer $${env:TELEMETRY_KEY}" } } }
    datadog  = { datadog = { api = { site = local.site, key = "$${env:TELEMETRY_KEY}" } } }
    newrelic = { otlphttp = { endpoint = local.site == "eu" ? "https://otlp.eu01.nr-data.net" : "https://otlp.nr-data.net", headers = { api-key = "$${env:TELEMETRY_KEY}" } } }
    elastic  = { elasticsearch = { endpoints = [var.observability.endpoint], api_key = "$${env:TELEMETRY_KEY}" } }
  }[var.observability.destination] : null
  collector_config = local.telemetry ? {
    receivers = {
      azureeventhub = { connection = "$${env:EVENTHUB_CONNECTION}", format = "azure" }
      otlp          = { protocols = { http = { endpoint = "0.0.0.0:4318" } } }
    }
    processors = {
      resource = {
        attributes = [
          { key = "system", value = var.system, action = "upsert" },
          { key = "cell", value = var.cell_id, action = "upsert" },
          { key = "cloud", value = "azure", action = "upsert" },
        ]
      }
      batch = {}
    }
    exporters = local.exporters
    service = {
      pipelines = {
        logs    = { receivers = ["azureeventhub", "otlp"], processors = ["resource", "batch"], exporters = keys(local.exporters) }
        metrics = { receivers = ["azureeventhub", "otlp"], processors = ["resource", "batch"], exporters = keys(local.exporters) }
        traces  = { receivers = ["otlp"], processors = ["resource", "batch"], exporters = keys(local.exporters) }
      }
    }
  } : null
}

resource "azurerm_eventhub_namespace" "telemetry" {
  count = local.telemetry ? 1 : 0

  name                = "${local.prefix}-telemetry"
  resource_group_name = azurerm_resource_group.cell.name
  location            = azurerm_resource_group.cell.location
  sku                 = "Standard"
  capacity            = 1
  minimum_tls_version = "1.2"
  tags                = local.tags
}

resource "azurerm_eventhub" "telemetry" {
  count = local.telemetry ? 1 : 0

  name                = "diagnostics"
  namespace_name      = azurerm_eventhub_namespace.telemetry[0].name
  resource_group_name = azurerm_resource_group.cell.name
  partition_count     = 2
  message_retention   = 1
}

# Diagnostic settings name an Event Hubs namespace rule (Azure Monitor asks
# for Manage, Send and Listen); the collector gets a listen-only rule.
resource "azurerm_eventhub_namespace_authorization_rule" "diagnostics" {
  count = local.telemetry ? 1 : 0

  name                = "diagnostic-settings"
  namespace_name      = azurerm_eventhub_namespace.telemetry[0].name
  resource_group_name = azurerm_resource_group.cell.name
  listen              = true
  send                = true
  manage              = true
}

resource "azurerm_eventhub_authorization_rule" "collector" {
  count = local.telemetry ? 1 : 0

  name                = "collector"
  namespace_name      = azurerm_eventhub_namespace.telemetry[0].name
  eventhub_name       = azurerm_eventhub.telemetry[0].name
  resource_group_name = azurerm_resource_group.cell.name
  listen              = true
  send                = false
  manage              = false
}

resource "azurerm_monitor_diagnostic_setting" "telemetry" {
  for_each = local.diagnostics

  name                           = "cellrouter-telemetry"
  target_resource_id             = each.value
  eventhub_name                  = azurerm_eventhub.telemetry[0].name
  eventhub_authorization_rule_id = azurerm_eventhub_namespace_authorization_rule.diagnostics[0].id

  enabled_log {
    category_group = "allLogs"
  }

  metric {
    category = "AllMetrics"
  }
}

resource "azurerm_user_assigned_identity" "telemetry" {
  count = local.telemetry ? 1 : 0

  name                = "${local.prefix}-telemetry"
  resource_group_name = azurerm_resource_group.cell.name
  location            = azurerm_resource_group.cell.location
  tags                = local.tags
}

# The collector may read the one secret, nothing else in the vault.
resource "azurerm_role_assignment" "telemetry_key" {
  count = local.telemetry ? 1 : 0

  scope                = "${var.observability.key_vault_id}/secrets/${local.key_secret_name}"
  role_definition_name = "Key Vault Secrets User"
  principal_id         = azurerm_user_assigned_identity.telemetry[0].principal_id
}

# One replica: the Event Hubs receiver keeps no shared checkpoints, so two
# would read every record twice.
resource "azurerm_container_app" "telemetry" {
  count = local.telemetry ? 1 : 0

  name                         = "telemetry"
  container_app_environment_id = azurerm_container_app_environment.cell[0].id
  resource_group_name          = azurerm_resource_group.cell.name
  revision_mode                = "Single"
  tags                         = local.tags

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.telemetry[0].id]
  }

  secret {
    name                = "telemetry-key"
    identity            = azurerm_user_assigned_identity.telemetry[0].id
    key_vault_secret_id = var.observability.key_vault_secret_id
  }

  secret {
    name  = "eventhub"
    value = azurerm_eventhub_authorization_rule.collector[0].primary_connection_string
  }

  # The workers' OTLP/HTTP, inside the environment only.
  ingress {
    external_enabled = false
    target_port      = 4318
    transport        = "http"

    traffic_weight {
      latest_revision = true
      percentage      = 100
    }
  }

  template {
    min_replicas = 1
    max_replicas = 1

    container {
      name   = "collector"
      image  = "otel/opentelemetry-collector-contrib:0.116.0"
      cpu    = 0.5
      memory = "1Gi"
      args   = ["--config=env:OTELCOL_CONFIG"]

      env {
        name  = "OTELCOL_CONFIG"
        value = yamlencode(local.collector_config)
      }

      env {
        name        = "TELEMETRY_KEY"
        secret_name = "telemetry-key"
      }

      env {
        name        = "EVENTHUB_CONNECTION"
        secret_name = "eventhub"
      }
    }
  }

  depends_on = [azurerm_role_assignment.telemetry_key]
}
