data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id    = data.aws_caller_identity.current.account_id
  partition     = data.aws_partition.current.partition
  function_arn  = "arn:${local.partition}:lambda:${data.aws_region.current.id}:${local.account_id}:function:${var.function_name}"
  watch_bucket  = "arn:${local.partition}:s3:::${var.watch.bucket}"
  output_bucket = coalesce(var.output.bucket, var.watch.bucket)
  kms_key_arns  = distinct(compact(concat(var.bucket_kms_key_arns, [var.kms_key_arn])))
  via_s3        = var.trigger == "s3"
  via_sqs       = var.trigger == "sqs"
  via_events    = var.trigger == "eventbridge"
  # Every queue of the module: SQS-managed encryption, or the given key.
  queue_sse = {
    managed           = var.kms_key_arn == null ? true : null
    key_reuse_seconds = var.kms_key_arn == null ? null : 3600
  }
}

# What becomes of each Item besides its write (a Collection, a thumbnail, messages), for this
# function and any other that writes the same Items (the backfill module's): its settings, and
# the policy they need.
locals {
  item_settings = {
    environment = merge(var.collection_id == null ? {} : {
      # The STAC Collection at <output prefix>collection.json, widened after each Item (collection.tf).
      COLLECTION_ID = var.collection_id
      }, var.thumbnail.format == "none" ? {} : {
      # Thumbnails from each COG's smallest overview, written beside its Item (under OUTPUT_URL).
      THUMBNAIL_FORMAT    = var.thumbnail.format
      THUMBNAIL_MAX_BYTES = tostring(var.thumbnail.max_bytes)
    }, local.publish_environment)
    policy_json = local.publishes || var.collection_id != null ? data.aws_iam_policy_document.item_settings.json : null
  }
}

data "aws_iam_policy_document" "item_settings" {
  source_policy_documents = concat(
    data.aws_iam_policy_document.publish[*].json,
    data.aws_iam_policy_document.collection[*].json,
  )
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

# Events whose retries are exhausted (or too old) land here, with the error and request context.
resource "aws_sqs_queue" "failures" {
  name                              = "${var.function_name}-failures"
  message_retention_seconds         = var.failure_retention_seconds
  sqs_managed_sse_enabled           = local.queue_sse.managed
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = local.queue_sse.key_reuse_seconds
  tags                              = var.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:Failed asynchronous events go to the on-failure destination (the SQS queue below), which supersedes a DLQ and also carries the error and request context.
  #checkov:skip=CKV_AWS_272:Code signing applies to .zip packages only; this function is a container image pinned by digest.
  function_name = var.function_name
  description   = var.description
  role          = module.role.arn

  package_type  = "Image"
  image_uri     = var.image_uri
  architectures = [var.architecture]

  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrent_executions
  kms_key_arn                    = var.kms_key_arn

  ephemeral_storage {
    size = var.ephemeral_storage_mb
  }

  environment {
    variables = merge(var.environment_variables, {
      # Where STAC Items go: s3://<bucket>/<prefix>; the handler also skips objects there.
      OUTPUT_URL = "s3://${local.output_bucket}/${var.output.prefix}"
      }, local.via_sqs ? {
      # The event source mapping reads the handler's batchItemFailures (ReportBatchItemFailures).
      REPORT_BATCH_ITEM_FAILURES = "true"
    } : {}, local.item_settings.environment)
  }

  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.this.name
    application_log_level = var.application_log_level
    system_log_level      = var.system_log_level
  }

  tracing_config {
    mode = var.tracing_mode
  }

  dynamic "vpc_config" {
    for_each = var.vpc == null ? [] : [var.vpc]

    content {
      subnet_ids         = vpc_config.value.subnet_ids
      security_group_ids = vpc_config.value.security_group_ids
    }
  }

  tags = var.tags

  # The role must be able to log (and the log group exist) before the first invocation,
  # and to publish and widen the Collection before the first Item is written.
  depends_on = [module.role, aws_iam_role_policy.publish, aws_iam_role_policy.collection]
}

resource "aws_lambda_function_event_invoke_config" "this" {
  function_name                = aws_lambda_function.this.function_name
  maximum_retry_attempts       = var.maximum_retry_attempts
  maximum_event_age_in_seconds = var.maximum_event_age_seconds

  destination_config {
    on_failure {
      destination = aws_sqs_queue.failures.arn
    }
  }
}
