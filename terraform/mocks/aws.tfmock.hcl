# The mocked AWS of every `terraform test` here (root, modules, example): each test file's
# `mock_provider "aws" { source = "…/terraform/mocks" }` reads it, and adds a block of its own
# only where its world differs (another region, another runtime).
#
# One account (123456789012) in us-east-1. Resources get ARN-shaped values, which `command =
# apply` runs need: the provider's generated strings are no ARNs. Data sources give what the
# configurations read from them.

mock_data "aws_caller_identity" {
  defaults = {
    account_id = "123456789012"
  }
}

mock_data "aws_partition" {
  defaults = {
    partition  = "aws"
    dns_suffix = "amazonaws.com"
  }
}

mock_data "aws_region" {
  defaults = {
    id = "us-east-1"
  }
}

mock_data "aws_iam_policy_document" {
  defaults = {
    json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
  }
}

# A Lambda function, as GetFunction describes it (the Batch task's).
mock_data "aws_lambda_function" {
  defaults = {
    runtime       = "python3.13"
    architectures = ["arm64"]
  }
}

# The account's default VPC, with two subnets.
mock_data "aws_vpcs" {
  defaults = {
    ids = ["vpc-0123456789abcdef0"]
  }
}

mock_data "aws_subnets" {
  defaults = {
    ids = ["subnet-0bbbbbbbbbbbbbbbb", "subnet-0aaaaaaaaaaaaaaaa"]
  }
}

mock_data "aws_subnet" {
  defaults = {
    vpc_id = "vpc-0123456789abcdef0"
  }
}

mock_data "aws_ecr_authorization_token" {
  defaults = {
    user_name = "AWS"
    password  = "token"
  }
}

# The digest of an image pushed to ECR.
mock_data "aws_ecr_image" {
  defaults = {
    image_digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
  }
}

mock_resource "aws_s3_bucket" {
  defaults = {
    arn                         = "arn:aws:s3:::stratus-rasters"
    bucket_regional_domain_name = "stratus-rasters.s3.us-east-1.amazonaws.com"
  }
}

mock_resource "aws_iam_role" {
  defaults = {
    arn = "arn:aws:iam::123456789012:role/stratus-ecs-task-execution"
  }
}

mock_resource "aws_iam_instance_profile" {
  defaults = {
    arn = "arn:aws:iam::123456789012:instance-profile/stratus-batch-instance"
  }
}

mock_resource "aws_cloudwatch_log_group" {
  defaults = {
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/stratus-gdal"
  }
}

mock_resource "aws_sqs_queue" {
  defaults = {
    arn = "arn:aws:sqs:us-east-1:123456789012:stratus-gdal-failures"
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/stratus-gdal-failures"
  }
}

mock_resource "aws_cloudwatch_event_rule" {
  defaults = {
    arn = "arn:aws:events:us-east-1:123456789012:rule/stratus-gdal-uploads"
  }
}

mock_resource "aws_lambda_function" {
  defaults = {
    arn = "arn:aws:lambda:us-east-1:123456789012:function:stratus-gdal"
  }
}

mock_resource "aws_ecr_repository" {
  defaults = {
    arn            = "arn:aws:ecr:us-east-1:123456789012:repository/stratus/gdal-lambda"
    repository_url = "123456789012.dkr.ecr.us-east-1.amazonaws.com/stratus/gdal-lambda"
    registry_id    = "123456789012"
  }
}

mock_resource "aws_security_group" {
  defaults = {
    id = "sg-0123456789abcdef0"
  }
}

mock_resource "aws_batch_compute_environment" {
  defaults = {
    arn = "arn:aws:batch:us-east-1:123456789012:compute-environment/tf-stratus"
  }
}

mock_resource "aws_batch_job_queue" {
  defaults = {
    arn = "arn:aws:batch:us-east-1:123456789012:job-queue/stratus"
  }
}

mock_resource "aws_batch_job_definition" {
  defaults = {
    arn = "arn:aws:batch:us-east-1:123456789012:job-definition/stratus-task:1"
  }
}
