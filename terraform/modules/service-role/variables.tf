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

variable "path" {
  description = "IAM path of the role (the calling module validates it)."
  type        = string
}

variable "permissions_boundary" {
  description = "ARN of the role's permissions boundary, or null."
  type        = string
}

variable "tags" {
  description = "Tags of the role."
  type        = map(string)
}
