# One configuration, planned on an empty account as a first apply: the Stratus cirrus-task
# example (ECR repository, image push, the two definitions' variables) and the filmdrop
# deployment that takes them (cirrus/). filmdrop-one-apply.sh copies this directory next to
# filmdrop's modules and points the provider at moto on loopback.

terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

variable "images_file" {
  description = "What `just build` hands over (terraform/images.auto.tfvars.json, or a copy)."
  type        = string
}

variable "container_cli" {
  description = "Container CLI that pushes the image (the test's stand-in stores it in moto's ECR)."
  type        = string
  default     = "docker"
}

variable "image_reference" {
  description = "`tag`: the definition names the image by its tag (known at plan time). `digest`: by the digest the push yields, as the definitions did before; the plan must then fail, which shows that this test sees what stops a first apply."
  type        = string
  default     = "tag"
}

locals {
  prefix = "cirrus-dev"
  # The local tag of the build: read at plan time, like any file.
  run_geolambda_image = jsondecode(file(var.images_file)).images["run_geolambda/python3.13"]
}

# The deployment's network, created in the same apply as in filmdrop's own deployments:
# its ids are unknown at plan time and reach the filmdrop modules as plain values.
resource "aws_vpc" "this" {
  cidr_block = "10.20.0.0/16"
}

resource "aws_subnet" "private" {
  vpc_id     = aws_vpc.this.id
  cidr_block = "10.20.1.0/24"
}

resource "aws_security_group" "tasks" {
  name   = "${local.prefix}-tasks"
  vpc_id = aws_vpc.this.id
}

# A data bucket the deployment names itself (and passes to filmdrop as cirrus_data_bucket):
# its name is known at plan time, which filmdrop's generated one is not.
resource "aws_s3_bucket" "data" {
  bucket        = "${local.prefix}-data-123456789012"
  force_destroy = true
}

module "stratus" {
  source = "./stratus/terraform/examples/cirrus-task"

  cirrus_prefix       = local.prefix
  run_geolambda_image = local.run_geolambda_image
  code_bucket         = "${local.prefix}-code"
  code_key            = "tasks/geo-task.zip"
  source_bucket       = "sentinel-cogs"
  data_bucket         = aws_s3_bucket.data.bucket
  container_cli       = var.container_cli
}

locals {
  task_definitions_variables = var.image_reference == "tag" ? module.stratus.task_definitions_variables : {
    for task, vars in module.stratus.task_definitions_variables : task => merge(vars, { run_geolambda_image_uri = module.stratus.run_geolambda_image_digest_uri })
  }
}

module "cirrus" {
  source = "./cirrus"

  resource_prefix        = local.prefix
  vpc_subnet_ids         = [aws_subnet.private.id]
  vpc_security_group_ids = [aws_security_group.tasks.id]
  cirrus_data_bucket     = aws_s3_bucket.data.bucket

  cirrus_task_batch_compute_definitions_dir       = "definitions/task-batch-compute"
  cirrus_task_batch_compute_definitions_variables = module.stratus.task_batch_compute_definitions_variables
  cirrus_task_definitions_dir                     = "definitions/tasks"
  cirrus_task_definitions_variables               = local.task_definitions_variables
}

output "task_config" {
  description = "The task definition as the example renders it."
  value       = module.stratus.task_config
}
