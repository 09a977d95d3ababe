variable "cirrus_prefix" {
  description = "The Cirrus deployment's resource prefix (filmdrop names task functions `<prefix>-<task name>`)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9-]{1,40}$", var.cirrus_prefix))
    error_message = "cirrus_prefix must be 1-40 letters, digits or `-`."
  }
}

variable "task_runtime" {
  description = "The task function's Lambda runtime: a Python that run-geolambda is built for (python3.11, python3.13)."
  type        = string
  default     = "python3.13"
  nullable    = false

  validation {
    condition     = contains(["python3.11", "python3.13"], var.task_runtime)
    error_message = "task_runtime must be python3.11 or python3.13, the Pythons run-geolambda is built for."
  }
}

variable "run_geolambda_image" {
  description = "Local run-geolambda image of the task's runtime, by tag (`just build` builds `stratus/run-geolambda:<tag>-python3.13`, among others), pushed to this example's ECR repository."
  type        = string
  nullable    = false

  # run-lambda refuses a function whose Python is not the image's.
  validation {
    condition     = endswith(var.run_geolambda_image, "-${var.task_runtime}")
    error_message = "run_geolambda_image must be the image built for the task's runtime (its tag ends in -<task_runtime>)."
  }
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

variable "data_bucket" {
  description = "Bucket the task writes its outputs to (the deployment's Cirrus data bucket), by a name known before the apply: filmdrop's `$${CIRRUS_DATA_BUCKET}` is unknown on a first apply when filmdrop creates that bucket (its name gets a generated suffix)."
  type        = string
  nullable    = false
}

variable "max_vcpus" {
  description = "Most vCPUs the task's Fargate compute environment runs at once (the cost ceiling)."
  type        = number
  default     = 16
  nullable    = false

  validation {
    condition     = var.max_vcpus >= 1 && floor(var.max_vcpus) == var.max_vcpus
    error_message = "max_vcpus must be a whole number of at least 1."
  }
}

variable "container_cli" {
  description = "Container CLI holding the built image (`docker`, or one taking the same commands)."
  type        = string
  default     = "docker"
  nullable    = false
}
