# for __ci__
# The identities the pipeline deploys with (__pipeline_file__): OpenID
# Connect from __ci_title__, no stored cloud keys. Each cloud trusts the
# CI's tokens only with the exact audience and these exact subjects: the
# plan identities read, the apply identities deploy the cells.
locals {
  ci_plan_subjects = {
    # for __plan_subjects__
    "__name__" = "__subject__"
    # end __plan_subjects__
  }
  ci_apply_subjects = {
    "__apply_name__" = "__apply_subject__"
  }
}
# for __aws__

# AWS: one OIDC provider for the CI's issuer and two roles. IAM is global;
# the provider of __ci_region__ manages it.
data "aws_partition" "ci" {
  provider = aws.__ci_alias__
}

data "aws_caller_identity" "ci" {
  provider = aws.__ci_alias__
}

resource "aws_iam_openid_connect_provider" "ci" {
  provider = aws.__ci_alias__

  url            = "__issuer__"
  client_id_list = ["sts.amazonaws.com"]
  tags           = { "cellrouter:system" = "__system__" }
}

data "aws_iam_policy_document" "ci_plan_trust" {
  provider = aws.__ci_alias__

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.ci.arn]
    }

    condition {
      test     = "StringEquals"
      variable = "__issuer_host__:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "__issuer_host__:sub"
      values   = values(local.ci_plan_subjects)
    }
  }
}

data "aws_iam_policy_document" "ci_apply_trust" {
  provider = aws.__ci_alias__

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.ci.arn]
    }

    condition {
      test     = "StringEquals"
      variable = "__issuer_host__:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "__issuer_host__:sub"
      values   = values(local.ci_apply_subjects)
    }
  }
}

# Plan: read-only.
resource "aws_iam_role" "ci_plan" {
  provider = aws.__ci_alias__

  name                 = "__system__-ci-plan"
  assume_role_policy   = data.aws_iam_policy_document.ci_plan_trust.json
  max_session_duration = 3600
  tags                 = { "cellrouter:system" = "__system__" }
}

resource "aws_iam_role_policy_attachment" "ci_plan_read" {
  provider = aws.__ci_alias__

  role       = aws_iam_role.ci_plan.name
  policy_arn = "arn:${data.aws_partition.ci.partition}:iam::aws:policy/ReadOnlyAccess"
}

# Apply: read everything, and change what deploying a cell needs, by name
# (every cell resource is called __system__-<cell>-...) where the service
# allows it. The CI identities themselves stay out of its reach: a merged
# change cannot widen its own trust; an administrator applies ci.tf.
data "aws_iam_policy_document" "ci_apply" {
  provider = aws.__ci_alias__

  statement {
    sid     = "CellResourcesByName"
    actions = ["dynamodb:*", "lambda:*", "sqs:*", "sns:*", "logs:*", "firehose:*", "s3:*", "ecs:*"]
    resources = [
      "arn:${data.aws_partition.ci.partition}:dynamodb:*:${data.aws_caller_identity.ci.account_id}:table/__system__-*",
      "arn:${data.aws_partition.ci.partition}:lambda:*:${data.aws_caller_identity.ci.account_id}:function:__system__-*",
      "arn:${data.aws_partition.ci.partition}:sqs:*:${data.aws_caller_identity.ci.account_id}:__system__-*",
      "arn:${data.aws_partition.ci.partition}:sns:*:${data.aws_caller_identity.ci.account_id}:__system__-*",
      "arn:${data.aws_partition.ci.partition}:logs:*:${data.aws_caller_identity.ci.account_id}:log-group:/aws/lambda/__system__-*",
      "arn:${data.aws_partition.ci.partition}:logs:*:${data.aws_caller_identity.ci.account_id}:log-group:/ecs/__system__-*",
      "arn:${data.aws_partition.ci.partition}:firehose:*:${data.aws_caller_identity.ci.account_id}:deliverystream/__system__-*",
      "arn:${data.aws_partition.ci.partition}:s3:::__system__-*",
      "arn:${data.aws_partition.ci.partition}:ecs:*:${data.aws_caller_identity.ci.account_id}:*/__system__-*",
    ]
  }

  statement {
    sid       = "CellRoles"
    actions   = ["iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:UpdateRole", "iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole", "iam:PassRole"]
    resources = ["arn:${data.aws_partition.ci.partition}:iam::${data.aws_caller_identity.ci.account_id}:role/__system__-*"]
  }

  # These services name their resources by generated ids (HTTP APIs, event
  # source mappings, scaling policies, security groups, metric streams).
  statement {
    sid       = "CellResourcesById"
    actions   = ["apigateway:*", "lambda:CreateEventSourceMapping", "lambda:UpdateEventSourceMapping", "lambda:DeleteEventSourceMapping", "lambda:GetEventSourceMapping", "lambda:TagResource", "application-autoscaling:*", "cloudwatch:PutMetricStream", "cloudwatch:DeleteMetricStream", "cloudwatch:GetMetricStream", "cloudwatch:TagResource", "cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms", "resource-groups:*", "ecs:CreateCluster", "ecs:RegisterTaskDefinition", "ecs:DeregisterTaskDefinition", "ec2:CreateSecurityGroup", "ec2:DeleteSecurityGroup", "ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupEgress", "ec2:CreateTags", "iam:CreateServiceLinkedRole"]
    resources = ["*"]
  }

  statement {
    sid       = "CiIdentitiesAreForAdministrators"
    effect    = "Deny"
    actions   = ["iam:*"]
    resources = ["arn:${data.aws_partition.ci.partition}:iam::${data.aws_caller_identity.ci.account_id}:role/__system__-ci-*", "arn:${data.aws_partition.ci.partition}:iam::${data.aws_caller_identity.ci.account_id}:oidc-provider/*"]
  }
}

