# The backfill function: the upload function's image as a function of its own, so that its
# reserved concurrency caps what a backfill takes whatever engine drives it (S3 Batch Operations
# has no concurrency setting of its own), and published, so that a job invokes one version.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id    = data.aws_caller_identity.current.account_id
  partition     = data.aws_partition.current.partition
  region        = data.aws_region.current.id
  function_arn  = "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${var.name}"
  source_bucket = "arn:${local.partition}:s3:::${var.source_location.bucket}"
  output_bucket = "arn:${local.partition}:s3:::${var.output.bucket}"
  reports       = "arn:${local.partition}:s3:::${var.reports.bucket}/${var.reports.prefix}"
  inventories   = [for b in var.inventory_buckets : "arn:${local.partition}:s3:::${b}/*"]
}

resource "aws_cloudwatch_log_group" "function" {
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:Both engines invoke the function synchronously and retry failed tasks themselves; a dead-letter queue serves asynchronous invocations only.
  #checkov:skip=CKV_AWS_272:Code signing applies to .zip packages only; this function is a container image pinned by digest.
  #checkov:skip=CKV_AWS_117:The function reaches S3 only, as the upload function does; a VPC would need an S3 endpoint and adds nothing here.
  function_name = var.name
  description   = "gdal-lambda for backfills (S3 Batch Operations, Step Functions Distributed Map)"
  role          = module.function.arn

  package_type  = "Image"
  image_uri     = var.image_uri
  architectures = [var.architecture]
  publish       = true

  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrency
  kms_key_arn                    = var.kms_key_arn

  environment {
    variables = merge(var.item_settings.environment, {
      OUTPUT_URL      = "s3://${var.output.bucket}/${var.output.prefix}"
      MAX_CONCURRENCY = tostring(var.max_concurrency)
    })
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.function.name
  }

  tracing_config {
    mode = "Active"
  }

  tags = var.tags

  depends_on = [module.function]
}
