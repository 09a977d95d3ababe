# A container-image function (gdal-lambda's own, say): a multi-container job definition whose
# containers are run-lambda serving the Runtime API and the function's image.
mock_provider "aws" {
  source = "../../mocks"
}

variables {
  name = "gdal-batch"
  image_uris = {
    "python3.11" = "123456789012.dkr.ecr.us-east-1.amazonaws.com/stratus/run-lambda@sha256:1111111111111111111111111111111111111111111111111111111111111111"
    "python3.13" = "123456789012.dkr.ecr.us-east-1.amazonaws.com/stratus/run-lambda@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    "nodejs22.x" = "123456789012.dkr.ecr.us-east-1.amazonaws.com/stratus/run-lambda@sha256:2222222222222222222222222222222222222222222222222222222222222222"
  }
  lambda_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:gdal-lambda"
  payload = {
    bucket = "stratus-payloads"
    prefix = "batch/"
  }
  environment = { RUN_LAMBDA_LOG = "debug" }
}

# GetFunction gives an image function no runtime, and its image, memory, variables and logging.
override_data {
  target = data.aws_lambda_function.this[0]
  values = {
    runtime       = ""
    image_uri     = "210987654321.dkr.ecr.eu-west-1.amazonaws.com/stratus/gdal-lambda@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    architectures = ["arm64"]
    memory_size   = 3008
    environment   = [{ variables = { OUTPUT_URL = "s3://stac/items/", AWS_ACCESS_KEY_ID = "never-the-functions" } }]
    logging_config = [{
      log_format            = "JSON"
      application_log_level = "INFO"
      system_log_level      = ""
      log_group             = ""
    }]
  }
}

run "a_multi_container_job_with_run_lambda_as_the_runtime_api" {
  command = apply

  assert {
    condition     = aws_batch_job_definition.this.container_properties == null && output.container_properties == null
    error_message = "An image function's job has no single container."
  }

  assert {
    condition = [for c in jsondecode(aws_batch_job_definition.this.ecs_properties).taskProperties[0].containers : [c.name, c.essential, c.image]] == [
      ["run-lambda", true, var.image_uris["python3.13"]],
      ["function", false, "210987654321.dkr.ecr.eu-west-1.amazonaws.com/stratus/gdal-lambda@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"],
    ]
    error_message = "run-lambda (essential: the job ends with it) and the function's own image (not essential: stopped with the task)."
  }

  assert {
    condition     = jsondecode(aws_batch_job_definition.this.ecs_properties).taskProperties[0].containers[0].command == ["run-lambda", "serve", "Ref::lambda_function", "Ref::url", "--output", "Ref::url_out", "--listen", "127.0.0.1:9001", "--runtime-container", "function"]
    error_message = "run-lambda must serve the Runtime API on the task's loopback for the Cirrus parameters, watching the function's container."
  }

  assert {
    condition     = jsondecode(aws_batch_job_definition.this.ecs_properties).taskProperties[0].containers[1].dependsOn == [{ containerName = "run-lambda", condition = "START" }]
    error_message = "The function's container must start after run-lambda's."
  }

  assert {
    condition = {
      for e in jsondecode(aws_batch_job_definition.this.ecs_properties).taskProperties[0].containers[1].environment : e.name => e.value
      } == {
      AWS_LAMBDA_RUNTIME_API          = "127.0.0.1:9001"
      AWS_LAMBDA_FUNCTION_NAME        = "gdal-lambda"
      AWS_LAMBDA_FUNCTION_VERSION     = "$LATEST"
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE = "3008"
      AWS_LAMBDA_LOG_GROUP_NAME       = "/aws/lambda/gdal-lambda"
      AWS_LAMBDA_LOG_STREAM_NAME      = "batch/[$LATEST]gdal-batch"
      AWS_LAMBDA_INITIALIZATION_TYPE  = "on-demand"
      AWS_LAMBDA_LOG_FORMAT           = "JSON"
      AWS_LAMBDA_LOG_LEVEL            = "INFO"
      AWS_REGION                      = "us-east-1"
      AWS_DEFAULT_REGION              = "us-east-1"
      TZ                              = ":UTC"
      OUTPUT_URL                      = "s3://stac/items/"
    }
    error_message = "The function's container gets what Lambda sets and the function's variables, reserved names (its credentials) left out."
  }

  assert {
    condition = alltrue([
      jsondecode(aws_batch_job_definition.this.ecs_properties).taskProperties[0].containers[1].resourceRequirements == [{ type = "VCPU", value = "1" }, { type = "MEMORY", value = "4096" }],
      !can(jsondecode(aws_batch_job_definition.this.ecs_properties).taskProperties[0].containers[0].resourceRequirements),
      jsondecode(aws_batch_job_definition.this.ecs_properties).taskProperties[0].containers[0].environment == [{ name = "RUN_LAMBDA_LOG", value = "debug" }],
    ])
    error_message = "The function's container gets the job's vCPUs and memory (the task's size is their sum: a valid Fargate size); run-lambda gets the job's variables."
  }

  assert {
    condition = alltrue([
      jsondecode(aws_batch_job_definition.this.ecs_properties).taskProperties[0].executionRoleArn == aws_iam_role.execution[0].arn,
      jsondecode(aws_batch_job_definition.this.ecs_properties).taskProperties[0].taskRoleArn == aws_iam_role.job.arn,
      jsondecode(aws_batch_job_definition.this.ecs_properties).taskProperties[0].platformVersion == "LATEST",
      jsondecode(aws_batch_job_definition.this.ecs_properties).taskProperties[0].runtimePlatform == { operatingSystemFamily = "LINUX", cpuArchitecture = "ARM64" },
      jsondecode(aws_batch_job_definition.this.ecs_properties).taskProperties[0].networkConfiguration == { assignPublicIp = "DISABLED" },
    ])
    error_message = "On Fargate the task gets the execution role, the job role for both containers, the platform and no public IP."
  }

  assert {
    condition = one([for s in data.aws_iam_policy_document.execution[0].statement : s.resources if s.sid == "PullImage"]) == toset([
      "arn:aws:ecr:us-east-1:123456789012:repository/stratus/run-lambda",
      "arn:aws:ecr:eu-west-1:210987654321:repository/stratus/gdal-lambda",
    ])
    error_message = "The execution role must pull run-lambda's image and the function's, from their repositories only."
  }

  assert {
    condition     = output.runtime == "" && output.function_image_uri == "210987654321.dkr.ecr.eu-west-1.amazonaws.com/stratus/gdal-lambda@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" && output.image_uri == var.image_uris["python3.13"]
    error_message = "Outputs must name both images."
  }

  assert {
    condition     = aws_batch_job_definition.this.parameters == tomap({ lambda_function = var.lambda_function_arn, url = "filler", url_out = "filler" })
    error_message = "Cirrus' parameters are the same as for a zip function's job."
  }
}

