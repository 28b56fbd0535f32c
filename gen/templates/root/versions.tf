terraform {
  required_version = ">= 1.3.0"

  required_providers {
    # Only the clouds the spec uses, so `terraform init` fetches no provider
    # the configuration does not need.
    # for __aws__
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
    # end __aws__
    # for __azure__
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 3.0"
    }
    # end __azure__
    cellrouter = {
      source = "cellrouter/cellrouter"
    }
    cloudflare = {
      source  = "cloudflare/cloudflare"
      version = "~> 4.0"
    }
  }
}