resource "aws_iam_role" "ci_apply" {
  provider = aws.__ci_alias__

  name                 = "__system__-ci-apply"
  assume_role_policy   = data.aws_iam_policy_document.ci_apply_trust.json
  max_session_duration = 3600
  tags                 = { "cellrouter:system" = "__system__" }
}

resource "aws_iam_role_policy_attachment" "ci_apply_read" {
  provider = aws.__ci_alias__

  role       = aws_iam_role.ci_apply.name
  policy_arn = "arn:${data.aws_partition.ci.partition}:iam::aws:policy/ReadOnlyAccess"
}

resource "aws_iam_role_policy" "ci_apply" {
  provider = aws.__ci_alias__

  name   = "deploy-cells"
  role   = aws_iam_role.ci_apply.id
  policy = data.aws_iam_policy_document.ci_apply.json
}
# end __aws__
# for __azure__

# Azure: two user-assigned identities, each trusting the CI's tokens through
# federated credentials for the same subjects, with role assignments on the
# cells' resource groups only: Reader to plan; Contributor and Role Based
# Access Control Administrator (the cells grant their own identities) to
# apply.
data "azurerm_client_config" "ci" {}

resource "azurerm_resource_group" "ci" {
  name     = "rg-__system__-ci"
  location = "__ci_location__"
  tags     = { "cellrouter:system" = "__system__" }
}

resource "azurerm_user_assigned_identity" "ci_plan" {
  name                = "__system__-ci-plan"
  resource_group_name = azurerm_resource_group.ci.name
  location            = azurerm_resource_group.ci.location
  tags                = { "cellrouter:system" = "__system__" }
}

resource "azurerm_user_assigned_identity" "ci_apply" {
  name                = "__system__-ci-apply"
  resource_group_name = azurerm_resource_group.ci.name
  location            = azurerm_resource_group.ci.location
  tags                = { "cellrouter:system" = "__system__" }
}

resource "azurerm_federated_identity_credential" "ci_plan" {
  for_each = local.ci_plan_subjects

  name                = each.key
  resource_group_name = azurerm_resource_group.ci.name
  parent_id           = azurerm_user_assigned_identity.ci_plan.id
  audience            = ["api://AzureADTokenExchange"]
  issuer              = "__issuer__"
  subject             = each.value
}

resource "azurerm_federated_identity_credential" "ci_apply" {
  for_each = local.ci_apply_subjects

  name                = each.key
  resource_group_name = azurerm_resource_group.ci.name
  parent_id           = azurerm_user_assigned_identity.ci_apply.id
  audience            = ["api://AzureADTokenExchange"]
  issuer              = "__issuer__"
  subject             = each.value
}

locals {
  # Each Azure cell's resource group, by cell id.
  ci_azure_scopes = {
    # for __cells__
    # for __azure__
    "__id__" = module.__ident__.resource_group
    # end __azure__
    # end __cells__
  }
  ci_apply_roles = {
    for pair in setproduct(keys(local.ci_azure_scopes), ["Contributor", "Role Based Access Control Administrator"]) : "${pair[0]}/${pair[1]}" => { scope = local.ci_azure_scopes[pair[0]], role = pair[1] }
  }
}

resource "azurerm_role_assignment" "ci_plan" {
  for_each = local.ci_azure_scopes

  scope                = each.value
  role_definition_name = "Reader"
  principal_id         = azurerm_user_assigned_identity.ci_plan.principal_id
}

resource "azurerm_role_assignment" "ci_apply" {
  for_each = local.ci_apply_roles

  scope                = each.value.scope
  role_definition_name = each.value.role
  principal_id         = azurerm_user_assigned_identity.ci_apply.principal_id
}
# end __azure__

output "ci_variables" {
  description = "The CI variables the pipeline reads: set them once in __ci_title__ after an administrator's first apply (see the README)."
  value = {
    # for __aws__
    CELLROUTER_AWS_PLAN_ROLE_ARN  = aws_iam_role.ci_plan.arn
    CELLROUTER_AWS_APPLY_ROLE_ARN = aws_iam_role.ci_apply.arn
    # end __aws__
    # for __azure__
    CELLROUTER_AZURE_PLAN_CLIENT_ID  = azurerm_user_assigned_identity.ci_plan.client_id
    CELLROUTER_AZURE_APPLY_CLIENT_ID = azurerm_user_assigned_identity.ci_apply.client_id
    CELLROUTER_AZURE_TENANT_ID       = data.azurerm_client_config.ci.tenant_id
    CELLROUTER_AZURE_SUBSCRIPTION_ID = data.azurerm_client_config.ci.subscription_id
    # end __azure__
  }
}
# end __ci__
