# How uploads reach the function (`trigger`): the bucket notification (to the function for "s3",
# to the upload queue for "sqs", to EventBridge for "eventbridge"), the upload queues and their
# event source mapping, and the EventBridge rule. Who may invoke the function or send to its
# queues is in iam.tf.

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

resource "aws_lambda_event_source_mapping" "uploads" {
  count = local.via_sqs ? 1 : 0

  event_source_arn                   = aws_sqs_queue.uploads[0].arn
  function_name                      = aws_lambda_function.this.arn
  batch_size                         = var.sqs.batch_size
  maximum_batching_window_in_seconds = var.sqs.maximum_batching_window_seconds
  # Only the messages the handler lists in batchItemFailures are delivered again.
  function_response_types = ["ReportBatchItemFailures"]

  depends_on = [module.role]
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
