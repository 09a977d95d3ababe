# The root configuration's wiring, on a mocked provider with pushing off (no engine,
# no registry): the moto round trip (`just test-terraform-moto`) covers the real API calls.
mock_provider "aws" {
  source = "./mocks"

  # The task function, as GetFunction describes it: a python3.11 one here.
  mock_data "aws_lambda_function" {
    defaults = {
      runtime       = "python3.11"
      architectures = ["arm64"]
    }
  }
}

variables {
  batch_task_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:cirrus-geo-task"
  push_images             = false
  images = {
    "gdal_lambda"              = "123456789012.dkr.ecr.us-east-1.amazonaws.com/stratus/gdal-lambda@sha256:1111111111111111111111111111111111111111111111111111111111111111"
    "run_lambda/python3.13"    = "123456789012.dkr.ecr.us-east-1.amazonaws.com/stratus/run-lambda@sha256:2222222222222222222222222222222222222222222222222222222222222222"
    "run_lambda/nodejs22.x"    = "123456789012.dkr.ecr.us-east-1.amazonaws.com/stratus/run-lambda@sha256:4444444444444444444444444444444444444444444444444444444444444444"
    "run_geolambda/python3.11" = "123456789012.dkr.ecr.us-east-1.amazonaws.com/stratus/run-geolambda@sha256:3333333333333333333333333333333333333333333333333333333333333333"
    "run_geolambda/python3.13" = "123456789012.dkr.ecr.us-east-1.amazonaws.com/stratus/run-geolambda@sha256:5555555555555555555555555555555555555555555555555555555555555555"
  }
}

run "deploys_the_given_digests_without_pushing" {
  command = apply

  assert {
    condition     = length(module.image) == 0
    error_message = "push_images = false must push nothing."
  }

  assert {
    condition     = module.gdal_lambda.image_uri == var.images.gdal_lambda
    error_message = "The function must run the given gdal-lambda digest."
  }

  assert {
    condition     = jsondecode(module.batch_task[0].container_properties).image == var.images["run_geolambda/python3.11"] && output.batch_task.runtime == "python3.11" && output.batch_task.image_uri == var.images["run_geolambda/python3.11"]
    error_message = "The job definition must run the given run-geolambda digest of the function's runtime, and say so."
  }

  assert {
    condition     = keys(module.ecr) == ["gdal_lambda", "run_geolambda", "run_lambda"]
    error_message = "There must be a repository per image."
  }
}

run "wiring" {
  command = apply

  assert {
    condition     = module.raster_bucket.name == "stratus-rasters-123456789012-us-east-1" && module.payload_bucket.name == "stratus-payloads-123456789012-us-east-1"
    error_message = "Buckets are named after the prefix, the account and the region."
  }

  assert {
    condition = alltrue([
      for f in module.gdal_lambda.notification : f.filter_prefix == "rasters/" && !startswith(var.output_prefix, f.filter_prefix)
    ])
    error_message = "The trigger watches rasters/ and never the STAC output."
  }

  assert {
    condition     = jsondecode(module.batch_task[0].container_properties).networkConfiguration.assignPublicIp == "ENABLED"
    error_message = "In the default VPC (no NAT), Fargate jobs need a public IP to reach AWS APIs."
  }

  assert {
    condition     = output.batch.compute_environment_is_fargate && output.job_queue_arn != null
    error_message = "The Batch environment is Fargate by default."
  }
}

run "private_subnets_get_no_public_ip" {
  command = plan

  variables {
    subnet_ids         = ["subnet-0123456789abcdef0"]
    security_group_ids = ["sg-0123456789abcdef0"]
  }

  assert {
    condition     = length(aws_security_group.batch) == 0 && length(data.aws_vpcs.default) == 0
    error_message = "Given subnets and security groups are used as they are."
  }
}

