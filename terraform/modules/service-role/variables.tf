variable "service" {
  description = "The service principal that assumes the role, e.g. `lambda.amazonaws.com`."
  type        = string
}

variable "assume_sid" {
  description = "Sid of the trust policy's statement (says who assumes the role for what)."
  type        = string
}

variable "source_account" {
  description = "The only account on whose behalf the service may assume the role."
  type        = string
}

variable "source_arn" {
  description = "The only resource (ARN pattern) on whose behalf the service may assume the role; null for services that name no resource in advance."
  type        = string
  default     = null
}

variable "name_prefix" {
  description = "Prefix of the role's generated name (at most 38 characters)."
  type        = string

  validation {
    condition     = length(var.name_prefix) <= 38
    error_message = "name_prefix must be at most 38 characters."
  }
}

variable "description" {
  description = "The role's description."
  type        = string
}

variable "policy_name" {
  description = "Name of the role's inline policy."
  type        = string
}

variable "policy_json" {
  description = "The role's inline policy (an aws_iam_policy_document's json)."
  type        = string
}

variable "kms_key_arns" {
  description = "KMS keys the role may decrypt with and generate data keys of (the keys of what it reads and writes)."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "iam" {
  description = "The calling module's IAM settings: the role's path and permissions boundary (the caller validates them) and tags."
  type = object({
    path                 = string
    permissions_boundary = string
    tags                 = map(string)
  })
}
