data "aws_caller_identity" "current" {}

# The function's runtime and architecture pick the image (unless given).
data "aws_lambda_function" "this" {
  count = var.function_runtime == null ? 1 : 0

  function_name = var.lambda_function_arn
}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.id
  # Batch's default log group, where Cirrus' post-batch reads a failed job's last line.
  batch_log_group = "/aws/batch/job"
  own_log_group   = var.log_group_name != null
  log_group_name  = local.own_log_group ? var.log_group_name : local.batch_log_group
  log_group_arn   = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.log_group_name}"
  function_name   = split(":", var.lambda_function_arn)[6]
  # Role names are account-wide: a generated suffix keeps stacks and regions apart (prefixes ≤ 38 characters).
  role_prefix = substr(var.name, 0, 26)
  is_fargate  = var.platform == "FARGATE"

  runtime = var.function_runtime != null ? var.function_runtime : data.aws_lambda_function.this[0].runtime
  # The function's architectures (Lambda's names); not read, so not checked, when the runtime is given.
  function_architectures = var.function_runtime != null ? [] : data.aws_lambda_function.this[0].architectures
  job_architecture       = var.cpu_architecture == "ARM64" ? "arm64" : "x86_64"
  # Null when no image was built for the runtime (or the function is an image function,
  # whose runtime is ""): the job definition's precondition says which.
  image_uri = lookup(var.image_uris, local.runtime, null)

  # When the image lives in ECR, the execution role created here may pull from that repository only.
  ecr = try(regex("^(?P<account>[0-9]{12})\\.dkr\\.ecr\\.(?P<region>[a-z0-9-]+)\\.amazonaws\\.com(?:\\.cn)?/(?P<repository>[a-z0-9._/-]+?)(?::[^@]+)?@", local.image_uri), null)

  create_execution_role = var.execution_role_arn == null
  execution_role_arn    = local.create_execution_role ? aws_iam_role.execution[0].arn : var.execution_role_arn

  container_properties = merge(
    {
      # The run-lambda contract (the same as cirrusgeo/run-lambda's): run <function> <payload url> --output <url_out>.
      command          = ["run", "Ref::lambda_function", "Ref::url", "--output", "Ref::url_out"]
      image            = local.image_uri
      jobRoleArn       = aws_iam_role.job.arn
      executionRoleArn = local.execution_role_arn
      resourceRequirements = [
        { type = "VCPU", value = tostring(var.vcpus) },
        { type = "MEMORY", value = tostring(var.memory_mib) },
      ]
      environment = [for k in sort(keys(var.environment)) : { name = k, value = var.environment[k] }]
    },
    # Without a group of its own the job keeps Batch's default logging (awslogs to /aws/batch/job).
    local.own_log_group ? {
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.this[0].name
          awslogs-region        = local.region
          awslogs-stream-prefix = var.name
        }
      }
    } : {},
    local.is_fargate ? {
      runtimePlatform = {
        operatingSystemFamily = "LINUX"
        cpuArchitecture       = var.cpu_architecture
      }
      fargatePlatformConfiguration = { platformVersion = "LATEST" }
      networkConfiguration         = { assignPublicIp = var.assign_public_ip ? "ENABLED" : "DISABLED" }
    } : {},
    local.is_fargate && var.ephemeral_storage_gib != null ? {
      ephemeralStorage = { sizeInGiB = var.ephemeral_storage_gib }
    } : {},
  )
}

resource "aws_cloudwatch_log_group" "this" {
  count = local.own_log_group ? 1 : 0

  name              = var.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
  tags              = var.tags
}

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

# The execution role: what ECS needs to start the container.
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
    for_each = local.ecr == null ? [] : [local.ecr]

    content {
      sid       = "PullImage"
      actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
      resources = ["arn:${local.partition}:ecr:${statement.value.region}:${statement.value.account}:repository/${statement.value.repository}"]
    }
  }

  dynamic "statement" {
    for_each = local.ecr == null ? [] : [1]

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

resource "aws_batch_job_definition" "this" {
  name                  = var.name
  type                  = "container"
  platform_capabilities = [var.platform]
  propagate_tags        = true
  scheduling_priority   = var.scheduling_priority

  parameters = {
    # The function's ARN: runs it in its own region and account, whatever the job's.
    lambda_function = var.lambda_function_arn
    # Cirrus (and `run-lambda submit`) set url and url_out for every job. An empty
    # default would make Batch drop the key and Terraform see drift on each plan.
    url     = "filler"
    url_out = "filler"
  }

  container_properties = jsonencode(local.container_properties)

  retry_strategy {
    attempts = var.retry_strategy.attempts

    dynamic "evaluate_on_exit" {
      for_each = var.retry_strategy.evaluate_on_exit

      content {
        action           = evaluate_on_exit.value.action
        on_exit_code     = evaluate_on_exit.value.on_exit_code
        on_reason        = evaluate_on_exit.value.on_reason
        on_status_reason = evaluate_on_exit.value.on_status_reason
      }
    }
  }

  timeout {
    attempt_duration_seconds = var.timeout_seconds
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition = local.image_uri != null
      error_message = (local.runtime == ""
        ? "${local.function_name} has no runtime: it is a container image function, and run-lambda runs the code of zip-packaged functions only."
        : "${local.function_name} runs on ${local.runtime}, but image_uris has images for ${join(", ", sort(keys(var.image_uris)))} only: build the ${local.runtime} image (`just build` builds every runtime of images/runtimes) and add it to image_uris."
      )
    }

    precondition {
      condition     = length(local.function_architectures) == 0 || contains(local.function_architectures, local.job_architecture)
      error_message = "${local.function_name} is built for ${join(", ", local.function_architectures)}, but the job runs ${local.job_architecture} images (cpu_architecture ${var.cpu_architecture}): its native packages would not load."
    }
  }

  depends_on = [aws_iam_role_policy.job, aws_iam_role_policy.execution]
}
