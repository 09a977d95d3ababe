data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id    = data.aws_caller_identity.current.account_id
  partition     = data.aws_partition.current.partition
  function_arn  = "arn:${local.partition}:lambda:${data.aws_region.current.name}:${local.account_id}:function:${var.function_name}"
  watch_bucket  = "arn:${local.partition}:s3:::${var.watch.bucket}"
  output_bucket = coalesce(var.output.bucket, var.watch.bucket)
  kms_key_arns  = distinct(compact(concat(var.bucket_kms_key_arns, [var.kms_key_arn])))
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
  sqs_managed_sse_enabled           = var.kms_key_arn == null ? true : null
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = var.kms_key_arn == null ? null : 3600
  tags                              = var.tags
}

data "aws_iam_policy_document" "assume" {
  statement {
    sid     = "LambdaAssumesThisFunctionsRole"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }

    # Only on behalf of this function in this account (confused deputy).
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [local.function_arn]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.function_name}-lambda"
  description        = "Execution role of the ${var.function_name} Lambda function"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "this" {
  statement {
    sid       = "ReadWatchedRasters"
    actions   = ["s3:GetObject"]
    resources = ["${local.watch_bucket}/${var.watch.prefix}*"]
  }

  statement {
    sid       = "WriteStacItems"
    actions   = ["s3:PutObject"]
    resources = ["arn:${local.partition}:s3:::${local.output_bucket}/${var.output.prefix}*"]
  }

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }

  statement {
    sid       = "SendFailedEvents"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.failures.arn]
  }

  dynamic "statement" {
    for_each = length(local.kms_key_arns) > 0 ? [1] : []

    content {
      sid       = "UseEncryptionKeys"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = local.kms_key_arns
    }
  }

  dynamic "statement" {
    for_each = var.tracing_mode == "Active" ? [1] : []

    content {
      sid     = "WriteTraces"
      actions = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      # X-Ray has no resource-level permissions for these actions.
      resources = ["*"]
    }
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "${var.function_name}-lambda"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

resource "aws_iam_role_policy_attachment" "vpc" {
  count = var.vpc == null ? 0 : 1

  role       = aws_iam_role.this.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:Failed asynchronous events go to the on-failure destination (the SQS queue below), which supersedes a DLQ and also carries the error and request context.
  #checkov:skip=CKV_AWS_272:Code signing applies to .zip packages only; this function is a container image pinned by digest.
  function_name = var.function_name
  description   = var.description
  role          = aws_iam_role.this.arn

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
    })
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

  # The role must be able to log (and the log group exist) before the first invocation.
  depends_on = [aws_iam_role_policy.this, aws_iam_role_policy_attachment.vpc]
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

resource "aws_lambda_permission" "s3" {
  statement_id   = "InvokeFromWatchedBucket"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.this.function_name
  principal      = "s3.amazonaws.com"
  source_arn     = local.watch_bucket
  source_account = local.account_id
}

resource "aws_s3_bucket_notification" "this" {
  count = var.create_bucket_notification ? 1 : 0

  bucket = var.watch.bucket

  dynamic "lambda_function" {
    for_each = var.watch.suffixes

    content {
      id                  = "${var.function_name}-${lambda_function.key}"
      lambda_function_arn = aws_lambda_function.this.arn
      events              = var.watch.events
      filter_prefix       = var.watch.prefix == "" ? null : var.watch.prefix
      filter_suffix       = lambda_function.value
    }
  }

  # S3 test-invokes the function when the notification is saved.
  depends_on = [aws_lambda_permission.s3]
}
