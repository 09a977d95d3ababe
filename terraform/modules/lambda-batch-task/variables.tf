variable "name" {
  description = "Name of the job definition; also names its roles (`<name>-job`, `<name>-execution`) and log group (`/aws/batch/<name>`)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{0,49}$", var.name))
    error_message = "name must be 1-50 letters, digits, `-` or `_`."
  }
}

variable "image_uris" {
  description = <<-EOT
    The run-lambda (or run-geolambda) images by the Lambda runtime each is built for (`python3.13`,
    `nodejs22.x`), pinned by digest (`<registry>/<repository>@sha256:<digest>`). The job runs the image of
    the function's runtime: an image refuses a function whose Python or Node.js version is not its own.
    A provided.* or container-image function runs in any of them (see `runner_image_uri`).
  EOT
  type        = map(string)
  nullable    = false

  validation {
    condition     = length(var.image_uris) > 0 && alltrue([for k in keys(var.image_uris) : can(regex("^(python3\\.[0-9]+|nodejs[0-9]+\\.x)$", k))])
    error_message = "image_uris must map Lambda runtimes (python3.13, nodejs22.x) to images."
  }

  validation {
    condition     = alltrue([for uri in values(var.image_uris) : can(regex("^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?@sha256:[0-9a-f]{64}$", uri))])
    error_message = "image_uris must hold images pinned by digest: <registry>/<repository>@sha256:<64 hex digits>."
  }
}

variable "function_runtime" {
  description = "The function's Lambda runtime (`python3.13`). Null reads it, and the function's architecture, from the function's configuration at plan time; set it when the function is created in the same apply (a new function, so not on a runtime Lambda deprecates; a container-image function must be read)."
  type        = string
  default     = null

  validation {
    condition     = var.function_runtime == null ? true : can(regex("^(python3\\.[0-9]+|nodejs[0-9]+\\.x|provided(\\.al2023)?)$", var.function_runtime))
    error_message = "function_runtime must be a python3.x, nodejsNN.x or provided.al2023 Lambda runtime."
  }

  validation {
    condition     = var.function_runtime == null ? true : !contains(keys(local.lambda_runtime_deprecations), var.function_runtime)
    error_message = "function_runtime ${coalesce(var.function_runtime, "-")} is deprecated by Lambda (on ${lookup(local.lambda_runtime_deprecations, coalesce(var.function_runtime, "-"), "-")}): a function created with this configuration must use a current runtime. Jobs of existing functions on it still run: leave function_runtime null so that the module reads the function."
  }
}

variable "image_config" {
  description = <<-EOT
    For a container-image function: its `ImageConfig` overrides of the image's `ENTRYPOINT`, `CMD` and
    `WORKDIR` (the values of its `aws_lambda_function`'s `image_config`), which the function's
    data source does not read. Empty keeps the image's own. An entry point needs a command as well:
    ECS, unlike Lambda, drops the image's `CMD` when the entry point is replaced.
  EOT
  type = object({
    entry_point       = optional(list(string))
    command           = optional(list(string))
    working_directory = optional(string)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.image_config.entry_point == null || var.image_config.command != null
    error_message = "image_config.entry_point needs image_config.command too (the image's CMD is not kept when the entry point is replaced)."
  }
}

variable "function_image_uri" {
  description = "For a container-image function deployed in the same apply: its image (the `image_uri` of its `aws_lambda_function`), so that the job runs the image the apply deploys. Null takes the image GetFunction reports at plan time, which an update in the same apply makes the previous one until the next apply."
  type        = string
  default     = null

  validation {
    condition     = var.function_image_uri == null || var.function_runtime == null
    error_message = "function_image_uri is for a container-image function, which has no function_runtime."
  }
}

variable "runner_image_uri" {
  description = "The run-lambda image of the job's `run-lambda serve` container for a container-image function (and of a provided.* function's job), pinned by digest. Null takes the last of `image_uris` by runtime name: run-lambda is a static binary, any of its images will do."
  type        = string
  default     = null

  validation {
    condition     = var.runner_image_uri == null || can(regex("^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?@sha256:[0-9a-f]{64}$", var.runner_image_uri))
    error_message = "runner_image_uri must be pinned by digest: <registry>/<repository>@sha256:<64 hex digits>."
  }
}

variable "lambda_function_arn" {
  description = "ARN (unqualified) of the Lambda function whose code the job runs. The job role may read this function only."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}$", var.lambda_function_arn))
    error_message = "lambda_function_arn must be an unqualified function ARN (arn:aws:lambda:<region>:<account>:function:<name>)."
  }
}

