# Container workers (var.workers): each consumer runs as a Container App of
# the one image both clouds run, reading its Service Bus subscription with
# the workers' managed identity, and scaled by a Service Bus scale rule
# (KEDA azure-servicebus) on the subscription's message count. Ingest and
# the forwarder stay functions: an HTTP trigger and the change feed start
# them (main.tf).
locals {
  worker_consumers = local.container ? var.consumers : {}
}

# Shared by the workers and the observability pipeline's collector
# (telemetry.tf); in var.network's subnet when one is given.
resource "azurerm_container_app_environment" "cell" {
  count = local.container || local.telemetry ? 1 : 0

  name                     = "${local.prefix}-env"
  resource_group_name      = azurerm_resource_group.cell.name
  location                 = azurerm_resource_group.cell.location
  infrastructure_subnet_id = var.network == null ? null : var.network.subnet_ids[0]
  tags                     = local.tags
}

resource "azurerm_user_assigned_identity" "workers" {
  count = local.container ? 1 : 0

  name                = "${local.prefix}-workers"
  resource_group_name = azurerm_resource_group.cell.name
  location            = azurerm_resource_group.cell.location
  tags                = local.tags
}

# A worker reads its own subscription (one identity for the cell's workers,
# granted per subscription).
resource "azurerm_role_assignment" "worker_receiver" {
  for_each = local.worker_consumers

  scope                = azurerm_servicebus_subscription.consumer[each.key].id
  role_definition_name = "Azure Service Bus Data Receiver"
  principal_id         = azurerm_user_assigned_identity.workers[0].principal_id
}

# The scale rule's connection string: KEDA reads the subscription's message
# count through the management API, which needs a Manage rule (and Manage
# implies Listen and Send). It is given to the scaler only, as a secret.
resource "azurerm_servicebus_topic_authorization_rule" "scaler" {
  count = local.container ? 1 : 0

  name     = "container-apps-scaler"
  topic_id = azurerm_servicebus_topic.events.id
  listen   = true
  send     = true
  manage   = true
}

# 2 GiB per vCPU: the same size a Fargate task of var.workers.cpu gets.
resource "azurerm_container_app" "worker" {
  for_each = local.worker_consumers

  name                         = each.key
  container_app_environment_id = azurerm_container_app_environment.cell[0].id
  resource_group_name          = azurerm_resource_group.cell.name
  revision_mode                = "Single"
  tags                         = local.tags

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.workers[0].id]
  }

  secret {
    name  = "servicebus-scaler"
    value = azurerm_servicebus_topic_authorization_rule.scaler[0].primary_connection_string
  }

  template {
    min_replicas = var.workers.min_workers
    max_replicas = var.workers.max_workers

    container {
      name   = "worker"
      image  = var.workers.image
      cpu    = var.workers.cpu
      memory = "${var.workers.cpu * 2}Gi"

      env {
        name  = "CELL_ID"
        value = var.cell_id
      }

      env {
        name  = "CONSUMER"
        value = each.key
      }

      env {
        name  = "HANDLER"
        value = each.value.handler
      }

      env {
        name  = "BATCH_SIZE"
        value = tostring(each.value.batch_size)
      }

      env {
        name  = "VISIBILITY_TIMEOUT"
        value = tostring(each.value.timeout_seconds)
      }

      env {
        name  = "SERVICEBUS__fullyQualifiedNamespace"
        value = "${azurerm_servicebus_namespace.events.name}.servicebus.windows.net"
      }

      env {
        name  = "EVENTS_TOPIC"
        value = azurerm_servicebus_topic.events.name
      }

      env {
        name  = "SUBSCRIPTION"
        value = azurerm_servicebus_subscription.consumer[each.key].name
      }

      # DefaultAzureCredential picks the user-assigned identity by this.
      env {
        name  = "AZURE_CLIENT_ID"
        value = azurerm_user_assigned_identity.workers[0].client_id
      }

      # The cell's collector (telemetry.tf) takes the workers' own OTLP.
      dynamic "env" {
        for_each = local.telemetry ? ["http://telemetry"] : []

        content {
          name  = "OTEL_EXPORTER_OTLP_ENDPOINT"
          value = env.value
        }
      }
    }

    custom_scale_rule {
      name             = "queue-depth"
      custom_rule_type = "azure-servicebus"
      metadata = {
        namespace        = azurerm_servicebus_namespace.events.name
        topicName        = azurerm_servicebus_topic.events.name
        subscriptionName = azurerm_servicebus_subscription.consumer[each.key].name
        messageCount     = tostring(var.workers.messages_per_worker)
      }

      authentication {
        secret_name       = "servicebus-scaler"
        trigger_parameter = "connection"
      }
    }
  }

  depends_on = [azurerm_role_assignment.worker_receiver]
}
