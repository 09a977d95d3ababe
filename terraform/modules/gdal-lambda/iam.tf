# Access: the function's execution role and its policy, and the resource policies that let the
# watched bucket, the upload queue and the EventBridge rule reach the function and its queues.

locals {
  # Every role of the module: the caller's path, permissions boundary and tags.
  iam = { path = var.role_path, permissions_boundary = var.role_permissions_boundary, tags = var.tags }
}

module "role" {
  source = "../service-role"

  service        = "lambda.amazonaws.com"
  assume_sid     = "LambdaAssumesThisFunctionsRole"
  source_account = local.account_id
  source_arn     = local.function_arn
  name_prefix    = "${substr(var.function_name, 0, 30)}-role-"
  description    = "Execution role of the ${var.function_name} Lambda function"
  policy_name    = "${var.function_name}-lambda"
  policy_json    = data.aws_iam_policy_document.this.json
  kms_key_arns   = local.kms_key_arns
  iam            = local.iam
}

# Deployments made before the role was a module keep their role.
moved {
  from = aws_iam_role.this
  to   = module.role.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.this
  to   = module.role.aws_iam_role_policy.this
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

# --- Who may invoke the function, and send to its queues -----------------------------------

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
