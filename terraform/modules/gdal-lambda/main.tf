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

# Role names are account-wide: a generated suffix keeps stacks and regions apart (prefixes ≤ 38 characters).
resource "aws_iam_role" "this" {
  name_prefix          = "${substr(var.function_name, 0, 30)}-role-"
  path                 = var.role_path
  permissions_boundary = var.role_permissions_boundary
  description          = "Execution role of the ${var.function_name} Lambda function"
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  tags                 = var.tags
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
    for_each = local.via_sqs ? [1] : []

    content {
      sid       = "ReadUploadQueue"
      actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
      resources = [aws_sqs_queue.uploads[0].arn]
    }
  }

  dynamic "statement" {
    for_each = length(local.kms_key_arns) > 0 ? [1] : []

    content {
      sid       = "UseEncryptionKeys"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = local.kms_key_arns
    }
  }

  # In a VPC, Lambda manages the function's network interfaces with the function's role. These
  # are the network actions of AWS's AWSLambdaVPCAccessExecutionRole, without the logs:* on "*"
  # it also grants (the statement above scopes logs to the function's own group).
  dynamic "statement" {
    for_each = var.vpc == null ? [] : [1]

    content {
      sid = "ManageVpcNetworkInterfaces"
      actions = [
        "ec2:CreateNetworkInterface",
        "ec2:DeleteNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
      ]
      # Lambda names no network interface in advance, and the Describe actions have no resource-level permissions.
      resources = ["*"]
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
      }, local.via_sqs ? {
      # The event source mapping reads the handler's batchItemFailures (ReportBatchItemFailures).
      REPORT_BATCH_ITEM_FAILURES = "true"
    } : {})
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
  depends_on = [aws_iam_role_policy.this]
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
  count = local.via_s3 ? 1 : 0

  statement_id   = "InvokeFromWatchedBucket"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.this.function_name
  principal      = "s3.amazonaws.com"
  source_arn     = local.watch_bucket
  source_account = local.account_id
}

moved {
  from = aws_lambda_permission.s3
  to   = aws_lambda_permission.s3[0]
}

resource "aws_s3_bucket_notification" "this" {
  count = var.create_bucket_notification ? 1 : 0

  bucket      = var.watch.bucket
  eventbridge = local.via_events

  dynamic "lambda_function" {
    for_each = local.via_s3 ? var.watch.suffixes : []

    content {
      id                  = "${var.function_name}-${lambda_function.key}"
      lambda_function_arn = aws_lambda_function.this.arn
      events              = var.watch.events
      filter_prefix       = var.watch.prefix == "" ? null : var.watch.prefix
      filter_suffix       = lambda_function.value
    }
  }

  dynamic "queue" {
    for_each = local.via_sqs ? var.watch.suffixes : []

    content {
      id            = "${var.function_name}-${queue.key}"
      queue_arn     = aws_sqs_queue.uploads[0].arn
      events        = var.watch.events
      filter_prefix = var.watch.prefix == "" ? null : var.watch.prefix
      filter_suffix = queue.value
    }
  }

  # S3 test-invokes the function (or queue) when the notification is saved.
  depends_on = [aws_lambda_permission.s3, aws_sqs_queue_policy.uploads]
}

# --- trigger = "sqs": S3 -> queue (-> dead-letter queue) -> function --------------------------

resource "aws_sqs_queue" "uploads_dead" {
  count = local.via_sqs ? 1 : 0

  name                              = "${var.function_name}-uploads-dlq"
  message_retention_seconds         = var.sqs.message_retention_seconds
  sqs_managed_sse_enabled           = local.queue_sse.managed
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = local.queue_sse.key_reuse_seconds
  tags                              = var.tags
}

resource "aws_sqs_queue" "uploads" {
  count = local.via_sqs ? 1 : 0

  name                      = "${var.function_name}-uploads"
  message_retention_seconds = var.sqs.message_retention_seconds
  # AWS's advice for Lambda event sources: at least six times the function's timeout.
  visibility_timeout_seconds        = 6 * var.timeout
  sqs_managed_sse_enabled           = local.queue_sse.managed
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = local.queue_sse.key_reuse_seconds
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.uploads_dead[0].arn
    maxReceiveCount     = var.sqs.max_receive_count
  })
  tags = var.tags
}

data "aws_iam_policy_document" "uploads" {
  count = local.via_sqs ? 1 : 0

  statement {
    sid       = "WatchedBucketSendsUploads"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.uploads[0].arn]

    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [local.watch_bucket]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_sqs_queue_policy" "uploads" {
  count = local.via_sqs ? 1 : 0

  queue_url = aws_sqs_queue.uploads[0].url
  policy    = data.aws_iam_policy_document.uploads[0].json
}

resource "aws_lambda_event_source_mapping" "uploads" {
  count = local.via_sqs ? 1 : 0

  event_source_arn                   = aws_sqs_queue.uploads[0].arn
  function_name                      = aws_lambda_function.this.arn
  batch_size                         = var.sqs.batch_size
  maximum_batching_window_in_seconds = var.sqs.maximum_batching_window_seconds
  # Only the messages the handler lists in batchItemFailures are delivered again.
  function_response_types = ["ReportBatchItemFailures"]

  depends_on = [aws_iam_role_policy.this]
}

# --- trigger = "eventbridge": S3 -> EventBridge rule -> function ----------------------------

resource "aws_cloudwatch_event_rule" "uploads" {
  count = local.via_events ? 1 : 0

  name        = "${var.function_name}-uploads"
  description = "Objects created under the watched prefix of ${var.watch.bucket}"
  event_pattern = jsonencode({
    source      = ["aws.s3"]
    detail-type = ["Object Created"]
    detail = {
      bucket = { name = [var.watch.bucket] }
      # EventBridge keys are plain (not form-encoded); `*` is the only wildcard.
      object = { key = [for s in var.watch.suffixes : { wildcard = "${replace(var.watch.prefix, "*", "\\*")}*${replace(s, "*", "\\*")}" }] }
    }
  })
  tags = var.tags
}

resource "aws_cloudwatch_event_target" "uploads" {
  count = local.via_events ? 1 : 0

  rule = aws_cloudwatch_event_rule.uploads[0].name
  arn  = aws_lambda_function.this.arn

  # Events EventBridge could not deliver go to the failure queue too.
  dead_letter_config {
    arn = aws_sqs_queue.failures.arn
  }

  # Retries of the delivery itself (throttling, say); the function's own errors follow its
  # asynchronous retries and on-failure destination above.
  retry_policy {
    maximum_event_age_in_seconds = var.maximum_event_age_seconds
    maximum_retry_attempts       = 185
  }
}

resource "aws_lambda_permission" "events" {
  count = local.via_events ? 1 : 0

  statement_id  = "InvokeFromUploadRule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.uploads[0].arn
}

data "aws_iam_policy_document" "failures" {
  count = local.via_events ? 1 : 0

  statement {
    sid       = "UploadRuleSendsUndelivered"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.failures.arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.uploads[0].arn]
    }
  }
}

resource "aws_sqs_queue_policy" "failures" {
  count = local.via_events ? 1 : 0

  queue_url = aws_sqs_queue.failures.url
  policy    = data.aws_iam_policy_document.failures[0].json
}