run "image_config_and_an_own_log_group_on_ec2" {
  command = apply

  variables {
    platform         = "EC2"
    runner_image_uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/stratus/run-lambda@sha256:3333333333333333333333333333333333333333333333333333333333333333"
    log_group_name   = "/stratus/gdal-batch"
    image_config     = { entry_point = ["/usr/local/bin/entry", "--quiet"], command = ["handler"], working_directory = "/var/task" }
  }

  assert {
    condition = alltrue([
      jsondecode(aws_batch_job_definition.this.ecs_properties).taskProperties[0].containers[1].entryPoint == ["/usr/local/bin/entry", "--quiet"],
      jsondecode(aws_batch_job_definition.this.ecs_properties).taskProperties[0].containers[1].command == ["handler"],
      jsondecode(aws_batch_job_definition.this.ecs_properties).taskProperties[0].containers[1].workingDirectory == "/var/task",
    ])
    error_message = "The function's ImageConfig must be applied to its container."
  }

  assert {
    condition     = jsondecode(aws_batch_job_definition.this.ecs_properties).taskProperties[0].containers[0].image == var.runner_image_uri
    error_message = "runner_image_uri must be the run-lambda container's image."
  }

  assert {
    condition = alltrue([
      for c in jsondecode(aws_batch_job_definition.this.ecs_properties).taskProperties[0].containers :
      c.logConfiguration.options["awslogs-group"] == "/stratus/gdal-batch"
    ])
    error_message = "Both containers must log to the job's own group."
  }

  assert {
    condition     = !can(jsondecode(aws_batch_job_definition.this.ecs_properties).taskProperties[0].runtimePlatform) && !can(jsondecode(aws_batch_job_definition.this.ecs_properties).taskProperties[0].platformVersion)
    error_message = "EC2 jobs take no Fargate settings."
  }
}

run "an_entry_point_needs_a_command" {
  command = plan

  variables {
    image_config = { entry_point = ["/entry"] }
  }

  expect_failures = [var.image_config]
}

run "image_config_is_for_image_functions_only" {
  command = plan

  override_data {
    target = data.aws_lambda_function.this[0]
    values = { runtime = "python3.13", architectures = ["arm64"] }
  }

  variables {
    image_config = { command = ["app.handler"] }
  }

  expect_failures = [aws_batch_job_definition.this]
}

run "an_image_of_another_architecture_is_refused" {
  command = plan

  override_data {
    target = data.aws_lambda_function.this[0]
    values = { runtime = "", image_uri = "210987654321.dkr.ecr.eu-west-1.amazonaws.com/stratus/gdal-lambda:1", architectures = ["x86_64"] }
  }

  expect_failures = [aws_batch_job_definition.this]
}

run "the_image_deployed_in_the_same_apply" {
  command = plan

  variables {
    function_image_uri = "210987654321.dkr.ecr.eu-west-1.amazonaws.com/stratus/gdal-lambda@sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
  }

  assert {
    condition     = jsondecode(aws_batch_job_definition.this.ecs_properties).taskProperties[0].containers[1].image == var.function_image_uri && output.function_image_uri == var.function_image_uri
    error_message = "function_image_uri must be the function container's image, over the one GetFunction reported at plan."
  }
}
