terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 3.0"
    }
    cellrouter = {
      source = "example.com/cellrouter/cellrouter"
    }
  }
}

provider "aws" {
  region = "us-east-1"
}

provider "azurerm" {
  features {}
}

module "aws_alpha" {
  source = "../aws_cell"

  cell_id = "aws-alpha"
  consumers = {
    billing = {
      handler     = "billing.handler"
      batch_size  = 10
      timeout_s   = 30
      max_retries = 4
      retention_s = 345600
    }
  }
}

module "azure_beta" {
  source = "../azure_cell"

  cell_id = "azure-beta"
}

resource "cellrouter_tenant" "acme" {
  tenant_id = "acme"
  cell_id   = "aws-alpha"
  endpoint  = module.aws_alpha.ingest_url
  standby   = module.azure_beta.ingest_url
}
