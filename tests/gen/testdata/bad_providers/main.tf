terraform {
  required_providers {
    aws = {
      source  = "someone/aws"
      version = "~> 4.0"
    }
    azurerm = {
      source = "hashicorp/azurerm"
    }
    cellrouter = {
      source = "example.com/cellrouter/cellrouter"
    }
  }
}

provider "aws" {
  regoin = "us-east-1"
}

provider "aws" {
  alias  = "west"
  region = "us-west-2"
}

provider "azurerm" {}
