variable "name" {
  description = "Name of the bucket (globally unique)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.name)) && !can(regex("\\.\\.|^\\d+\\.\\d+\\.\\d+\\.\\d+$|^xn--|-s3alias$", var.name))
    error_message = "The name must be a valid S3 bucket name: 3-63 lowercase letters, digits, `.` and `-`."
  }
}

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key for default encryption. When null, objects are encrypted with the AWS managed key `aws/s3` (SSE-KMS), which needs no key policy changes for readers in the account."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "versioning" {
  description = "Keep object versions (recommended; noncurrent versions expire after `noncurrent_version_expiration_days`)."
  type        = bool
  default     = true
  nullable    = false
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which noncurrent object versions are deleted (when versioning is on)."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days
    error_message = "noncurrent_version_expiration_days must be a whole number of at least 1."
  }
}

variable "temporary_prefixes" {
  description = "Prefixes whose objects are temporary (e.g. Cirrus payloads), each with the number of days after which its objects expire."
  type = list(object({
    prefix          = string
    expiration_days = number
  }))
  default  = []
  nullable = false

  validation {
    condition     = alltrue([for p in var.temporary_prefixes : length(p.prefix) > 0 && !startswith(p.prefix, "/")])
    error_message = "Each temporary prefix must be non-empty and must not start with `/` (S3 keys have no leading slash)."
  }

  validation {
    condition     = alltrue([for p in var.temporary_prefixes : p.expiration_days >= 1 && floor(p.expiration_days) == p.expiration_days])
    error_message = "expiration_days must be a whole number of at least 1."
  }

  validation {
    condition     = length(distinct([for p in var.temporary_prefixes : p.prefix])) == length(var.temporary_prefixes)
    error_message = "Temporary prefixes must be distinct."
  }
}

variable "abort_incomplete_multipart_upload_days" {
  description = "Days after which incomplete multipart uploads are aborted and their parts deleted."
  type        = number
  default     = 7
  nullable    = false

  validation {
    condition     = var.abort_incomplete_multipart_upload_days >= 1 && floor(var.abort_incomplete_multipart_upload_days) == var.abort_incomplete_multipart_upload_days
    error_message = "abort_incomplete_multipart_upload_days must be a whole number of at least 1."
  }
}

variable "access_log_bucket" {
  description = "Name of a bucket that receives server access logs for this bucket (under `access_log_prefix`). Null turns access logging off."
  type        = string
  default     = null

  validation {
    condition     = var.access_log_bucket == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.access_log_bucket))
    error_message = "access_log_bucket must be a bucket name (not an ARN)."
  }
}

variable "access_log_prefix" {
  description = "Key prefix for server access logs in `access_log_bucket`."
  type        = string
  default     = "s3-access/"
  nullable    = false
}

variable "force_destroy" {
  description = "Delete all objects (and versions) when the bucket is destroyed. Leave off for buckets holding data you care about."
  type        = bool
  default     = false
  nullable    = false
}

variable "tags" {
  description = "Tags applied to the bucket."
  type        = map(string)
  default     = {}
  nullable    = false
}
