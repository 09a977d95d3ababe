mock_provider "aws" {
  source = "../../mocks"

  # A Cirrus deployment in us-west-2, with its own names.
  mock_data "aws_region" {
    defaults = {
      id = "us-west-2"
    }
  }

  mock_resource "aws_ecr_repository" {
    defaults = {
      repository_url = "123456789012.dkr.ecr.us-west-2.amazonaws.com/cirrus-dev/run-geolambda"
    }
  }
}

variables {
  cirrus_prefix       = "cirrus-dev"
  run_geolambda_image = "stratus/run-geolambda:0.1.0-3f2c1ab-python3.13"
  code_bucket         = "cirrus-dev-code"
  code_key            = "tasks/geo-task.zip"
  source_bucket       = "sentinel-cogs"
  data_bucket         = "cirrus-dev-data"
  # Stands in for the container CLI: a real push needs an engine and a registry.
  container_cli = "../../modules/image-push/tests/stand-in-cli"
}

run "renders_a_filmdrop_task" {
  command = apply

  assert {
    condition     = jsondecode(output.task_config.batch.container_properties).command == ["run", "Ref::lambda_function", "Ref::url", "--output", "Ref::url_out", "--timeout", "14400"]
    error_message = "The Batch form must run the run-lambda command, its time limit given to run-lambda."
  }

  assert {
    condition     = jsondecode(output.task_config.batch.container_properties).image == "123456789012.dkr.ecr.us-west-2.amazonaws.com/cirrus-dev/run-geolambda:0.1.0-3f2c1ab-python3.13"
    error_message = "The Batch form must run the pushed run-geolambda build by its (immutable) tag, known at plan time."
  }

  assert {
    condition     = output.run_geolambda_image_digest_uri == "123456789012.dkr.ecr.us-west-2.amazonaws.com/cirrus-dev/run-geolambda@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    error_message = "The tag must have been pushed to the repository the definition names."
  }

  assert {
    condition     = output.task_config.lambda.runtime == "python3.13"
    error_message = "The Lambda form must be deployed on the runtime the Batch form's image is built for."
  }

  assert {
    condition = output.task_config.batch.parameters == {
      lambda_function = "arn:aws:lambda:us-west-2:123456789012:function:cirrus-dev-geo-task"
      url             = "filler"
      url_out         = "filler"
    }
    error_message = "The job must default to the task's own function and non-empty url placeholders."
  }

  assert {
    condition = one([for s in output.task_config.batch.role_statements : s if s.sid == "ReadTaskFunction"]) == {
      sid       = "ReadTaskFunction"
      effect    = "Allow"
      actions   = ["lambda:GetFunction"]
      resources = ["arn:aws:lambda:us-west-2:123456789012:function:cirrus-dev-geo-task", "arn:aws:lambda:us-west-2:123456789012:function:cirrus-dev-geo-task:*"]
    }
    error_message = "The job role may read the task's function only."
  }

  assert {
    condition = output.batch_compute_config == {
      name                      = "stratus-arm64"
      batch_compute_environment = { compute_resources = { type = "FARGATE", max_vcpus = 16 } }
    }
    error_message = "The compute definition must have filmdrop create a Fargate environment (arm64 jobs run on it)."
  }

  assert {
    condition     = output.task_config.batch.task_batch_compute_name == output.batch_compute_config.name
    error_message = "The task must run in that compute definition."
  }

  assert {
    condition     = !can(jsondecode(output.task_config.batch.container_properties).executionRoleArn) && jsondecode(output.task_config.batch.container_properties).runtimePlatform.cpuArchitecture == "ARM64"
    error_message = "filmdrop's compute gives the execution role (the container properties would override it); the job runs on arm64."
  }

  assert {
    condition     = one([for s in output.task_config.common_role_statements : s.resources if s.sid == "WriteCirrusData"]) == ["arn:aws:s3:::cirrus-dev-data/*"]
    error_message = "The task writes to the data bucket named by data_bucket (known at plan time), not by filmdrop's CIRRUS_DATA_BUCKET."
  }

  assert {
    condition     = !can(jsondecode(output.task_config.batch.container_properties).logConfiguration) && !can(output.task_config.batch.timeout_seconds)
    error_message = "The job must log to /aws/batch/job (Batch's default, read by post-batch), and the task must not set batch.timeout_seconds (filmdrop fails at plan on it)."
  }

  assert {
    condition     = output.task_config.lambda.architectures == ["arm64"] && output.task_config.lambda.s3_key == "tasks/geo-task.zip"
    error_message = "The Lambda form must be the zip-packaged arm64 function."
  }
}

run "refuses_an_image_of_another_runtime" {
  command = plan

  variables {
    run_geolambda_image = "stratus/run-geolambda:0.1.0-3f2c1ab-python3.11"
  }

  expect_failures = [var.run_geolambda_image]
}

# filmdrop keys its modules by the rendered definitions: on a first apply, with nothing
# created yet, every value they take must already be known at plan time.
run "definitions_are_known_at_plan_time" {
  command = plan

  assert {
    condition     = output.task_config.name == "geo-task" && output.batch_compute_config.name == "stratus-arm64" && jsondecode(output.task_config.batch.container_properties).image == "123456789012.dkr.ecr.us-west-2.amazonaws.com/cirrus-dev/run-geolambda:0.1.0-3f2c1ab-python3.13"
    error_message = "The rendered definitions must be known at plan time, before the repository exists and the image is pushed."
  }
}
