variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "us-east-1"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as us-east-1."
  }
}

variable "name" {
  description = "Prefix of every resource name (bucket names also get the account id and the region; role names a unique suffix)."
  type        = string
  default     = "stratus"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,19}$", var.name))
    error_message = "name must be 2-20 lowercase letters, digits or `-`, starting with a letter."
  }
}

variable "images" {
  description = <<-EOT
    The images, keyed `gdal_lambda` and `<image>/<runtime>` (`run_lambda/python3.13`, `run_geolambda/python3.11`:
    run-lambda and run-geolambda are built once per Lambda runtime). With `push_images` (the default) these are
    local image references by tag, written by `just build` into `images.auto.tfvars.json`; the apply pushes them
    to the ECR repositories and deploys the pushed digests. Without `push_images` they must already be registry
    URIs pinned by digest.
  EOT
  type        = map(string)
  nullable    = false

  validation {
    condition     = contains(keys(var.images), "gdal_lambda") && alltrue([for k in keys(var.images) : can(regex("^(gdal_lambda|(run_lambda|run_geolambda)/(python3\\.[0-9]+|nodejs[0-9]+\\.x))$", k))])
    error_message = "images must have gdal_lambda, and name the others <image>/<runtime>: run_lambda/python3.13, run_geolambda/python3.11, run_lambda/nodejs22.x."
  }

  validation {
    condition = var.push_images || alltrue([
      for uri in values(var.images) : can(regex("^[^@\\s]+@sha256:[0-9a-f]{64}$", uri))
    ])
    error_message = "With push_images = false, every image must be a registry URI pinned by digest (…@sha256:<64 hex digits>)."
  }
}

variable "image_architecture" {
  description = "Architecture the images were built for (`arm64`, Graviton, or `amd64`), written by `just build` into `images.auto.tfvars.json`: the function, the Batch job and the push follow it."
  type        = string
  default     = "arm64"
  nullable    = false

  validation {
    condition     = contains(["arm64", "amd64"], var.image_architecture)
    error_message = "image_architecture must be arm64 or amd64."
  }
}

variable "push_images" {
  description = "Push `images` from the local container engine into the ECR repositories during apply. Turn off where there is no engine or registry (the images are then used as given)."
  type        = bool
  default     = true
  nullable    = false
}

variable "container_cli" {
  description = "Container CLI that holds the built images (`docker`, or one taking the same commands)."
  type        = string
  default     = "docker"
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_./-]+$", var.container_cli))
    error_message = "container_cli must be a command name or path."
  }
}

variable "watch_prefix" {
  description = "Key prefix in the raster bucket whose uploads trigger gdal-lambda."
  type        = string
  default     = "rasters/"
  nullable    = false

  validation {
    condition     = length(var.watch_prefix) > 0 && !startswith(var.watch_prefix, "/")
    error_message = "watch_prefix must be non-empty and must not start with `/` (S3 keys have no leading slash)."
  }
}

variable "output_prefix" {
  description = "Key prefix in the raster bucket where gdal-lambda writes STAC Items (must not overlap `watch_prefix`)."
  type        = string
  default     = "stac/"
  nullable    = false

  validation {
    condition     = length(var.output_prefix) > 0 && !startswith(var.output_prefix, "/")
    error_message = "output_prefix must be non-empty and must not start with `/` (S3 keys have no leading slash)."
  }

  validation {
    condition     = !startswith(var.output_prefix, var.watch_prefix) && !startswith(var.watch_prefix, var.output_prefix)
    error_message = "output_prefix and watch_prefix must not overlap (neither may start with the other): STAC Items written under output_prefix would trigger gdal-lambda again."
  }
}

variable "payload_prefix" {
  description = "Key prefix of Cirrus payloads in the payload bucket."
  type        = string
  default     = "payloads/"
  nullable    = false

  validation {
    condition     = length(var.payload_prefix) > 0 && !startswith(var.payload_prefix, "/")
    error_message = "payload_prefix must be non-empty and must not start with `/` (S3 keys have no leading slash)."
  }
}

variable "payload_expiration_days" {
  description = "Days after which payloads expire."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.payload_expiration_days >= 1 && floor(var.payload_expiration_days) == var.payload_expiration_days
    error_message = "payload_expiration_days must be a whole number of at least 1."
  }
}

