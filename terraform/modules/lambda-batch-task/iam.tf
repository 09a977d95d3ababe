# Access: the job role (what the runner and the function's code may do) and, unless
# `execution_role_arn` is given, the execution role (what ECS needs to start the container).

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    # Only for tasks of this account (confused deputy).
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

# The job role: what the runner and the function's code may do.
resource "aws_iam_role" "job" {
  name_prefix          = "${local.role_prefix}-job-"
  path                 = var.role_path
  permissions_boundary = var.role_permissions_boundary
  description          = "Job role of the ${var.name} Batch job definition (runs ${local.function_name})"
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  tags                 = var.tags
}

data "aws_iam_policy_document" "job" {
  statement {
    sid     = "ReadFunction"
    actions = ["lambda:GetFunction"]
    # The function, and its versions and aliases.
    resources = [var.lambda_function_arn, "${var.lambda_function_arn}:*"]
  }

  dynamic "statement" {
    for_each = length(var.lambda_layer_arns) > 0 ? [1] : []

    content {
      sid       = "ReadLayers"
      actions   = ["lambda:GetLayerVersion"]
      resources = var.lambda_layer_arns
    }
  }

  statement {
    sid       = "ReadWritePayloads"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["arn:${local.partition}:s3:::${var.payload.bucket}/${var.payload.prefix}*"]
  }

  dynamic "statement" {
    for_each = var.payload_kms_key_arn == null ? [] : [1]

    content {
      sid       = "UsePayloadKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [var.payload_kms_key_arn]
    }
  }
}

resource "aws_iam_role_policy" "job" {
  name   = "${var.name}-job"
  role   = aws_iam_role.job.id
  policy = data.aws_iam_policy_document.job.json
}

resource "aws_iam_role_policy" "additional" {
  count = var.additional_policy_json == null ? 0 : 1

  name   = "${var.name}-function"
  role   = aws_iam_role.job.id
  policy = var.additional_policy_json
}

# The execution role: what ECS needs to start the containers (run-lambda's image and, for a
# container-image function, the function's own).
resource "aws_iam_role" "execution" {
  count = local.create_execution_role ? 1 : 0

  name_prefix          = "${local.role_prefix}-exec-"
  path                 = var.role_path
  permissions_boundary = var.role_permissions_boundary
  description          = "Pulls the image and writes logs for the ${var.name} Batch job definition"
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  tags                 = var.tags
}

data "aws_iam_policy_document" "execution" {
  count = local.create_execution_role ? 1 : 0

  dynamic "statement" {
    for_each = length(local.ecr_repositories) == 0 ? [] : [1]

    content {
      sid       = "PullImage"
      actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
      resources = local.ecr_repositories
    }
  }

  dynamic "statement" {
    for_each = length(local.ecr_repositories) == 0 ? [] : [1]

    content {
      sid     = "LogInToRegistry"
      actions = ["ecr:GetAuthorizationToken"]
      # GetAuthorizationToken has no resource-level permissions.
      resources = ["*"]
    }
  }

  statement {
    sid       = "WriteJobLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${local.log_group_arn}:*"]
  }
}

resource "aws_iam_role_policy" "execution" {
  count = local.create_execution_role ? 1 : 0

  name   = "${var.name}-execution"
  role   = aws_iam_role.execution[0].id
  policy = data.aws_iam_policy_document.execution[0].json
}
