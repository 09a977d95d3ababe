# Feeds a filmdrop Cirrus task definition (definition.yaml) and task batch compute
# definition (compute-definition.yaml) from the Stratus modules: the run-geolambda
# image of the task function's runtime pushed to ECR and pinned by digest, and an arm64 Fargate Batch environment
# that filmdrop takes through its `_existing` route.

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
  # What a filmdrop deployment passes as its task batch compute definition variables.
  task_batch_compute_definitions_variables = {
    stratus-compute = {
      name                     = local.batch_compute_name
      compute_environment_name = module.batch.compute_environment_name
      is_fargate               = tostring(module.batch.compute_environment_is_fargate)
      job_queue_name           = module.batch.job_queue_name
    }
  }

  # What a filmdrop deployment passes as its task definition variables.
  task_definitions_variables = {
    (local.task_name) = {
      runtime                 = var.task_runtime
      run_geolambda_image_uri = module.run_geolambda_image.image_uri
      task_batch_compute_name = local.batch_compute_name
      execution_role_arn      = module.batch.ecs_task_execution_role_arn
      function_name           = local.function_name
      function_arn            = "arn:aws:lambda:${data.aws_region.current.id}:${data.aws_caller_identity.current.account_id}:function:${local.function_name}"
      code_bucket             = var.code_bucket
      code_key                = var.code_key
      source_bucket           = var.source_bucket
    }
  }

  # The same interpolation the cirrus module performs, to check the definitions render.
  batch_compute_config = yamldecode(templatefile("${path.module}/compute-definition.yaml", local.task_batch_compute_definitions_variables))

  task_config = yamldecode(templatefile("${path.module}/definition.yaml", merge(local.task_definitions_variables, {
    CIRRUS_PAYLOAD_BUCKET = "cirrus-payloads"
    CIRRUS_DATA_BUCKET    = "cirrus-data"
  })))
}
