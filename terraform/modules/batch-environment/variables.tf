variable "name" {
  description = "Name of the job queue; prefixes the names of the roles and tags the compute environment."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$", var.name))
    error_message = "name must be 1-40 letters, digits, `-` or `_` (role names built from it are limited to 64 characters)."
  }
}

variable "compute_type" {
  description = <<-EOT
    Compute behind the environment: `FARGATE` (default), `FARGATE_SPOT`, `EC2` or `SPOT`.
    Fargate and Fargate Spot run arm64 (Graviton) jobs when the job definition asks for ARM64 (Fargate Spot
    since platform version 1.4.0, per ECS' CapacityProviderStrategyItem reference). With `FARGATE_SPOT`,
    `fargate_on_demand_fallback` adds a `FARGATE` environment behind it in the same queue.
  EOT
  type        = string
  default     = "FARGATE"
  nullable    = false

  validation {
    condition     = contains(["FARGATE", "FARGATE_SPOT", "EC2", "SPOT"], var.compute_type)
    error_message = "compute_type must be FARGATE, FARGATE_SPOT, EC2 or SPOT."
  }
}

variable "max_vcpus" {
  description = "Most vCPUs the environment runs at once (the cost ceiling)."
  type        = number
  default     = 16
  nullable    = false

  validation {
    condition     = var.max_vcpus >= 1 && floor(var.max_vcpus) == var.max_vcpus
    error_message = "max_vcpus must be a whole number of at least 1."
  }
}

variable "subnet_ids" {
  description = "Subnets the jobs run in (private subnets with a route to ECR, S3, Lambda and CloudWatch Logs)."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.subnet_ids) > 0 && alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "subnet_ids must list at least one subnet id (subnet-…)."
  }
}

variable "security_group_ids" {
  description = "Security groups of the jobs (egress only is enough)."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.security_group_ids) > 0 && alltrue([for s in var.security_group_ids : can(regex("^sg-[0-9a-f]+$", s))])
    error_message = "security_group_ids must list at least one security group id (sg-…)."
  }
}

variable "ec2" {
  description = <<-EOT
    Settings used only when `compute_type` is `EC2` or `SPOT`. The default instance families are Graviton (arm64);
    Batch picks the matching ECS-optimized Amazon Linux 2023 AMI for them.
  EOT
  type = object({
    instance_types      = optional(list(string), ["m7g", "c7g", "r7g"])
    min_vcpus           = optional(number, 0)
    allocation_strategy = optional(string)
    bid_percentage      = optional(number, 100)
    spot_fleet_role_arn = optional(string)
    launch_template_id  = optional(string)
    image_type          = optional(string, "ECS_AL2023")
  })
  default  = {}
  nullable = false

  validation {
    condition     = length(var.ec2.instance_types) > 0
    error_message = "ec2.instance_types must not be empty."
  }

  validation {
    condition     = var.ec2.min_vcpus >= 0 && floor(var.ec2.min_vcpus) == var.ec2.min_vcpus
    error_message = "ec2.min_vcpus must be a whole number >= 0."
  }

  validation {
    condition     = var.ec2.allocation_strategy == null ? true : contains(["BEST_FIT", "BEST_FIT_PROGRESSIVE", "SPOT_CAPACITY_OPTIMIZED", "SPOT_PRICE_CAPACITY_OPTIMIZED"], var.ec2.allocation_strategy)
    error_message = "ec2.allocation_strategy must be BEST_FIT, BEST_FIT_PROGRESSIVE, SPOT_CAPACITY_OPTIMIZED or SPOT_PRICE_CAPACITY_OPTIMIZED."
  }

  validation {
    # Batch needs a Spot Fleet role for the BEST_FIT strategy on Spot (the others use the service-linked role).
    condition     = !(var.compute_type == "SPOT" && var.ec2.allocation_strategy == "BEST_FIT" && var.ec2.spot_fleet_role_arn == null)
    error_message = "SPOT with allocation_strategy BEST_FIT needs ec2.spot_fleet_role_arn; SPOT_PRICE_CAPACITY_OPTIMIZED (the default) does not."
  }

  validation {
    condition     = var.ec2.bid_percentage >= 1 && var.ec2.bid_percentage <= 100
    error_message = "ec2.bid_percentage must be between 1 and 100."
  }

  validation {
    condition     = contains(["ECS_AL2023", "ECS_AL2", "ECS_AL2_NVIDIA"], var.ec2.image_type)
    error_message = "ec2.image_type must be ECS_AL2023, ECS_AL2 or ECS_AL2_NVIDIA."
  }
}

variable "service_role_arn" {
  description = "Role Batch uses to manage the environment. Null uses the AWSServiceRoleForBatch service-linked role (recommended)."
  type        = string
  default     = null

  validation {
    condition     = var.service_role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.service_role_arn))
    error_message = "service_role_arn must be an IAM role ARN."
  }
}

variable "job_queue_priority" {
  description = "Priority of the job queue among queues sharing the compute environment (higher runs first)."
  type        = number
  default     = 1
  nullable    = false

  validation {
    condition     = var.job_queue_priority >= 0 && var.job_queue_priority <= 1000 && floor(var.job_queue_priority) == var.job_queue_priority
    error_message = "job_queue_priority must be a whole number between 0 and 1000."
  }
}

variable "tags" {
  description = "Tags applied to every resource of the module."
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

variable "fargate_on_demand_fallback" {
  description = "With `compute_type = \"FARGATE_SPOT\"`, also create a `FARGATE` environment second in the queue's order: jobs go to Spot first and to on-demand Fargate when Spot is at its `max_vcpus`."
  type        = bool
  default     = false
  nullable    = false
}

variable "unplaceable_job_timeout_seconds" {
  description = <<-EOT
    A job that can never be placed (more vCPUs or memory than the environment offers, or an environment at
    its maximum for good) is cancelled after this long in RUNNABLE, with the reason in its status, rather
    than waiting forever. Null keeps Batch's default (wait).
  EOT
  type        = number
  default     = 1800

  validation {
    condition     = var.unplaceable_job_timeout_seconds == null ? true : (var.unplaceable_job_timeout_seconds >= 600 && var.unplaceable_job_timeout_seconds <= 86400)
    error_message = "unplaceable_job_timeout_seconds must be between 600 and 86400 (Batch's limits), or null."
  }
}

variable "failed_jobs_topic_arn" {
  description = "SNS topic told of every job of the queue that ends FAILED (an EventBridge rule on Batch's job state changes). Null creates no rule."
  type        = string
  default     = null

  validation {
    condition     = var.failed_jobs_topic_arn == null ? true : can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:.+$", var.failed_jobs_topic_arn))
    error_message = "failed_jobs_topic_arn must be an SNS topic ARN."
  }
}
