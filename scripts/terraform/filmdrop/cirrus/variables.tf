variable "resource_prefix" {
  description = "The deployment's resource prefix."
  type        = string
}

variable "vpc_subnet_ids" {
  description = "Subnets of the deployment's VPC."
  type        = list(string)
}

variable "vpc_security_group_ids" {
  description = "Security groups of the deployment's VPC."
  type        = list(string)
}

variable "cirrus_data_bucket" {
  description = "An existing data bucket, by name; empty creates one with a generated name."
  type        = string
  default     = ""
}

variable "payload_root_prefix" {
  description = "Key prefix of the payloads in the payload bucket."
  type        = string
  default     = "cirrus"
}

variable "cirrus_task_batch_compute_definitions_dir" {
  description = "Directory (from the root module) of the task batch compute definitions."
  type        = string
}

variable "cirrus_task_batch_compute_definitions_variables" {
  description = "Template variables of the task batch compute definitions."
  type        = map(map(string))
}

variable "cirrus_task_definitions_dir" {
  description = "Directory (from the root module) of the task definitions."
  type        = string
}

variable "cirrus_task_definitions_variables" {
  description = "Template variables of the task definitions."
  type        = map(map(string))
}
