# Container workers (var.workers): each consumer runs as an ECS Fargate
# service of the one image both clouds run, in the cell's own VPC
# (var.network), reading its SQS queue, and scaled by target tracking on the
# queue's backlog per running task. Ingest and the forwarder stay functions:
# an HTTP route and the table's stream trigger them (main.tf).
locals {
  worker_consumers = local.container ? var.consumers : {}
}

resource "aws_ecs_cluster" "workers" {
  count = local.container ? 1 : 0

  name = local.prefix
  tags = local.tags

  # RunningTaskCount, the divisor of the scaling metric below.
  setting {
    name  = "containerInsights"
    value = "enabled"
  }

  lifecycle {
    precondition {
      condition     = var.network != null
      error_message = "Container workers on AWS need var.network: the VPC and the subnets their tasks run in."
    }
  }
}

resource "aws_cloudwatch_log_group" "worker" {
  for_each = local.worker_consumers

  name              = "/ecs/${local.prefix}-${each.key}"
  retention_in_days = 30
  tags              = local.tags
}

data "aws_iam_policy_document" "ecs_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

# The execution role pulls the image and writes the tasks' log streams.
data "aws_iam_policy_document" "worker_execution" {
  count = local.container ? 1 : 0

  # GetAuthorizationToken takes no resource narrower than "*".
  statement {
    sid       = "PullImage"
    actions   = ["ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]
    resources = ["*"]
  }

  statement {
    sid       = "WriteWorkerLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [for g in aws_cloudwatch_log_group.worker : "${g.arn}:*"]
  }
}

resource "aws_iam_role" "worker_execution" {
  count = local.container ? 1 : 0

  name               = "${local.prefix}_ecs-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy" "worker_execution" {
  count = local.container ? 1 : 0

  name   = "least-privilege"
  role   = aws_iam_role.worker_execution[0].id
  policy = data.aws_iam_policy_document.worker_execution[0].json
}

# A worker may only read its own queue (the task role).
data "aws_iam_policy_document" "worker" {
  for_each = local.worker_consumers

  statement {
    sid       = "ReadOwnQueue"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.consumer[each.key].arn]
  }
}

resource "aws_iam_role" "worker" {
  for_each = local.worker_consumers

  name               = "${local.prefix}-${each.key}_task"
  assume_role_policy = data.aws_iam_policy_document.ecs_assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy" "worker" {
  for_each = local.worker_consumers

  name   = "least-privilege"
  role   = aws_iam_role.worker[each.key].id
  policy = data.aws_iam_policy_document.worker[each.key].json
}

# 2 GiB per vCPU: the same size a Container App of var.workers.cpu gets.
resource "aws_ecs_task_definition" "worker" {
  for_each = local.worker_consumers

  family                   = "${local.prefix}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = tostring(var.workers.cpu * 1024)
  memory                   = tostring(var.workers.cpu * 2048)
  execution_role_arn       = aws_iam_role.worker_execution[0].arn
  task_role_arn            = aws_iam_role.worker[each.key].arn
  tags                     = local.tags
  container_definitions = jsonencode([{
    name      = "worker"
    image     = var.workers.image
    essential = true
    environment = [
      { name = "CELL_ID", value = var.cell_id },
      { name = "CONSUMER", value = each.key },
      { name = "HANDLER", value = each.value.handler },
      { name = "QUEUE_URL", value = aws_sqs_queue.consumer[each.key].id },
      { name = "BATCH_SIZE", value = tostring(each.value.batch_size) },
      { name = "VISIBILITY_TIMEOUT", value = tostring(each.value.timeout_seconds) },
    ]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.worker[each.key].name
        awslogs-region        = var.location
        awslogs-stream-prefix = "worker"
      }
    }
  }])

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }
}

# No inbound traffic; outbound HTTPS only (SQS, the registry, CloudWatch
# Logs), through the subnets' NAT gateway or VPC endpoints.
resource "aws_security_group" "workers" {
  count = local.container ? 1 : 0

  name        = "${local.prefix}-workers"
  description = "Container workers of one cell: no inbound traffic, outbound HTTPS only."
  vpc_id      = var.network.id
  tags        = local.tags
}

resource "aws_vpc_security_group_egress_rule" "workers_https" {
  count = local.container ? 1 : 0

  security_group_id = aws_security_group.workers[0].id
  description       = "HTTPS to SQS, the image registry and CloudWatch Logs"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_ecs_service" "worker" {
  for_each = local.worker_consumers

  name            = each.key
  cluster         = aws_ecs_cluster.workers[0].id
  task_definition = aws_ecs_task_definition.worker[each.key].arn
  launch_type     = "FARGATE"
  desired_count   = var.workers.min_workers
  propagate_tags  = "SERVICE"
  tags            = local.tags

  network_configuration {
    subnets          = var.network.subnet_ids
    security_groups  = [aws_security_group.workers[0].id]
    assign_public_ip = false
  }

  # The scaling policy below owns the task count after creation.
  lifecycle {
    ignore_changes = [desired_count]
  }
}

resource "aws_appautoscaling_target" "worker" {
  for_each = local.worker_consumers

  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.workers[0].name}/${aws_ecs_service.worker[each.key].name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.workers.min_workers
  max_capacity       = var.workers.max_workers
}

# Target tracking on the backlog per worker: visible messages divided by the
# running tasks (the visible messages alone when none runs, so a service
# scaled to zero starts again), kept at var.workers.messages_per_worker, as
# the Container Apps scale rule does with messageCount.
resource "aws_appautoscaling_policy" "worker" {
  for_each = local.worker_consumers

  name               = "queue-depth"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.worker[each.key].service_namespace
  resource_id        = aws_appautoscaling_target.worker[each.key].resource_id
  scalable_dimension = aws_appautoscaling_target.worker[each.key].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value = var.workers.messages_per_worker

    customized_metric_specification {
      metrics {
        id          = "visible"
        return_data = false

        metric_stat {
          stat = "Average"

          metric {
            namespace   = "AWS/SQS"
            metric_name = "ApproximateNumberOfMessagesVisible"

            dimensions {
              name  = "QueueName"
              value = aws_sqs_queue.consumer[each.key].name
            }
          }
        }
      }

      metrics {
        id          = "tasks"
        return_data = false

        metric_stat {
          stat = "Average"

          metric {
            namespace   = "ECS/ContainerInsights"
            metric_name = "RunningTaskCount"

            dimensions {
              name  = "ClusterName"
              value = aws_ecs_cluster.workers[0].name
            }

            dimensions {
              name  = "ServiceName"
              value = aws_ecs_service.worker[each.key].name
            }
          }
        }
      }

      metrics {
        id          = "backlog_per_worker"
        label       = "Visible messages per running worker"
        expression  = "IF(tasks > 0, visible / tasks, visible)"
        return_data = true
      }
    }
  }
}
