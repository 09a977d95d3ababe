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
