variable "cirrus_prefix" {
  description = "The Cirrus deployment's resource prefix (filmdrop names task functions `<prefix>-<task name>`)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9-]{1,40}$", var.cirrus_prefix))
    error_message = "cirrus_prefix must be 1-40 letters, digits or `-`."
  }
}

variable "run_geolambda_image" {
  description = "Local run-geolambda image by tag (from `just build`), pushed to this example's ECR repository."
  type        = string
  nullable    = false
}

variable "code_bucket" {
  description = "Bucket holding the task's Lambda code package."
  type        = string
  nullable    = false
}

variable "code_key" {
  description = "Key of the task's Lambda code package (.zip)."
  type        = string
  nullable    = false

  validation {
    condition     = endswith(var.code_key, ".zip")
    error_message = "code_key must name a .zip package: run-geolambda runs zip-packaged function code."
  }
}

variable "source_bucket" {
  description = "Bucket the task reads its source data from."
  type        = string
  nullable    = false
}

variable "subnet_ids" {
  description = "Private subnets of the Cirrus VPC for the Batch jobs."
  type        = list(string)
  nullable    = false
}

variable "security_group_ids" {
  description = "Security groups of the Cirrus VPC for the Batch jobs."
  type        = list(string)
  nullable    = false
}

variable "container_cli" {
  description = "Container CLI holding the built image (`docker`, or one taking the same commands)."
  type        = string
  default     = "docker"
  nullable    = false
}