variable "lambda_layer_arns" {
  description = "Version ARNs of the function's layers; the job role may read these layers (`lambda:GetLayerVersion`)."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for l in var.lambda_layer_arns : can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:layer:[A-Za-z0-9_-]+:[0-9]+$", l))])
    error_message = "lambda_layer_arns must be layer version ARNs (arn:aws:lambda:<region>:<account>:layer:<name>:<version>)."
  }
}

variable "payload" {
  description = "Bucket (name) and key prefix of the Cirrus payloads the job reads (`url`) and writes (`url_out`)."
  type = object({
    bucket = string
    prefix = optional(string, "")
  })
  nullable = false

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.payload.bucket))
    error_message = "payload.bucket must be a bucket name (not an ARN)."
  }

  validation {
    condition     = !startswith(var.payload.prefix, "/")
    error_message = "payload.prefix must not start with `/`."
  }
}

variable "payload_kms_key_arn" {
  description = "Customer managed KMS key of the payload bucket, if any."
  type        = string
  default     = null

  validation {
    condition     = var.payload_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.payload_kms_key_arn))
    error_message = "payload_kms_key_arn must be a KMS key ARN."
  }
}

variable "additional_policy_json" {
  description = "An IAM policy document (JSON) with what the function's own code needs (typically the statements of its Lambda role), added to the job role."
  type        = string
  default     = null

  validation {
    condition     = var.additional_policy_json == null || can(jsondecode(var.additional_policy_json).Statement)
    error_message = "additional_policy_json must be an IAM policy document with a Statement."
  }
}

variable "platform" {
  description = "Where jobs run: `FARGATE` or `EC2` (EC2 also covers SPOT compute environments)."
  type        = string
  default     = "FARGATE"
  nullable    = false

  validation {
    condition     = contains(["FARGATE", "EC2"], var.platform)
    error_message = "platform must be FARGATE or EC2."
  }
}

variable "cpu_architecture" {
  description = "CPU architecture of the image for Fargate's `runtimePlatform`: `ARM64` (Graviton) or `X86_64`."
  type        = string
  default     = "ARM64"
  nullable    = false

  validation {
    condition     = contains(["ARM64", "X86_64"], var.cpu_architecture)
    error_message = "cpu_architecture must be ARM64 or X86_64."
  }
}

variable "vcpus" {
  description = "vCPUs of one job (Fargate: 0.25, 0.5, 1, 2, 4, 8 or 16)."
  type        = number
  default     = 1
  nullable    = false

  validation {
    condition     = var.vcpus > 0 && var.vcpus <= 192
    error_message = "vcpus must be positive."
  }
}

variable "memory_mib" {
  description = "Memory of one job in MiB (Fargate: a size valid for the chosen vCPUs, e.g. 2048-8192 for 1 vCPU)."
  type        = number
  default     = 4096
  nullable    = false

  validation {
    condition     = var.memory_mib >= 512 && floor(var.memory_mib) == var.memory_mib
    error_message = "memory_mib must be a whole number of at least 512."
  }
}

variable "ephemeral_storage_gib" {
  description = "Fargate task storage in GiB (21-200); null keeps Fargate's default of 20 GiB."
  type        = number
  default     = null

  validation {
    condition     = var.ephemeral_storage_gib == null ? true : var.ephemeral_storage_gib >= 21 && var.ephemeral_storage_gib <= 200
    error_message = "ephemeral_storage_gib must be between 21 and 200."
  }
}

variable "timeout_seconds" {
  description = "Jobs still running after this many seconds are terminated."
  type        = number
  default     = 3600
  nullable    = false

  validation {
    condition     = var.timeout_seconds >= 60 && floor(var.timeout_seconds) == var.timeout_seconds
    error_message = "timeout_seconds must be a whole number of at least 60."
  }
}

