variable "name" {
  description = "Name of the backfill function, and the prefix of the state machine's and roles' names."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,56}$", var.name))
    error_message = "name must be 1-56 letters, digits, hyphens or underscores (room for the suffixes of the resources it names)."
  }
}

variable "image_uri" {
  description = "The gdal-lambda image, pinned by digest (the upload function's)."
  type        = string

  validation {
    condition     = can(regex("@sha256:[0-9a-f]{64}$", var.image_uri))
    error_message = "image_uri must be pinned by digest (…@sha256:<64 hex digits>)."
  }
}

variable "architecture" {
  description = "Instruction set of the image: arm64 or x86_64."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "memory_size" {
  description = "Memory of the backfill function in MB."
  type        = number
  default     = 1024
}

variable "timeout" {
  description = "Timeout of one invocation in seconds: one S3 Batch Operations task, or one Distributed Map batch of `state_machine.items_per_batch` objects processed `MAX_CONCURRENCY` at a time."
  type        = number
  default     = 300

  validation {
    condition     = var.timeout >= 10 && var.timeout <= 900
    error_message = "timeout must be 10 to 900 seconds."
  }
}

variable "reserved_concurrency" {
  description = "Concurrent executions reserved for, and capping, the backfill function: whatever either engine does, a backfill never takes more of the account's concurrency than this, so the upload function keeps the rest."
  type        = number
  default     = 10

  validation {
    condition     = var.reserved_concurrency >= 1 && floor(var.reserved_concurrency) == var.reserved_concurrency
    error_message = "reserved_concurrency must be a whole number >= 1."
  }
}

variable "max_concurrency" {
  description = "Records one invocation processes at once (the function's `MAX_CONCURRENCY`); S3 Batch Operations sends one per invocation, a Distributed Map batch many."
  type        = number
  default     = 8
}

variable "source_location" {
  description = "What may be backfilled: the bucket and key prefix the function may read (\"\" for the whole bucket)."
  type = object({
    bucket = string
    prefix = optional(string, "")
  })
}

variable "output" {
  description = "Where Items go (the upload function's `OUTPUT_URL` bucket and prefix): the function writes them and reads them back (a HEAD, to leave current ones alone)."
  type = object({
    bucket = string
    prefix = string
  })

  validation {
    condition     = length(var.output.prefix) > 0
    error_message = "output.prefix must be non-empty: an Item is never read as an upload because it lies under it."
  }
}

variable "reports" {
  description = "Bucket and prefix for what the engines write and read: S3 Batch Operations manifests (uploaded or generated) and completion reports, and the Distributed Map's ResultWriter output."
  type = object({
    bucket = string
    prefix = optional(string, "backfill/")
  })

  validation {
    condition     = length(var.reports.prefix) > 0 && endswith(var.reports.prefix, "/")
    error_message = "reports.prefix must be a non-empty folder prefix ending in /."
  }
}

variable "inventory_buckets" {
  description = "Buckets holding S3 Inventory reports a job may start from (their manifest.json and data files are read)."
  type        = list(string)
  default     = []
}

variable "state_machine" {
  description = <<-EOT
    The Step Functions Distributed Map over a prefix listing or an S3 Inventory manifest:
    `max_concurrency` child executions at once (null: `reserved_concurrency`, one invocation each),
    `items_per_batch` objects per invocation, the percentage of failed batches tolerated before
    the run fails, and whether batches run as EXPRESS child executions (billed per request and
    duration: about 40 times cheaper per batch than STANDARD's per-transition price, at most 5
    minutes each) or STANDARD ones. `enabled = false` leaves only S3 Batch Operations.
  EOT
  type = object({
    enabled                      = optional(bool, true)
    execution_type               = optional(string, "EXPRESS")
    max_concurrency              = optional(number)
    items_per_batch              = optional(number, 20)
    tolerated_failure_percentage = optional(number, 5)
  })
  default = {}

  validation {
    condition     = var.state_machine.items_per_batch >= 1 && var.state_machine.items_per_batch <= 500
    error_message = "state_machine.items_per_batch must be 1 to 500 (a batch's results must fit in a state's 256 KiB output)."
  }

  validation {
    condition     = contains(["EXPRESS", "STANDARD"], var.state_machine.execution_type)
    error_message = "state_machine.execution_type must be EXPRESS or STANDARD."
  }

  validation {
    condition     = var.state_machine.tolerated_failure_percentage >= 0 && var.state_machine.tolerated_failure_percentage <= 100
    error_message = "state_machine.tolerated_failure_percentage must be 0 to 100."
  }
}

variable "log_retention_days" {
  description = "Retention of the function's and the state machine's log groups."
  type        = number
  default     = 365
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for the log groups and the function's environment. When null, AWS managed encryption is used."
  type        = string
  default     = null
}

variable "role_path" {
  description = "Path of the roles the module creates."
  type        = string
  default     = "/"
}

variable "role_permissions_boundary" {
  description = "Permissions boundary of the roles the module creates, if the account requires one."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "item_settings" {
  description = "What becomes of each Item besides its write, as the upload function has it (the gdal-lambda module's `item_settings` output): environment variables for the backfill function and the policy they need (null: none), so that backfilled Items get the same Collection, thumbnails and messages."
  type = object({
    environment = map(string)
    policy_json = optional(string)
  })
  default  = { environment = {} }
  nullable = false
}