run "rejects_unpinned_images_without_pushing" {
  command = plan

  variables {
    images = {
      "gdal_lambda"           = "stratus/gdal-lambda:0.1.0-3f2c1ab"
      "run_lambda/python3.13" = "stratus/run-lambda:0.1.0-3f2c1ab-python3.13"
    }
  }

  expect_failures = [var.images]
}

run "rejects_images_not_keyed_by_runtime" {
  command = plan

  variables {
    images = {
      "gdal_lambda" = "123456789012.dkr.ecr.us-east-1.amazonaws.com/stratus/gdal-lambda@sha256:1111111111111111111111111111111111111111111111111111111111111111"
      "run_lambda"  = "123456789012.dkr.ecr.us-east-1.amazonaws.com/stratus/run-lambda@sha256:2222222222222222222222222222222222222222222222222222222222222222"
    }
  }

  expect_failures = [var.images]
}

run "a_run_lambda_task_gets_the_image_of_its_runtime" {
  command = plan

  variables {
    batch_task_image            = "run_lambda"
    batch_task_function_runtime = "nodejs22.x"
  }

  assert {
    condition     = output.batch_task.image_uri == var.images["run_lambda/nodejs22.x"] && output.batch_task.runtime == "nodejs22.x"
    error_message = "A nodejs22.x task on run_lambda must get the run-lambda nodejs22.x image."
  }
}

run "a_python3_13_task_gets_the_python3_13_image" {
  command = plan

  override_data {
    target = module.batch_task[0].data.aws_lambda_function.this[0]
    values = { runtime = "python3.13", architectures = ["arm64"] }
  }

  assert {
    condition     = output.batch_task.runtime == "python3.13" && output.batch_task.image_uri == var.images["run_geolambda/python3.13"]
    error_message = "A python3.13 task must get run-geolambda's python3.13 image, not another runtime's or run-lambda's."
  }
}

run "a_task_needs_images_of_its_family" {
  command = plan

  variables {
    images = {
      "gdal_lambda"              = "123456789012.dkr.ecr.us-east-1.amazonaws.com/stratus/gdal-lambda@sha256:1111111111111111111111111111111111111111111111111111111111111111"
      "run_geolambda/python3.11" = "123456789012.dkr.ecr.us-east-1.amazonaws.com/stratus/run-geolambda@sha256:3333333333333333333333333333333333333333333333333333333333333333"
    }
    batch_task_image = "run_lambda"
  }

  expect_failures = [var.batch_task_image]
}

run "rejects_overlapping_prefixes" {
  command = plan

  variables {
    output_prefix = "rasters/stac/"
  }

  expect_failures = [var.output_prefix]
}

run "no_job_definition_without_a_runnable_function" {
  command = plan

  variables {
    batch_task_function_arn = null
  }

  assert {
    condition     = length(module.batch_task) == 0 && output.batch_task == null
    error_message = "Without a zip-packaged target function there must be no job definition (gdal-lambda is an image function)."
  }
}

run "no_default_vpc_is_explained" {
  command = plan

  override_data {
    target = data.aws_vpcs.default[0]
    values = {
      ids = []
    }
  }

  expect_failures = [data.aws_subnets.default]
}

# A real task reads its data and may use layers: the job runs its code under the job role,
# which must then hold the function's own permissions and read its layers.
run "job_role_gets_the_functions_permissions_and_layers" {
  command = apply

  variables {
    batch_task_layer_arns = ["arn:aws:lambda:us-east-1:123456789012:layer:gdal:3", "arn:aws:lambda:us-east-1:123456789012:layer:numpy:12"]
    batch_task_additional_policy_json = jsonencode({
      Version   = "2012-10-17"
      Statement = [{ Sid = "ReadSourceData", Effect = "Allow", Action = "s3:GetObject", Resource = "arn:aws:s3:::sentinel-cogs/*" }]
    })
  }

  assert {
    condition = module.batch_task[0].job_role_permissions.statements.ReadLayers == {
      actions   = toset(["lambda:GetLayerVersion"])
      resources = toset(["arn:aws:lambda:us-east-1:123456789012:layer:gdal:3", "arn:aws:lambda:us-east-1:123456789012:layer:numpy:12"])
    }
    error_message = "The job role must read the function's layers, and only those."
  }

  assert {
    condition     = jsondecode(module.batch_task[0].job_role_permissions.additional_policy_json).Statement[0].Resource == "arn:aws:s3:::sentinel-cogs/*"
    error_message = "The function's own policy must be added to the job role."
  }
}