variable "retry_strategy" {
  description = <<-EOT
    Attempts per job and which failures are retried. By default infrastructure failures (instance or Spot
    capacity reclaimed, image pull or task start errors) are retried and the function's own errors are not:
    Cirrus retries whole workflows itself.
  EOT
  type = object({
    attempts = number
    evaluate_on_exit = optional(list(object({
      action           = string
      on_exit_code     = optional(string)
      on_reason        = optional(string)
      on_status_reason = optional(string)
    })), [])
  })
  default = {
    attempts = 3
    evaluate_on_exit = [
      { action = "RETRY", on_status_reason = "Host EC2*" },
      { action = "RETRY", on_reason = "CannotPullContainerError*" },
      { action = "RETRY", on_reason = "ResourceInitializationError*" },
      { action = "RETRY", on_status_reason = "Your Spot Task was interrupted*" },
      { action = "EXIT", on_reason = "*" },
    ]
  }
  nullable = false

  validation {
    condition     = var.retry_strategy.attempts >= 1 && var.retry_strategy.attempts <= 10 && floor(var.retry_strategy.attempts) == var.retry_strategy.attempts
    error_message = "retry_strategy.attempts must be a whole number between 1 and 10."
  }

  validation {
    condition     = length(var.retry_strategy.evaluate_on_exit) <= 5 && alltrue([for e in var.retry_strategy.evaluate_on_exit : contains(["RETRY", "EXIT"], e.action)])
    error_message = "retry_strategy.evaluate_on_exit takes at most 5 rules whose action is RETRY or EXIT."
  }

  validation {
    # Batch patterns: letters, digits, `.`, `:` and white space, optionally ending in `*`.
    condition = alltrue(flatten([
      for e in var.retry_strategy.evaluate_on_exit : [
        for p in compact([e.on_exit_code, e.on_reason, e.on_status_reason]) : can(regex("^[A-Za-z0-9.: \\t]{0,511}\\*?$", p))
      ]
    ]))
    error_message = "evaluate_on_exit patterns may contain letters, digits, `.`, `:` and spaces, and may only end with `*`."
  }
}

variable "environment" {
  description = "Environment variables of the job container."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for k in keys(var.environment) : can(regex("^[A-Za-z_][A-Za-z0-9_]*$", k)) && !startswith(k, "AWS_BATCH")])
    error_message = "Environment variable names must be identifiers and must not start with AWS_BATCH (reserved)."
  }
}

variable "execution_role_arn" {
  description = "ECS task execution role (pulls the image, writes logs), e.g. a batch-environment's `ecs_task_execution_role_arn`. Null creates one scoped to this image's repository and this job's log group."
  type        = string
  default     = null

  validation {
    condition     = var.execution_role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.execution_role_arn))
    error_message = "execution_role_arn must be an IAM role ARN."
  }
}

variable "assign_public_ip" {
  description = "Give Fargate jobs a public IP (only for public subnets without a NAT gateway)."
  type        = bool
  default     = false
  nullable    = false
}

variable "log_group_name" {
  description = <<-EOT
    CloudWatch log group of the jobs. Null (the default) keeps Batch's default, `/aws/batch/job`: the
    group Cirrus' post-batch reads a failed job's last line from, so Cirrus tasks must keep it. A name
    creates that group here (with `log_retention_days` and `log_kms_key_arn`) for jobs Cirrus does not
    post-process.
  EOT
  type        = string
  default     = null

  validation {
    condition     = var.log_group_name == null || can(regex("^[A-Za-z0-9_/.#-]{1,512}$", var.log_group_name))
    error_message = "log_group_name must be a CloudWatch Logs group name (letters, digits, _ / . # -)."
  }
}

variable "log_retention_days" {
  description = "Retention of the job log group in days (with `log_group_name`)."
  type        = number
  default     = 365
  nullable    = false

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, …, 3653)."
  }
}

variable "log_kms_key_arn" {
  description = "Customer managed KMS key for the job log group (with `log_group_name`); null uses CloudWatch Logs' own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.log_kms_key_arn))
    error_message = "log_kms_key_arn must be a KMS key ARN."
  }
}

variable "tags" {
  description = "Tags applied to every resource of the module (and propagated to the jobs' tasks)."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "role_permissions_boundary" {
  description = "ARN of a managed policy set as the permissions boundary of every IAM role the module creates (for accounts whose policies demand one)."
  type        = string
  default     = null

  validation {
    condition     = var.role_permissions_boundary == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", var.role_permissions_boundary))
    error_message = "role_permissions_boundary must be an IAM policy ARN."
  }
}

variable "role_path" {
  description = "IAM path of every role (and instance profile) the module creates."
  type        = string
  default     = "/"
  nullable    = false

  validation {
    condition     = can(regex("^/([!-~]+/)?$", var.role_path)) && length(var.role_path) <= 512
    error_message = "role_path must start and end with `/` (e.g. `/stratus/`)."
  }
}

variable "scheduling_priority" {
  description = "Scheduling priority of the jobs (0-9999, higher first) in a queue with a fair-share policy; null for queues without one, such as batch-environment's."
  type        = number
  default     = null

  validation {
    condition     = var.scheduling_priority == null ? true : (var.scheduling_priority >= 0 && var.scheduling_priority <= 9999 && floor(var.scheduling_priority) == var.scheduling_priority)
    error_message = "scheduling_priority must be a whole number between 0 and 9999, or null."
  }
}
