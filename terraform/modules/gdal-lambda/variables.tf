variable "function_name" {
  description = "Name of the Lambda function; also names its role, log group (`/aws/lambda/<name>`) and failure queue."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,56}$", var.function_name))
    error_message = "function_name must be 1-56 letters, digits, `-` or `_` (56 leaves room for the `-failures` queue suffix)."
  }
}

variable "description" {
  description = "Description of the function."
  type        = string
  default     = "Reads the header of each raster uploaded to the watched bucket, logs its metadata and writes a STAC Item."
  nullable    = false
}

variable "image_uri" {
  description = "ECR image URI of the gdal-lambda image, pinned by digest (`<registry>/<repository>@sha256:<digest>`), so that a new image is deployed only by changing this value."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[a-z0-9._/-]+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?@sha256:[0-9a-f]{64}$", var.image_uri))
    error_message = "image_uri must be an ECR image pinned by digest: <account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<64 hex digits>."
  }
}

variable "architecture" {
  description = "Instruction set of the image: `arm64` (Graviton) or `x86_64`."
  type        = string
  default     = "arm64"
  nullable    = false

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "memory_size" {
  description = "Memory of the function in MB (CPU grows with it)."
  type        = number
  default     = 1024
  nullable    = false

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size must be a whole number of MB between 128 and 10240."
  }
}

variable "timeout" {
  description = "Timeout of one invocation in seconds."
  type        = number
  default     = 60
  nullable    = false

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900 && floor(var.timeout) == var.timeout
    error_message = "timeout must be a whole number of seconds between 1 and 900."
  }
}

variable "ephemeral_storage_mb" {
  description = "Size of `/tmp` in MB."
  type        = number
  default     = 512
  nullable    = false

  validation {
    condition     = var.ephemeral_storage_mb >= 512 && var.ephemeral_storage_mb <= 10240 && floor(var.ephemeral_storage_mb) == var.ephemeral_storage_mb
    error_message = "ephemeral_storage_mb must be a whole number between 512 and 10240."
  }
}

variable "reserved_concurrent_executions" {
  description = "Concurrent executions reserved for (and capping) the function; -1 leaves it unreserved."
  type        = number
  default     = -1
  nullable    = false

  validation {
    condition     = var.reserved_concurrent_executions >= -1 && floor(var.reserved_concurrent_executions) == var.reserved_concurrent_executions
    error_message = "reserved_concurrent_executions must be -1 or a whole number >= 0."
  }
}

variable "tracing_mode" {
  description = "X-Ray tracing: `Active` samples and traces invocations, `PassThrough` only propagates an upstream trace header."
  type        = string
  default     = "Active"
  nullable    = false

  validation {
    condition     = contains(["Active", "PassThrough"], var.tracing_mode)
    error_message = "tracing_mode must be Active or PassThrough."
  }
}

variable "watch" {
  description = <<-EOT
    Where uploads trigger the function: the bucket name, an optional key prefix and the key suffixes
    (one S3 notification filter per suffix; S3 matches suffixes case-sensitively).
  EOT
  type = object({
    bucket   = string
    prefix   = optional(string, "")
    suffixes = optional(list(string), [".tif", ".tiff", ".TIF", ".TIFF"])
    events   = optional(list(string), ["s3:ObjectCreated:*"])
  })
  nullable = false

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.watch.bucket))
    error_message = "watch.bucket must be a bucket name (not an ARN)."
  }

  validation {
    condition     = !startswith(var.watch.prefix, "/")
    error_message = "watch.prefix must not start with `/` (S3 keys have no leading slash)."
  }

  validation {
    condition     = length(var.watch.suffixes) > 0 && alltrue([for s in var.watch.suffixes : length(s) > 0])
    error_message = "watch.suffixes must list at least one non-empty suffix."
  }

  validation {
    # S3 rejects notification configurations whose filters overlap.
    condition = alltrue(flatten([
      for i, a in var.watch.suffixes : [
        for j, b in var.watch.suffixes : i == j || !endswith(a, b)
      ]
    ]))
    error_message = "watch.suffixes must not overlap: no suffix may end with another one."
  }

  validation {
    condition     = length(var.watch.events) > 0 && alltrue([for e in var.watch.events : startswith(e, "s3:ObjectCreated:")])
    error_message = "watch.events must be s3:ObjectCreated:* events."
  }
}

