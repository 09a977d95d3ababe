data "aws_caller_identity" "current" {}

# The function's runtime and architecture pick the image (unless given); for a container-image
# function, its image and configuration make the job's second container.
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
  function_region = split(":", var.lambda_function_arn)[3]
  # Role names are account-wide: a generated suffix keeps stacks and regions apart (prefixes ≤ 38 characters).
  role_prefix = substr(var.name, 0, 26)
  is_fargate  = var.platform == "FARGATE"

  # The function as GetFunction describes it; null when function_runtime is given.
  function = one(data.aws_lambda_function.this)
  runtime  = var.function_runtime != null ? var.function_runtime : local.function.runtime
  # GetFunction gives a container-image function no runtime: its image is its runtime.
  is_image = var.function_image_uri != null || local.runtime == ""
  # The function's architectures (Lambda's names); not read, so not checked, when the runtime is given.
  function_architectures = var.function_runtime != null ? [] : local.function.architectures
  job_architecture       = var.cpu_architecture == "ARM64" ? "arm64" : "x86_64"
  # run-lambda is a static binary: any of its images serves an image function's job, or runs a
  # provided.* function's bootstrap.
  any_image = coalesce(var.runner_image_uri, values(var.image_uris)[length(var.image_uris) - 1])
  # The job's (run-lambda's) image: the one of the function's runtime. Null when no image was
  # built for the runtime: the job definition's precondition says which.
  image_uri          = local.is_image || startswith(local.runtime, "provided") ? local.any_image : lookup(var.image_uris, local.runtime, null)
  function_image_uri = local.is_image ? coalesce(var.function_image_uri, try(local.function.image_uri, null)) : null

  # When the images live in ECR, the execution role created here may pull from their repositories only.
  ecr_image = "^(?P<account>[0-9]{12})\\.dkr\\.ecr\\.(?P<region>[a-z0-9-]+)\\.amazonaws\\.com(?:\\.cn)?/(?P<repository>[a-z0-9._/-]+?)(?::[A-Za-z0-9_][A-Za-z0-9_.-]*)?(?:@sha256:[0-9a-f]{64})?$"
  ecr_repositories = distinct(compact([
    for uri in compact([local.image_uri, local.function_image_uri]) :
    try(format("arn:%s:ecr:%s:%s:repository/%s", local.partition, regex(local.ecr_image, uri).region, regex(local.ecr_image, uri).account, regex(local.ecr_image, uri).repository), null)
  ]))

  create_execution_role = var.execution_role_arn == null
  execution_role_arn    = local.create_execution_role ? aws_iam_role.execution[0].arn : var.execution_role_arn

  resource_requirements = [
    { type = "VCPU", value = tostring(var.vcpus) },
    { type = "MEMORY", value = tostring(var.memory_mib) },
  ]
  runner_environment = [for k in sort(keys(var.environment)) : { name = k, value = var.environment[k] }]
  # Without a group of its own the job keeps Batch's default logging (awslogs to /aws/batch/job).
  log_configuration = local.own_log_group ? {
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.this[0].name
        awslogs-region        = local.region
        awslogs-stream-prefix = var.name
      }
    }
  } : {}
  fargate_task = local.is_fargate ? {
    runtimePlatform = {
      operatingSystemFamily = "LINUX"
      cpuArchitecture       = var.cpu_architecture
    }
    networkConfiguration = { assignPublicIp = var.assign_public_ip ? "ENABLED" : "DISABLED" }
  } : {}
  ephemeral_storage = local.is_fargate && var.ephemeral_storage_gib != null ? {
    ephemeralStorage = { sizeInGiB = var.ephemeral_storage_gib }
  } : {}

  container_properties = merge(
    {
      # The run-lambda contract (the same as cirrusgeo/run-lambda's): run <function> <payload url> --output <url_out>.
      command              = ["run", "Ref::lambda_function", "Ref::url", "--output", "Ref::url_out"]
      image                = local.image_uri
      jobRoleArn           = aws_iam_role.job.arn
      executionRoleArn     = local.execution_role_arn
      resourceRequirements = local.resource_requirements
      environment          = local.runner_environment
    },
    local.log_configuration,
    local.fargate_task,
    local.is_fargate ? { fargatePlatformConfiguration = { platformVersion = "LATEST" } } : {},
    local.ephemeral_storage,
  )

  # A container-image function: a multi-container job whose containers share the task's
  # network. run-lambda (essential) serves the Runtime API on the task's loopback for one
  # invocation and ends the job when it ends; the function's own image (not essential: ECS stops
  # it with the task) runs with AWS_LAMBDA_RUNTIME_API pointing there and the variables Lambda
  # sets, as run-lambda's own `exec --image` gives them (docs/run-lambda.md).
  runtime_api = "127.0.0.1:9001"
  function_variables = {
    for k, v in try(local.function.environment[0].variables, {}) : k => v
    if !contains(local.lambda_reserved_variables, k)
  }
  function_logging = try(local.function.logging_config[0], {})
  lambda_variables = merge(
    {
      AWS_LAMBDA_RUNTIME_API          = local.runtime_api
      AWS_LAMBDA_FUNCTION_NAME        = local.function_name
      AWS_LAMBDA_FUNCTION_VERSION     = "$LATEST"
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE = tostring(try(local.function.memory_size, 128))
      AWS_LAMBDA_LOG_GROUP_NAME       = coalesce(try(local.function_logging.log_group, ""), "/aws/lambda/${local.function_name}")
      AWS_LAMBDA_LOG_STREAM_NAME      = "batch/[$LATEST]${var.name}"
      AWS_LAMBDA_INITIALIZATION_TYPE  = "on-demand"
      AWS_REGION                      = local.function_region
      AWS_DEFAULT_REGION              = local.function_region
      TZ                              = ":UTC"
    },
    try(local.function_logging.log_format, "") != "" ? { AWS_LAMBDA_LOG_FORMAT = local.function_logging.log_format } : {},
    try(local.function_logging.application_log_level, "") != "" ? { AWS_LAMBDA_LOG_LEVEL = local.function_logging.application_log_level } : {},
  )
  function_environment = merge(local.function_variables, local.lambda_variables)
  ecs_properties = {
    taskProperties = [merge(
      {
        containers = [
          merge(
            {
              name      = "run-lambda"
              image     = local.image_uri
              essential = true
              command = [
                "run-lambda", "serve", "Ref::lambda_function", "Ref::url", "--output", "Ref::url_out",
                "--listen", local.runtime_api, "--runtime-container", "function",
              ]
              environment = local.runner_environment
            },
            local.log_configuration,
          ),
          merge(
            {
              name      = "function"
              image     = local.function_image_uri
              essential = false
              # Started once run-lambda's process is: it listens before anything else.
              dependsOn            = [{ containerName = "run-lambda", condition = "START" }]
              environment          = [for k in sort(keys(local.function_environment)) : { name = k, value = local.function_environment[k] }]
              resourceRequirements = local.resource_requirements
            },
            var.image_config.entry_point != null ? { entryPoint = var.image_config.entry_point } : {},
            var.image_config.command != null ? { command = var.image_config.command } : {},
            var.image_config.working_directory != null ? { workingDirectory = var.image_config.working_directory } : {},
            local.log_configuration,
          ),
        ]
        executionRoleArn = local.execution_role_arn
        taskRoleArn      = aws_iam_role.job.arn
      },
      local.fargate_task,
      local.is_fargate ? { platformVersion = "LATEST" } : {},
      local.ephemeral_storage,
    )]
  }

  # Names Lambda reserves (run-lambda's list): a function cannot set them.
  lambda_reserved_variables = [
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_LAMBDA_RUNTIME_API", "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
  ]
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

  container_properties = local.is_image ? null : jsonencode(local.container_properties)
  ecs_properties       = local.is_image ? jsonencode(local.ecs_properties) : null

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
      condition     = local.image_uri != null
      error_message = "${local.function_name} runs on ${local.runtime}, but image_uris has images for ${join(", ", sort(keys(var.image_uris)))} only: build the ${local.runtime} image (`just build` builds every runtime of images/runtimes) and add it to image_uris."
    }

    precondition {
      condition     = length(local.function_architectures) == 0 || contains(local.function_architectures, local.job_architecture)
      error_message = "${local.function_name} is built for ${join(", ", local.function_architectures)}, but the job runs ${local.job_architecture} images (cpu_architecture ${var.cpu_architecture}): its native packages would not load."
    }

    precondition {
      condition     = local.is_image || (var.image_config.entry_point == null && var.image_config.command == null && var.image_config.working_directory == null)
      error_message = "image_config applies to container-image functions only, and ${local.function_name} runs on ${local.runtime}."
    }
  }

  depends_on = [aws_iam_role_policy.job, aws_iam_role_policy.execution]
}
