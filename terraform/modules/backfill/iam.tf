# Access: the function's role (read the source, read and write Items), the S3 Batch Operations
# job role (read manifests, invoke the function's published version, write reports) and the
# state machine's role (list or read the items, invoke the function, write results).

locals {
  # Every role of the module: the caller's path, permissions boundary and tags.
  iam = { path = var.role_path, permissions_boundary = var.role_permissions_boundary, tags = var.tags }
}

# --- the function -------------------------------------------------------------

data "aws_iam_policy_document" "function" {
  # What the Items' settings need (a Collection to widen, a topic or queue to publish to).
  source_policy_documents = compact([var.item_settings.policy_json])

  statement {
    sid       = "ReadSourceRasters"
    actions   = ["s3:GetObject"]
    resources = ["${local.source_bucket}/${var.source_location.prefix}*"]
  }

  # GetObject covers the HEAD that finds an Item current (its metadata names the source's ETag).
  statement {
    sid       = "ReadAndWriteStacItems"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${local.output_bucket}/${var.output.prefix}*"]
  }

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.function.arn}:*"]
  }

  statement {
    sid     = "WriteTraces"
    actions = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    # X-Ray has no resource-level permissions for these actions.
    resources = ["*"]
  }
}

module "function" {
  source = "../service-role"

  service        = "lambda.amazonaws.com"
  assume_sid     = "LambdaAssumesThisFunctionsRole"
  source_account = local.account_id
  source_arn     = local.function_arn
  name_prefix    = "${substr(var.name, 0, 30)}-fn-"
  description    = "Execution role of the ${var.name} backfill function"
  policy_name    = "backfill"
  policy_json    = data.aws_iam_policy_document.function.json
  kms_key_arns   = var.kms_key_arn == null ? [] : [var.kms_key_arn]
  iam            = local.iam
}

moved {
  from = aws_iam_role.function
  to   = module.function.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.function
  to   = module.function.aws_iam_role_policy.this
}

# --- S3 Batch Operations --------------------------------------------------------

data "aws_iam_policy_document" "batch_operations" {
  statement {
    sid       = "InvokePublishedFunction"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.this.qualified_arn]
  }

  statement {
    sid       = "ReadManifests"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = concat(["${local.reports}*"], local.inventories)
  }

  # Completion reports, and the manifests S3JobManifestGenerator writes.
  statement {
    sid       = "WriteReports"
    actions   = ["s3:PutObject"]
    resources = ["${local.reports}*"]
  }

  statement {
    sid       = "LocateReportBucket"
    actions   = ["s3:GetBucketLocation"]
    resources = ["arn:${local.partition}:s3:::${var.reports.bucket}"]
  }

  # S3JobManifestGenerator lists the source bucket through an inventory configuration of its own.
  statement {
    sid       = "GenerateManifests"
    actions   = ["s3:PutInventoryConfiguration"]
    resources = [local.source_bucket]
  }
}

module "batch_operations" {
  source = "../service-role"

  service        = "batchoperations.s3.amazonaws.com"
  assume_sid     = "BatchOperationsAssumesJobRole"
  source_account = local.account_id
  name_prefix    = "${substr(var.name, 0, 29)}-s3batch-"
  description    = "Role of the S3 Batch Operations jobs that run ${var.name} over a bucket"
  policy_name    = "backfill"
  policy_json    = data.aws_iam_policy_document.batch_operations.json
  iam            = local.iam
}

moved {
  from = aws_iam_role.batch_operations
  to   = module.batch_operations.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.batch_operations
  to   = module.batch_operations.aws_iam_role_policy.this
}