variable "output" {
  description = <<-EOT
    Where STAC Items are written: a key prefix and an optional bucket (defaults to the watched bucket).
    The trigger must never match this location, else each Item written would invoke the function again:
    in the watched bucket, the output prefix must be non-empty and neither prefix may start with the other.
  EOT
  type = object({
    bucket = optional(string)
    prefix = string
  })
  nullable = false

  validation {
    condition     = var.output.bucket == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.output.bucket))
    error_message = "output.bucket must be a bucket name (not an ARN)."
  }

  validation {
    condition     = !startswith(var.output.prefix, "/")
    error_message = "output.prefix must not start with `/` (S3 keys have no leading slash)."
  }

  validation {
    condition = (
      coalesce(var.output.bucket, var.watch.bucket) != var.watch.bucket || (
        var.output.prefix != "" &&
        !startswith(var.output.prefix, var.watch.prefix) &&
        !startswith(var.watch.prefix, var.output.prefix)
      )
    )
    error_message = "The output location overlaps the watched one: in the watched bucket, output.prefix must be non-empty and neither it nor watch.prefix may start with the other (e.g. watch `rasters/`, output `stac/`)."
  }
}

variable "trigger" {
  description = <<-EOT
    How uploads reach the function:
    `s3`: the bucket notification invokes it (asynchronously: retried, then sent to the failure queue);
    `sqs`: the notification goes to an SQS queue (with a dead-letter queue) that the function reads in
    batches, reporting failures per message so only those are delivered again;
    `eventbridge`: the bucket sends its events to EventBridge, and a rule invokes the function
    (asynchronously, as with `s3`).
  EOT
  type        = string
  default     = "s3"
  nullable    = false

  validation {
    condition     = contains(["s3", "sqs", "eventbridge"], var.trigger)
    error_message = "trigger must be s3, sqs or eventbridge."
  }
}

variable "sqs" {
  description = <<-EOT
    With `trigger = "sqs"`: messages per batch, how long to gather a batch, deliveries of a message
    before it moves to the dead-letter queue, and how long either queue keeps a message.
  EOT
  type = object({
    batch_size                      = optional(number, 10)
    maximum_batching_window_seconds = optional(number, 5)
    max_receive_count               = optional(number, 5)
    message_retention_seconds       = optional(number, 1209600)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.sqs.batch_size >= 1 && var.sqs.batch_size <= 10000 && var.sqs.maximum_batching_window_seconds >= 0 && var.sqs.maximum_batching_window_seconds <= 300
    error_message = "sqs.batch_size must be 1-10000 and sqs.maximum_batching_window_seconds 0-300."
  }

  validation {
    condition     = var.sqs.max_receive_count >= 1 && var.sqs.message_retention_seconds >= 60 && var.sqs.message_retention_seconds <= 1209600
    error_message = "sqs.max_receive_count must be at least 1 and sqs.message_retention_seconds 60-1209600."
  }
}

variable "create_bucket_notification" {
  description = "Create the watched bucket's S3 notification. S3 keeps one notification configuration per bucket: turn this off when the bucket's notifications are managed elsewhere, and add this function there (see the `notification` output)."
  type        = bool
  default     = true
  nullable    = false
}

variable "bucket_kms_key_arns" {
  description = "Customer managed KMS keys of the watched and output buckets, if any: the function may decrypt and generate data keys with them. Not needed for SSE-S3 or the AWS managed `aws/s3` key."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for k in var.bucket_kms_key_arns : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", k))])
    error_message = "bucket_kms_key_arns must be KMS key ARNs."
  }
}

