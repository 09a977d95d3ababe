# The Step Functions alternative: a Distributed Map over a prefix listing (input
# {"bucket": "…", "prefix": "…"}) or an S3 Inventory manifest (input {"inventory": {"bucket": "…",
# "key": "…/manifest.json"}}), batched, bounded, retried, its results written to the reports prefix.

locals {
  state_machine      = var.state_machine.enabled
  state_machine_name = "${var.name}-map"
  state_machine_arn  = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${local.state_machine_name}"
  max_concurrency    = coalesce(var.state_machine.max_concurrency, var.reserved_concurrency)

  # One batch: the function answers per item; a transient failure fails the batch, which is
  # retried (current Items cost a HEAD the second time); permanent failures are in the results.
  describe_batch = {
    StartAt = "Describe"
    States = {
      Describe = {
        Type     = "Task"
        Resource = "arn:${local.partition}:states:::lambda:invoke"
        Parameters = {
          FunctionName = aws_lambda_function.this.qualified_arn
          "Payload.$"  = "$"
        }
        OutputPath = "$.Payload"
        Retry = [{
          ErrorEquals     = ["TransientFailure", "Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException", "Lambda.Unknown", "States.Timeout"]
          IntervalSeconds = 5
          MaxAttempts     = 5
          BackoffRate     = 2
          JitterStrategy  = "FULL"
        }]
        End = true
      }
    }
    ProcessorConfig = { Mode = "DISTRIBUTED", ExecutionType = var.state_machine.execution_type }
  }
  map_settings = {
    Type                       = "Map"
    MaxConcurrency             = local.max_concurrency
    ToleratedFailurePercentage = var.state_machine.tolerated_failure_percentage
    ItemProcessor              = local.describe_batch
    ResultWriter = {
      Resource   = "arn:${local.partition}:states:::s3:putObject"
      Parameters = { Bucket = var.reports.bucket, Prefix = "${var.reports.prefix}map" }
    }
    End = true
  }

  definition = {
    Comment = "Items for every raster of a prefix or an S3 Inventory, by ${var.name}"
    StartAt = "Source"
    States = {
      Source = {
        Type    = "Choice"
        Choices = [{ Variable = "$.inventory", IsPresent = true, Next = "Inventory" }]
        Default = "Listing"
      }
      Listing = merge(local.map_settings, {
        ItemReader = {
          Resource   = "arn:${local.partition}:states:::s3:listObjectsV2"
          Parameters = { "Bucket.$" = "$.bucket", "Prefix.$" = "$.prefix" }
        }
        # A listing's items carry no bucket: the batch gives it.
        ItemBatcher = {
          MaxItemsPerBatch = var.state_machine.items_per_batch
          BatchInput       = { "bucket.$" = "$.bucket" }
        }
      })
      Inventory = merge(local.map_settings, {
        ItemReader = {
          ReaderConfig = { InputType = "MANIFEST" }
          Resource     = "arn:${local.partition}:states:::s3:getObject"
          Parameters   = { "Bucket.$" = "$.inventory.bucket", "Key.$" = "$.inventory.key" }
        }
        ItemBatcher = { MaxItemsPerBatch = var.state_machine.items_per_batch }
      })
    }
  }
}

resource "aws_cloudwatch_log_group" "state_machine" {
  count = local.state_machine ? 1 : 0

  name              = "/aws/vendedlogs/states/${local.state_machine_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_sfn_state_machine" "this" {
  count = local.state_machine ? 1 : 0

  name       = local.state_machine_name
  role_arn   = module.state_machine[0].arn
  definition = jsonencode(local.definition)

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.state_machine[0].arn}:*"
    include_execution_data = true
    level                  = "ERROR"
  }

  tracing_configuration {
    enabled = true
  }

  dynamic "encryption_configuration" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]

    content {
      type                              = "CUSTOMER_MANAGED_KMS_KEY"
      kms_key_id                        = encryption_configuration.value
      kms_data_key_reuse_period_seconds = 300
    }
  }

  tags = var.tags

  depends_on = [module.state_machine]
}

data "aws_iam_policy_document" "state_machine" {
  statement {
    sid       = "InvokePublishedFunction"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.this.qualified_arn]
  }

  # The listing reader's ListObjectsV2, within the source prefix only.
  statement {
    sid       = "ListSource"
    actions   = ["s3:ListBucket"]
    resources = [local.source_bucket]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.source_location.prefix}*"]
    }
  }

  dynamic "statement" {
    for_each = length(local.inventories) > 0 ? [1] : []

    content {
      sid       = "ReadInventories"
      actions   = ["s3:GetObject"]
      resources = local.inventories
    }
  }

  statement {
    sid       = "WriteResults"
    actions   = ["s3:PutObject", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"]
    resources = ["${local.reports}*"]
  }

  # A Distributed Map runs its batches as child executions of this state machine.
  statement {
    sid       = "RunChildExecutions"
    actions   = ["states:StartExecution"]
    resources = [local.state_machine_arn]
  }

  statement {
    sid       = "WatchChildExecutions"
    actions   = ["states:DescribeExecution", "states:StopExecution"]
    resources = ["arn:${local.partition}:states:${local.region}:${local.account_id}:execution:${local.state_machine_name}/*"]
  }

  statement {
    sid = "DeliverLogsAndTraces"
    actions = [
      "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
      "xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
    ]
    # CloudWatch Logs' vended delivery and X-Ray take no resource-level permissions for these.
    resources = ["*"]
  }
}

module "state_machine" {
  source = "../service-role"
  count  = local.state_machine ? 1 : 0


  service        = "states.amazonaws.com"
  assume_sid     = "StepFunctionsAssumesStateMachineRole"
  source_account = local.account_id
  name_prefix    = "${substr(var.name, 0, 30)}-map-"
  description    = "Role of the ${local.state_machine_name} state machine"
  policy_name    = "backfill"
  policy_json    = data.aws_iam_policy_document.state_machine.json
  kms_key_arns   = var.kms_key_arn == null ? [] : [var.kms_key_arn]
  iam            = local.iam
}

moved {
  from = aws_iam_role.state_machine[0]
  to   = module.state_machine[0].aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.state_machine[0]
  to   = module.state_machine[0].aws_iam_role_policy.this
}
