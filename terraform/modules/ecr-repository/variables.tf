variable "name" {
  description = "Name of the ECR repository (e.g. `stratus/gdal-lambda`)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$", var.name)) && length(var.name) >= 2 && length(var.name) <= 256
    error_message = "The name must be a valid ECR repository name: 2-256 lowercase letters, digits and `._-/` separators."
  }
}

variable "keep_tagged_images" {
  description = "How many tagged images to keep; older tagged images are expired by the lifecycle policy."
  type        = number
  default     = 20
  nullable    = false

  validation {
    condition     = var.keep_tagged_images >= 1 && var.keep_tagged_images <= 10000 && floor(var.keep_tagged_images) == var.keep_tagged_images
    error_message = "keep_tagged_images must be a whole number between 1 and 10000."
  }
}

variable "untagged_expiry_days" {
  description = "Days after which untagged images (e.g. layers of superseded multi-arch indexes) are expired."
  type        = number
  default     = 7
  nullable    = false

  validation {
    condition     = var.untagged_expiry_days >= 1 && floor(var.untagged_expiry_days) == var.untagged_expiry_days
    error_message = "untagged_expiry_days must be a whole number of at least 1."
  }
}

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key to encrypt images with. When null, the AWS managed key for ECR (`aws/ecr`) is used."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "force_delete" {
  description = "Delete the repository even if it still holds images when it is destroyed. Without it, ECR refuses to delete a repository that holds images (RepositoryNotEmptyException) and the destroy fails there."
  type        = bool
  default     = false
  nullable    = false
}

variable "tags" {
  description = "Tags applied to the repository."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "protected_tags" {
  description = "Tags of images that deployed functions and job definitions pin: the lifecycle policy never expires them, however many newer images there are."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for t in var.protected_tags : can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", t))])
    error_message = "protected_tags must be image tags."
  }
}

variable "lambda_pull" {
  description = "Let Lambda functions of this account, in the repository's region, run its images: a repository policy allowing lambda.amazonaws.com `ecr:BatchGetImage` and `ecr:GetDownloadUrlForLayer` for those functions (`aws:SourceArn`)."
  type        = bool
  default     = true
  nullable    = false
}