run "job_role_gets_nothing_more_by_default" {
  command = plan

  assert {
    condition     = !contains(keys(module.batch_task[0].job_role_permissions.statements), "ReadLayers") && module.batch_task[0].job_role_permissions.additional_policy_json == null
    error_message = "Without layers or a policy of its own the job role reads the function and the payloads only."
  }
}

run "function_permissions_need_a_job_definition" {
  command = plan

  variables {
    batch_task_function_arn = null
    batch_task_layer_arns   = ["arn:aws:lambda:us-east-1:123456789012:layer:gdal:3"]
    batch_task_additional_policy_json = jsonencode({
      Version   = "2012-10-17"
      Statement = [{ Effect = "Allow", Action = "s3:GetObject", Resource = "arn:aws:s3:::sentinel-cogs/*" }]
    })
  }

  expect_failures = [var.batch_task_layer_arns, var.batch_task_additional_policy_json]
}

run "a_destroy_stops_before_deleting_repositories_with_images" {
  command = apply

  # The given digests are in the stack's own repositories.
  assert {
    condition     = strcontains(terraform_data.destroy_guard.output, "The ECR repositories stratus/gdal-lambda, stratus/run-geolambda, stratus/run-lambda hold the images this stack runs") && strcontains(terraform_data.destroy_guard.output, "`terraform apply -var force_delete_images=true`")
    error_message = "A destroy must stop at the guard, naming the repositories and the variable to set."
  }
}

run "force_delete_images_lets_the_destroy_through" {
  command = apply

  variables {
    force_delete_images = true
  }

  assert {
    condition     = terraform_data.destroy_guard.output == ""
    error_message = "With force_delete_images the guard must let the destroy through."
  }
}

run "backfill_is_opt_in" {
  command = plan

  assert {
    condition     = length(module.backfill) == 0 && output.backfill == null
    error_message = "A deployment has no backfill resources unless it asks for them."
  }
}

run "backfill_reads_the_watched_prefix_and_writes_beside_the_items" {
  command = apply

  variables {
    backfill = {
      enabled              = true
      reserved_concurrency = 25
      state_machine        = { items_per_batch = 50 }
    }
  }

  assert {
    condition     = module.backfill[0].function_name == "stratus-backfill" && module.backfill[0].reports == "s3://stratus-payloads-123456789012-us-east-1/backfill/"
    error_message = "The backfill function and its reports must be named after the deployment."
  }

  assert {
    condition = (
      module.backfill[0].job_operation.LambdaInvoke.InvocationSchemaVersion == "2.0" &&
      module.backfill[0].job_report.ReportScope == "AllTasks"
    )
    error_message = "Jobs invoke the function with schema 2.0 and report every task."
  }
}

# (The last run: the test's own destroy at the end must get through the guard.)
run "images_from_another_registry_leave_the_repositories_empty" {
  command = apply

  variables {
    images = {
      "gdal_lambda"              = "210987654321.dkr.ecr.us-east-1.amazonaws.com/shared/gdal-lambda@sha256:1111111111111111111111111111111111111111111111111111111111111111"
      "run_geolambda/python3.11" = "210987654321.dkr.ecr.us-east-1.amazonaws.com/shared/run-geolambda@sha256:3333333333333333333333333333333333333333333333333333333333333333"
    }
  }

  assert {
    condition     = terraform_data.destroy_guard.output == ""
    error_message = "Empty repositories must not stop a destroy."
  }
}
