variable "source_image" {
  description = "Local image to push, by tag (e.g. `stratus/gdal-lambda:0.1.0-3f2c1ab`). The tag becomes the ECR tag: it must change whenever the image does, since ECR tags are immutable."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[^@\\s]+:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.source_image)) && !can(regex(":[^/]*/[^:]*$", var.source_image)) && !endswith(var.source_image, ":latest")
    error_message = "source_image must be a local image reference with an explicit tag other than `latest` (e.g. stratus/gdal-lambda:0.1.0-3f2c1ab), not a digest."
  }
}

variable "repository_url" {
  description = "URL of the ECR repository to push to (an ecr-repository module's `repository_url`)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[a-z0-9._/-]+$", var.repository_url))
    error_message = "repository_url must be an ECR repository URL (<account>.dkr.ecr.<region>.amazonaws.com/<name>)."
  }
}

variable "container_cli" {
  description = "Container CLI that holds the local image and pushes it: `docker` or one that takes the same commands (`podman`, `nerdctl`), by name or path."
  type        = string
  default     = "docker"
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_./-]+$", var.container_cli))
    error_message = "container_cli must be a command name or path."
  }
}

variable "architecture" {
  description = "Architecture the image must be built for (`arm64` or `amd64`, Docker's names): the push refuses another one, and an image index, which Lambda cannot run."
  type        = string
  default     = "arm64"
  nullable    = false

  validation {
    condition     = contains(["arm64", "amd64"], var.architecture)
    error_message = "architecture must be arm64 or amd64."
  }
}

variable "registry_auth" {
  description = "An ECR authorization token for the repository's registry (an `aws_ecr_authorization_token`'s `user_name` and `password`). Hand several image-push instances the same one and the apply logs in once; when null, the module reads its own."
  type = object({
    user_name = string
    password  = string
  })
  default   = null
  sensitive = true
}
