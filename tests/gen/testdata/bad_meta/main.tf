# Meta-argument misuse: instance keys outside count/for_each, provider
# configurations that do not exist.

terraform {
  required_providers {
    aws = {
      source                = "hashicorp/aws"
      version               = "~> 5.0"
      configuration_aliases = [aws.replica]
    }
  }
}

provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"
}

resource "aws_sqs_queue" "keyed" {
  for_each = toset(["a"])
  provider = aws.us_east_1

  name          = "q-${each.key}"
  delay_seconds = count.index
}

resource "aws_sqs_queue" "counted" {
  count    = 1
  provider = aws.replica

  name = "c-${count.index}-${each.value}"
}

resource "aws_sqs_queue" "elsewhere" {
  provider = aws.eu_west_1

  name = "e"
}

module "child" {
  source = "./child"
  providers = {
    aws = aws.us_west_2
  }
}

output "oops" {
  value = each.key
}
