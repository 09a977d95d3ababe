# Feeds a filmdrop Cirrus task definition (definition.yaml) from the Stratus
# modules: the run-geolambda image pushed to ECR and pinned by digest, and an arm64
# Fargate Batch environment whose `batch` output is what filmdrop's `task` module
# expects in `cirrus_task_batch_compute`.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  task_name          = "geo-task"
  batch_compute_name = "${var.cirrus_prefix}-stratus-arm64"
  function_name      = "${var.cirrus_prefix}-${local.task_name}"
}

module "run_geolambda_repository" {
  source = "../../modules/ecr-repository"

  name = "${var.cirrus_prefix}/run-geolambda"
}

module "run_geolambda_image" {
  source = "../../modules/image-push"

  source_image   = var.run_geolambda_image
  repository_url = module.run_geolambda_repository.repository_url
  container_cli  = var.container_cli
}

module "batch" {
  source = "../../modules/batch-environment"

  name               = local.batch_compute_name
  subnet_ids         = var.subnet_ids
  security_group_ids = var.security_group_ids
}

locals {
  # What a filmdrop deployment passes as its task definition variables.
  task_definitions_variables = {
    (local.task_name) = {
      run_geolambda_image_uri = module.run_geolambda_image.image_uri
      task_batch_compute_name = local.batch_compute_name
      function_name           = local.function_name
      function_arn            = "arn:aws:lambda:${data.aws_region.current.id}:${data.aws_caller_identity.current.account_id}:function:${local.function_name}"
      code_bucket             = var.code_bucket
      code_key                = var.code_key
      source_bucket           = var.source_bucket
    }
  }

  # The same interpolation the cirrus module performs, to check the definition renders.
  task_config = yamldecode(templatefile("${path.module}/definition.yaml", merge(local.task_definitions_variables, {
    CIRRUS_PAYLOAD_BUCKET = "cirrus-payloads"
    CIRRUS_DATA_BUCKET    = "cirrus-data"
  })))
}
