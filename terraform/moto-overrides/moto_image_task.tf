# Only for the moto round trip (scripts/terraform/moto-roundtrip.sh copies this into a copy of
# the root configuration): the lambda-batch-task module for a container-image function, gdal-lambda's
# own, as a Batch job (run-lambda serving the Runtime API, the function's image as its runtime).
# The module reads the function from moto's Lambda (an image function: no runtime, its image,
# memory and variables), and its roles and their policies go to moto's IAM. moto 5.2 refuses a job
# definition with ecsProperties ("containerProperties or eksProperties must be provided"), so
# against moto the job definition registers run-lambda's container alone
# (lambda-batch-task__moto_image.tf); the function's container and the task properties are
# covered by the module's `terraform test` (tests/image_function.tftest.hcl).
module "image_task" {
  source = "./modules/lambda-batch-task"

  name                      = "${var.name}-gdal-lambda-batch"
  role_path                 = var.role_path
  role_permissions_boundary = var.role_permissions_boundary
  image_uris = {
    for k, uri in local.image_uris : split("/", k)[1] => uri if startswith(k, "run_lambda/")
  }
  lambda_function_arn = module.gdal_lambda.function_arn
  # The image this apply deploys (read from the function, it would be the previous one).
  function_image_uri = module.gdal_lambda.image_uri
  payload = {
    bucket = module.payload_bucket.name
    prefix = var.payload_prefix
  }
  platform         = module.batch.compute_environment_is_fargate ? "FARGATE" : "EC2"
  cpu_architecture = local.batch_architecture
  assign_public_ip = local.use_default_vpc
}

# What the round trip checks of it, at every apply and plan.
resource "terraform_data" "image_task_checked" {
  input = module.image_task.job_definition_arn

  lifecycle {
    precondition {
      condition     = module.image_task.runtime == "" && module.image_task.function_image_uri == module.gdal_lambda.image_uri
      error_message = "The image task must read gdal-lambda from moto's Lambda as an image function (no runtime) and run its image, not ${coalesce(module.image_task.function_image_uri, "nothing")}."
    }

    precondition {
      condition     = can(regex("/run-lambda@sha256:", module.image_task.image_uri))
      error_message = "The image task's run-lambda container must run a run-lambda image, not ${module.image_task.image_uri}."
    }
  }
}
