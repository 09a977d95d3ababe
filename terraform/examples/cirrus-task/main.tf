# Feeds a filmdrop Cirrus task definition (definition.yaml) and task batch compute
# definition (compute-definition.yaml) from the Stratus modules: the run-geolambda image of
# the task function's runtime, pushed to ECR. filmdrop creates the function, the job
# definition and the Fargate compute that runs it.
#
# Every value the definitions take is known when Terraform plans, so filmdrop's modules plan
# in the same configuration on a first apply: filmdrop renders each definition with
# templatefile() and keys its modules by the rendered `name`, and one unknown value makes the
# whole rendered definition unknown ("Invalid for_each argument"). Hence names chosen here,
# ARNs built from them, and the image by the tag `just build` gave it rather than by the
# digest the push yields (ECR tags are immutable here, so the tag names one build).

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  task_name          = "geo-task"
  batch_compute_name = "stratus-arm64"
  function_name      = "${var.cirrus_prefix}-${local.task_name}"
  account_id         = data.aws_caller_identity.current.account_id
  region             = data.aws_region.current.id
  function_arn       = "arn:${data.aws_partition.current.partition}:lambda:${local.region}:${local.account_id}:function:${local.function_name}"

  repository_name = "${var.cirrus_prefix}/run-geolambda"
  # What the repository's URL will be, from its name: the attribute is unknown until it exists.
  repository_url = "${local.account_id}.dkr.ecr.${local.region}.${data.aws_partition.current.dns_suffix}/${local.repository_name}"
  image_tag      = regex(":([^:/]+)$", var.run_geolambda_image)[0]
}

module "run_geolambda_repository" {
  source = "../../modules/ecr-repository"

  name = local.repository_name
}

module "run_geolambda_image" {
  source = "../../modules/image-push"

  source_image   = var.run_geolambda_image
  repository_url = module.run_geolambda_repository.repository_url
  container_cli  = var.container_cli
}

locals {
  # What a filmdrop deployment passes as its task batch compute definition variables.
  task_batch_compute_definitions_variables = {
    stratus-compute = {
      name      = local.batch_compute_name
      max_vcpus = tostring(var.max_vcpus)
    }
  }

  # What a filmdrop deployment passes as its task definition variables.
  task_definitions_variables = {
    (local.task_name) = {
      runtime                 = var.task_runtime
      run_geolambda_image_uri = "${local.repository_url}:${local.image_tag}"
      task_batch_compute_name = local.batch_compute_name
      function_arn            = local.function_arn
      code_bucket             = var.code_bucket
      code_key                = var.code_key
      source_bucket           = var.source_bucket
      data_bucket             = var.data_bucket
    }
  }

  # The same interpolation filmdrop's cirrus module performs, to check the definitions render.
  batch_compute_config = yamldecode(templatefile("${path.module}/compute-definition.yaml", local.task_batch_compute_definitions_variables))
  task_config          = yamldecode(templatefile("${path.module}/definition.yaml", local.task_definitions_variables))
}