variable "environment_variables" {
  description = "Extra environment variables for the function (e.g. `MAX_CONCURRENCY`, GDAL configuration options). `OUTPUT_URL` is set from `output`."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for k in keys(var.environment_variables) : can(regex("^[A-Za-z_][A-Za-z0-9_]*$", k)) && !startswith(k, "AWS_") && k != "OUTPUT_URL"])
    error_message = "Environment variable names must be identifiers, must not start with AWS_ (reserved by Lambda) and must not be OUTPUT_URL (set from `output`)."
  }
}

variable "log_retention_days" {
  description = "Retention of the function's log group in days."
  type        = number
  default     = 365
  nullable    = false

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  }
}

variable "application_log_level" {
  description = "Lowest level of the function's own JSON log records that is kept."
  type        = string
  default     = "INFO"
  nullable    = false

  validation {
    condition     = contains(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"], var.application_log_level)
    error_message = "application_log_level must be TRACE, DEBUG, INFO, WARN, ERROR or FATAL."
  }
}

variable "system_log_level" {
  description = "Lowest level of the Lambda platform's log records that is kept."
  type        = string
  default     = "WARN"
  nullable    = false

  validation {
    condition     = contains(["DEBUG", "INFO", "WARN"], var.system_log_level)
    error_message = "system_log_level must be DEBUG, INFO or WARN."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for the log group, the failure queue and the function's environment variables. When null, AWS managed encryption is used."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "maximum_retry_attempts" {
  description = "How often Lambda retries an asynchronous invocation that failed (0-2)."
  type        = number
  default     = 2
  nullable    = false

  validation {
    condition     = contains([0, 1, 2], var.maximum_retry_attempts)
    error_message = "maximum_retry_attempts must be 0, 1 or 2."
  }
}

variable "maximum_event_age_seconds" {
  description = "How long Lambda keeps an event to retry before sending it to the failure queue."
  type        = number
  default     = 3600
  nullable    = false

  validation {
    condition     = var.maximum_event_age_seconds >= 60 && var.maximum_event_age_seconds <= 21600 && floor(var.maximum_event_age_seconds) == var.maximum_event_age_seconds
    error_message = "maximum_event_age_seconds must be a whole number between 60 and 21600."
  }
}

variable "failure_retention_seconds" {
  description = "How long failed events stay in the failure queue."
  type        = number
  default     = 1209600
  nullable    = false

  validation {
    condition     = var.failure_retention_seconds >= 60 && var.failure_retention_seconds <= 1209600 && floor(var.failure_retention_seconds) == var.failure_retention_seconds
    error_message = "failure_retention_seconds must be a whole number between 60 and 1209600 (14 days)."
  }
}

variable "vpc" {
  description = "Subnets and security groups to run the function in a VPC (it then needs a route to S3, e.g. a gateway endpoint). Null runs it outside any VPC."
  type = object({
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
  default = null

  validation {
    condition     = var.vpc == null ? true : length(var.vpc.subnet_ids) > 0 && length(var.vpc.security_group_ids) > 0
    error_message = "vpc needs at least one subnet and one security group."
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

variable "alarm_topic_arn" {
  description = "SNS topic for alarms on the function's errors and throttles and on events waiting in its failure queues. Null creates no alarms."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_topic_arn == null ? true : can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:.+$", var.alarm_topic_arn))
    error_message = "alarm_topic_arn must be an SNS topic ARN."
  }
}

variable "item_topic" {
  description = "SNS topic each STAC Item is published to once written, in the form stac-server's ingest reads: the Item, or {\"href\": \"s3://…\"} past SNS's 256 KiB, with stac-server's message attributes (docs/destinations/stac-server.md). kms_key_arn: the topic's customer managed key, if any. Null publishes nothing."
  type = object({
    arn         = string
    kms_key_arn = optional(string)
  })
  default = null

  validation {
    condition     = var.item_topic == null ? true : can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+(\\.fifo)?$", var.item_topic.arn))
    error_message = "item_topic.arn must be an SNS topic ARN."
  }

  validation {
    condition     = var.item_topic == null ? true : var.item_topic.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.item_topic.kms_key_arn))
    error_message = "item_topic.kms_key_arn must be a KMS key ARN."
  }
}

variable "cirrus_process_queue" {
  description = "Cirrus process queue each STAC Item is sent to once written, as a process payload (the Item in a FeatureCollection, `process` naming `workflow`, an id fixed by the object version; docs/destinations/cirrus.md). collections: the collections part of payload ids (default: the Item's collection, else `none`); upload_options: the process definition's upload_options as JSON (jsonencode({...})); payload_url: s3://bucket/prefix/ where a payload too large for SQS is put and sent as {\"url\"} (a location Cirrus' process function reads, e.g. its payload bucket; null: such a record fails); kms_key_arn: the queue's customer managed key, if any. Null sends nothing."
  type = object({
    arn            = string
    workflow       = string
    collections    = optional(string)
    upload_options = optional(string)
    payload_url    = optional(string)
    kms_key_arn    = optional(string)
  })
  default = null

  validation {
    condition     = var.cirrus_process_queue == null ? true : var.cirrus_process_queue.payload_url == null || can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$", var.cirrus_process_queue.payload_url))
    error_message = "cirrus_process_queue.payload_url must be an s3://bucket/prefix/ URL."
  }

  validation {
    condition     = var.cirrus_process_queue == null ? true : can(regex("^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$", var.cirrus_process_queue.arn))
    error_message = "cirrus_process_queue.arn must be a standard SQS queue ARN."
  }

  validation {
    condition     = var.cirrus_process_queue == null ? true : can(regex("^[^/]+$", var.cirrus_process_queue.workflow))
    error_message = "cirrus_process_queue.workflow must be a workflow name (no `/`)."
  }

  validation {
    condition     = var.cirrus_process_queue == null ? true : var.cirrus_process_queue.upload_options == null || can(keys(jsondecode(var.cirrus_process_queue.upload_options)))
    error_message = "cirrus_process_queue.upload_options must be a JSON object (jsonencode({...}))."
  }

  validation {
    condition     = var.cirrus_process_queue == null ? true : var.cirrus_process_queue.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.cirrus_process_queue.kms_key_arn))
    error_message = "cirrus_process_queue.kms_key_arn must be a KMS key ARN."
  }
}

variable "collection_id" {
  description = "Id of a STAC Collection kept at `<output prefix>collection.json`: every Item names it, and its spatial and temporal extents cover every Item written (docs/gdal-lambda.md#the-stac-collection). Null keeps none."
  type        = string
  default     = null

  validation {
    condition     = var.collection_id == null || can(regex("^[A-Za-z0-9._-]{1,128}$", var.collection_id))
    error_message = "collection_id must be 1 to 128 letters, digits, `.`, `_` or `-`."
  }
}

variable "thumbnail" {
  description = "A thumbnail for each COG whose smallest overview is at most 600 pixels on a side, rendered from that overview's tiles in the parse worker and written beside its Item (`<prefix><key>.thumbnail.png` or `.jpg`) as its `thumbnail` asset. `format`: `none` (the default: no thumbnails), `png` (transparent where there is no data) or `jpeg`; `max_bytes`: the bytes of overview tiles one may fetch (they also count against `MAX_HEADER_BYTES`)."
  type = object({
    format    = optional(string, "none")
    max_bytes = optional(number, 1048576)
  })
  default  = {}
  nullable = false

  validation {
    condition     = contains(["none", "png", "jpeg"], var.thumbnail.format)
    error_message = "thumbnail.format must be none, png or jpeg."
  }

  validation {
    condition     = var.thumbnail.max_bytes >= 1 && floor(var.thumbnail.max_bytes) == var.thumbnail.max_bytes
    error_message = "thumbnail.max_bytes must be a positive whole number of bytes."
  }
}