variable "gdal_lambda" {
  description = "Sizing of the gdal-lambda function, and how uploads reach it (`trigger`: `s3`, `sqs` or `eventbridge`; see modules/gdal-lambda)."
  type = object({
    trigger              = optional(string, "s3")
    memory_size          = optional(number, 1024)
    timeout              = optional(number, 60)
    ephemeral_storage_mb = optional(number, 512)
    log_retention_days   = optional(number, 365)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.gdal_lambda.memory_size >= 128 && var.gdal_lambda.memory_size <= 10240 && var.gdal_lambda.timeout >= 1 && var.gdal_lambda.timeout <= 900
    error_message = "gdal_lambda.memory_size must be 128-10240 MB and gdal_lambda.timeout 1-900 s."
  }
}

variable "backfill" {
  description = <<-EOT
    Items for the objects already in the raster bucket (docs/backfill.md): off by default. When `enabled`, a
    backfill function (gdal-lambda's image, capped by `reserved_concurrency` so that a backfill never starves
    the upload function), the S3 Batch Operations job role, and a Step Functions Distributed Map
    (`state_machine`, see modules/backfill); manifests, reports and results go to the payload bucket under `backfill/`.
  EOT
  type = object({
    enabled              = optional(bool, false)
    reserved_concurrency = optional(number, 10)
    max_concurrency      = optional(number, 8)
    memory_size          = optional(number, 1024)
    timeout              = optional(number, 300)
    inventory_buckets    = optional(list(string), [])
    state_machine = optional(object({
      enabled                      = optional(bool, true)
      execution_type               = optional(string, "EXPRESS")
      max_concurrency              = optional(number)
      items_per_batch              = optional(number, 20)
      tolerated_failure_percentage = optional(number, 5)
    }), {})
  })
  default  = {}
  nullable = false
}

variable "batch_task_function_arn" {
  description = <<-EOT
    Zip-packaged Lambda function (a Cirrus task, say) that the Batch job definition runs by default (its
    `lambda_function` parameter; a submission may name another), on the image of its runtime from
    `batch_task_image`. Null creates no job definition: gdal-lambda itself is an image function, which
    run-lambda cannot run.
  EOT
  type        = string
  default     = null

  validation {
    condition     = var.batch_task_function_arn == null ? true : can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}$", var.batch_task_function_arn))
    error_message = "batch_task_function_arn must be an unqualified Lambda function ARN."
  }
}

variable "batch_task_image" {
  description = "Which images the job definition runs the function on: `run_lambda` (every Lambda Python and Node.js runtime) or `run_geolambda` (Python with GDAL, PROJ, rasterio); the one of the function's runtime is picked."
  type        = string
  default     = "run_geolambda"
  nullable    = false

  validation {
    condition     = contains(["run_lambda", "run_geolambda"], var.batch_task_image)
    error_message = "batch_task_image must be run_lambda or run_geolambda."
  }

  # Said here: the job definition's module would only see an empty map of images.
  validation {
    condition     = var.batch_task_function_arn == null ? true : anytrue([for k in keys(var.images) : startswith(k, "${var.batch_task_image}/")])
    error_message = "The job definition runs ${var.batch_task_image} images, and images has none (no ${var.batch_task_image}/<runtime> key): build them with `just build`, or choose the other batch_task_image."
  }
}

variable "batch_task_function_runtime" {
  description = "The runtime of `batch_task_function_arn` (`python3.13`). Null reads it from the function at plan time; set it when the function does not exist yet."
  type        = string
  default     = null

  validation {
    condition     = var.batch_task_function_runtime == null ? true : can(regex("^(python3\\.[0-9]+|nodejs[0-9]+\\.x)$", var.batch_task_function_runtime))
    error_message = "batch_task_function_runtime must be a python3.x or nodejsNN.x Lambda runtime."
  }
}

variable "batch_task_additional_policy_json" {
  description = <<-EOT
    IAM policy document (JSON) with what the Batch task function's own code needs, typically the statements of
    its Lambda role (reading its source data, writing its outputs), added to the job role: the job runs the
    function's code under that role, not the function's. Null adds nothing.
  EOT
  type        = string
  default     = null

  validation {
    condition     = var.batch_task_additional_policy_json == null ? true : can(jsondecode(var.batch_task_additional_policy_json).Statement)
    error_message = "batch_task_additional_policy_json must be an IAM policy document with a Statement."
  }

  # Said here, as for batch_task_image: without a job definition it would be silently dropped.
  validation {
    condition     = var.batch_task_additional_policy_json == null || var.batch_task_function_arn != null
    error_message = "batch_task_additional_policy_json is for the job definition's role: set batch_task_function_arn too."
  }
}

variable "batch_task_layer_arns" {
  description = "Version ARNs of the Batch task function's layers, in the function's order: the job role may read them (`lambda:GetLayerVersion`), which run-lambda needs to unpack them."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for l in var.batch_task_layer_arns : can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:layer:[A-Za-z0-9_-]+:[0-9]+$", l))])
    error_message = "batch_task_layer_arns must be layer version ARNs (arn:aws:lambda:<region>:<account>:layer:<name>:<version>)."
  }

  validation {
    condition     = length(var.batch_task_layer_arns) == 0 || var.batch_task_function_arn != null
    error_message = "batch_task_layer_arns are for the job definition's role: set batch_task_function_arn too."
  }
}

variable "batch" {
  description = "Batch compute: type (FARGATE runs arm64 jobs), vCPU ceiling, and job size."
  type = object({
    compute_type = optional(string, "FARGATE")
    max_vcpus    = optional(number, 16)
    job_vcpus    = optional(number, 1)
    job_memory   = optional(number, 4096)
  })
  default  = {}
  nullable = false

  validation {
    condition     = contains(["FARGATE", "FARGATE_SPOT", "EC2", "SPOT"], var.batch.compute_type)
    error_message = "batch.compute_type must be FARGATE, FARGATE_SPOT, EC2 or SPOT (arm64 jobs need FARGATE, or EC2/SPOT with Graviton instances)."
  }
}

variable "subnet_ids" {
  description = "Subnets for Batch jobs. Null uses the default VPC's subnets and gives jobs a public IP to reach AWS APIs; pass private subnets with a NAT gateway or VPC endpoints in production."
  type        = list(string)
  default     = null

  validation {
    condition     = var.subnet_ids == null ? true : length(var.subnet_ids) > 0 && alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "subnet_ids must be null or list subnet ids (subnet-…)."
  }
}

variable "security_group_ids" {
  description = "Security groups for Batch jobs. Null creates one allowing only outbound HTTPS."
  type        = list(string)
  default     = null

  validation {
    condition     = var.security_group_ids == null ? true : length(var.security_group_ids) > 0 && alltrue([for s in var.security_group_ids : can(regex("^sg-[0-9a-f]+$", s))])
    error_message = "security_group_ids must be null or list security group ids (sg-…)."
  }
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete non-empty buckets and ECR repositories."
  type        = bool
  default     = false
  nullable    = false
}

variable "force_delete_images" {
  description = "Let `terraform destroy` delete the ECR repositories with the images in them (the buckets are left to `force_destroy`). Without it, a destroy after a push stops before deleting anything, and says to set it."
  type        = bool
  default     = false
  nullable    = false
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = { Project = "stratus" }
  nullable    = false
}

variable "role_permissions_boundary" {
  description = "ARN of a managed policy set as the permissions boundary of every IAM role the deployment creates (for accounts whose policies demand one)."
  type        = string
  default     = null
}

variable "role_path" {
  description = "IAM path of every role the deployment creates."
  type        = string
  default     = "/"
  nullable    = false
}

variable "alarm_topic_arn" {
  description = "SNS topic for alarms: gdal-lambda's errors, throttles and waiting failed events, and Batch jobs that end FAILED. Its policy must let cloudwatch.amazonaws.com and events.amazonaws.com publish. Null creates no alarms."
  type        = string
  default     = null
}

variable "item_topic" {
  description = "SNS topic gdal-lambda publishes each STAC Item to once written, in the form stac-server's ingest reads (docs/destinations/stac-server.md); kms_key_arn: the topic's customer managed key, if any. Null publishes nothing."
  type = object({
    arn         = string
    kms_key_arn = optional(string)
  })
  default = null
}

variable "cirrus_process_queue" {
  description = "Cirrus process queue gdal-lambda sends each STAC Item to once written, as a process payload for `workflow` (docs/destinations/cirrus.md); collections, upload_options (JSON), payload_url and kms_key_arn as the gdal-lambda module takes them. Null sends nothing."
  type = object({
    arn            = string
    workflow       = string
    collections    = optional(string)
    upload_options = optional(string)
    payload_url    = optional(string)
    kms_key_arn    = optional(string)
  })
  default = null
}

variable "collection_id" {
  description = "Id of a STAC Collection gdal-lambda keeps at `<output_prefix>collection.json`, whose extents cover every Item (see modules/gdal-lambda). Null keeps none."
  type        = string
  default     = null
}

variable "gdal_lambda_thumbnail" {
  description = "Thumbnails for COGs with a small overview, beside their Items (see modules/gdal-lambda's `thumbnail`): `format` `none` (the default), `png` or `jpeg`; `max_bytes` of overview tiles each may fetch."
  type = object({
    format    = optional(string, "none")
    max_bytes = optional(number, 1048576)
  })
  default  = {}
  nullable = false
}
