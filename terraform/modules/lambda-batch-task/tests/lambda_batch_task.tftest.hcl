mock_provider "aws" {
  source = "../../mocks"
}

variables {
  name = "stratus-task"
  image_uris = {
    "python3.11" = "123456789012.dkr.ecr.us-east-1.amazonaws.com/stratus/run-lambda@sha256:1111111111111111111111111111111111111111111111111111111111111111"
    "python3.13" = "123456789012.dkr.ecr.us-east-1.amazonaws.com/stratus/run-lambda@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    "nodejs22.x" = "123456789012.dkr.ecr.us-east-1.amazonaws.com/stratus/run-lambda@sha256:2222222222222222222222222222222222222222222222222222222222222222"
  }
  lambda_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:my-cirrus-task"
  payload = {
    bucket = "stratus-payloads"
    prefix = "payloads/"
  }
}

run "cirrus_command_and_parameters" {
  command = apply

  assert {
    condition     = jsondecode(aws_batch_job_definition.this.container_properties).command == ["run", "Ref::lambda_function", "Ref::url", "--output", "Ref::url_out"]
    error_message = "The job must run the run-lambda command with Cirrus' parameters."
  }

  assert {
    condition = aws_batch_job_definition.this.parameters == tomap({
      lambda_function = "arn:aws:lambda:us-east-1:123456789012:function:my-cirrus-task"
      url             = "filler"
      url_out         = "filler"
    })
    error_message = "Default parameters must name the function by ARN and fill url/url_out with non-empty placeholders."
  }

  assert {
    condition     = jsondecode(aws_batch_job_definition.this.container_properties).image == var.image_uris["python3.13"] && output.image_uri == var.image_uris["python3.13"] && output.runtime == "python3.13"
    error_message = "The job must run the digest-pinned image of the function's runtime (python3.13), and say so."
  }

  assert {
    condition     = jsondecode(aws_batch_job_definition.this.container_properties).runtimePlatform == { operatingSystemFamily = "LINUX", cpuArchitecture = "ARM64" }
    error_message = "Fargate jobs must run on ARM64 by default."
  }

  assert {
    condition     = aws_batch_job_definition.this.platform_capabilities == toset(["FARGATE"]) && jsondecode(aws_batch_job_definition.this.container_properties).networkConfiguration.assignPublicIp == "DISABLED"
    error_message = "Jobs must run on Fargate without a public IP by default."
  }

  assert {
    condition = jsondecode(aws_batch_job_definition.this.container_properties).resourceRequirements == [
      { type = "VCPU", value = "1" },
      { type = "MEMORY", value = "4096" },
    ]
    error_message = "Resource requirements must come from vcpus and memory_mib."
  }

  assert {
    condition     = !can(jsondecode(aws_batch_job_definition.this.container_properties).logConfiguration) && length(aws_cloudwatch_log_group.this) == 0 && output.log_group_name == "/aws/batch/job"
    error_message = "By default jobs must keep Batch's default logging to /aws/batch/job, where Cirrus' post-batch reads them."
  }

  assert {
    condition     = aws_iam_role.job.name_prefix == "stratus-task-job-" && aws_iam_role.job.path == "/" && aws_iam_role.job.permissions_boundary == null
    error_message = "Role names must get a unique suffix (two stacks or regions in one account), on the default path."
  }

  assert {
    condition     = aws_batch_job_definition.this.retry_strategy[0].attempts == 3 && aws_batch_job_definition.this.timeout[0].attempt_duration_seconds == 3600
    error_message = "Retry strategy and timeout must be set."
  }

  assert {
    condition     = output.job_definition_arn == "arn:aws:batch:us-east-1:123456789012:job-definition/stratus-task:1" && output.job_definition_name == "stratus-task"
    error_message = "Outputs must name the job definition."
  }
}

run "job_role_is_scoped_to_the_function_and_payloads" {
  command = apply

  variables {
    lambda_layer_arns = ["arn:aws:lambda:us-east-1:123456789012:layer:gdal:3"]
  }

  assert {
    condition = {
      for s in data.aws_iam_policy_document.job.statement : s.sid => {
        actions   = s.actions
        resources = s.resources
      }
      } == {
      ReadFunction = {
        actions   = toset(["lambda:GetFunction"])
        resources = toset(["arn:aws:lambda:us-east-1:123456789012:function:my-cirrus-task", "arn:aws:lambda:us-east-1:123456789012:function:my-cirrus-task:*"])
      }
      ReadLayers = {
        actions   = toset(["lambda:GetLayerVersion"])
        resources = toset(["arn:aws:lambda:us-east-1:123456789012:layer:gdal:3"])
      }
      ReadWritePayloads = {
        actions   = toset(["s3:GetObject", "s3:PutObject"])
        resources = toset(["arn:aws:s3:::stratus-payloads/payloads/*"])
      }
    }
    error_message = "The job role must read only this function and its layers, and read/write only the payload prefix."
  }

  assert {
    condition     = length(aws_iam_role_policy.additional) == 0
    error_message = "No extra policy unless one is given."
  }
}

run "execution_role_pulls_only_this_repository" {
  command = apply

  assert {
    condition = {
      for s in data.aws_iam_policy_document.execution[0].statement : s.sid => s.resources
      } == {
      PullImage       = toset(["arn:aws:ecr:us-east-1:123456789012:repository/stratus/run-lambda"])
      LogInToRegistry = toset(["*"])
      WriteJobLogs    = toset(["arn:aws:logs:us-east-1:123456789012:log-group:/aws/batch/job:*"])
    }
    error_message = "The execution role must pull only the job's repository and write only the job's logs."
  }

  assert {
    condition     = jsondecode(aws_batch_job_definition.this.container_properties).executionRoleArn == aws_iam_role.execution[0].arn
    error_message = "The job must use the execution role."
  }
}

run "shared_execution_role_on_ec2" {
  command = plan

  variables {
    execution_role_arn    = "arn:aws:iam::123456789012:role/stratus-ecs-task-execution"
    platform              = "EC2"
    ephemeral_storage_gib = 50
    additional_policy_json = jsonencode({
      Version   = "2012-10-17"
      Statement = [{ Effect = "Allow", Action = "s3:GetObject", Resource = "arn:aws:s3:::sentinel-cogs/*" }]
    })
  }

  assert {
    condition     = length(aws_iam_role.execution) == 0 && output.execution_role_arn == var.execution_role_arn
    error_message = "A given execution role must be used instead of creating one."
  }

  assert {
    condition     = !can(jsondecode(aws_batch_job_definition.this.container_properties).runtimePlatform) && !can(jsondecode(aws_batch_job_definition.this.container_properties).ephemeralStorage)
    error_message = "EC2 jobs take no Fargate settings."
  }

  assert {
    condition     = length(aws_iam_role_policy.additional) == 1
    error_message = "The function's own permissions must be added to the job role."
  }
}

run "rejects_unpinned_image_and_qualified_function" {
  command = plan

  variables {
    image_uris          = { "python3.13" = "123456789012.dkr.ecr.us-east-1.amazonaws.com/stratus/run-lambda:latest" }
    lambda_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:my-cirrus-task:prod"
  }

  expect_failures = [var.image_uris, var.lambda_function_arn]
}

run "picks_the_node_image_for_a_node_function" {
  command = plan

  override_data {
    target = data.aws_lambda_function.this[0]
    values = { runtime = "nodejs22.x", architectures = ["arm64"] }
  }

  assert {
    condition     = output.image_uri == var.image_uris["nodejs22.x"] && output.runtime == "nodejs22.x"
    error_message = "A nodejs22.x function must get the nodejs22.x image."
  }
}

run "refuses_a_runtime_without_an_image" {
  command = plan

  override_data {
    target = data.aws_lambda_function.this[0]
    values = { runtime = "python3.14", architectures = ["arm64"] }
  }

  expect_failures = [aws_batch_job_definition.this]
}

run "picks_the_python3_13_image_among_several_and_pulls_from_its_repository" {
  command = apply

  variables {
    image_uris = {
      "python3.11" = "123456789012.dkr.ecr.us-east-1.amazonaws.com/stratus/run-lambda@sha256:1111111111111111111111111111111111111111111111111111111111111111"
      "python3.13" = "123456789012.dkr.ecr.us-east-1.amazonaws.com/stratus/run-geolambda@sha256:3333333333333333333333333333333333333333333333333333333333333333"
      "python3.14" = "123456789012.dkr.ecr.us-east-1.amazonaws.com/stratus/run-lambda@sha256:4444444444444444444444444444444444444444444444444444444444444444"
    }
  }

  assert {
    condition     = output.runtime == "python3.13" && output.image_uri == var.image_uris["python3.13"] && jsondecode(aws_batch_job_definition.this.container_properties).image == var.image_uris["python3.13"]
    error_message = "A python3.13 function must run the python3.13 image, whichever others are given."
  }

  assert {
    condition     = one([for s in data.aws_iam_policy_document.execution[0].statement : s.resources if s.sid == "PullImage"]) == toset(["arn:aws:ecr:us-east-1:123456789012:repository/stratus/run-geolambda"])
    error_message = "The execution role must pull from the chosen image's repository."
  }
}

run "refuses_a_function_of_another_architecture" {
  command = plan

  override_data {
    target = data.aws_lambda_function.this[0]
    values = { runtime = "python3.13", architectures = ["x86_64"] }
  }

  expect_failures = [aws_batch_job_definition.this]
}

run "a_given_runtime_reads_no_function" {
  command = plan

  variables {
    function_runtime = "python3.13"
  }

  assert {
    condition     = length(data.aws_lambda_function.this) == 0 && output.image_uri == var.image_uris["python3.13"]
    error_message = "With function_runtime the module must not read the function, and must pick that runtime's image."
  }
}

run "rejects_leading_wildcards" {
  command = plan

  variables {
    retry_strategy = {
      attempts         = 2
      evaluate_on_exit = [{ action = "RETRY", on_reason = "*Spot*" }]
    }
  }

  expect_failures = [var.retry_strategy]
}

run "own_log_group_roles_in_a_path_and_a_boundary" {
  command = apply

  variables {
    log_group_name            = "/stratus/jobs"
    role_path                 = "/stratus/"
    role_permissions_boundary = "arn:aws:iam::123456789012:policy/boundary"
    scheduling_priority       = 5
  }

  assert {
    condition = jsondecode(aws_batch_job_definition.this.container_properties).logConfiguration == {
      logDriver = "awslogs"
      options = {
        awslogs-group         = "/stratus/jobs"
        awslogs-region        = "us-east-1"
        awslogs-stream-prefix = "stratus-task"
      }
    }
    error_message = "A named log group must be created and used."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this[0].name == "/stratus/jobs" && output.log_group_name == "/stratus/jobs"
    error_message = "The named log group must be the module's own."
  }

  assert {
    condition = alltrue([
      for r in concat([aws_iam_role.job], aws_iam_role.execution) :
      r.path == "/stratus/" && r.permissions_boundary == "arn:aws:iam::123456789012:policy/boundary"
    ])
    error_message = "Every role must take the path and the permissions boundary."
  }

  assert {
    condition     = aws_batch_job_definition.this.scheduling_priority == 5
    error_message = "The scheduling priority must be passed on."
  }
}

run "a_deprecated_runtime_runs_with_a_warning" {
  command = plan

  variables {
    image_uris = {
      "python3.10" = "123456789012.dkr.ecr.us-east-1.amazonaws.com/stratus/run-lambda@sha256:5555555555555555555555555555555555555555555555555555555555555555"
    }
  }

  override_data {
    target = data.aws_lambda_function.this[0]
    values = { runtime = "python3.10", architectures = ["arm64"] }
  }

  # Deprecated on 2026-10-31: the check's warning names the date; the job definition is made
  # all the same, for the existing function.
  expect_failures = [check.function_runtime_is_current]

  assert {
    condition     = output.image_uri == var.image_uris["python3.10"]
    error_message = "An existing python3.10 function must still get its image."
  }
}

run "a_new_function_on_a_deprecated_runtime_is_refused" {
  command = plan

  variables {
    function_runtime = "python3.10"
  }

  expect_failures = [var.function_runtime]
}

run "a_provided_function_runs_in_any_image" {
  command = plan

  variables {
    function_runtime = "provided.al2023"
  }

  assert {
    condition     = output.image_uri == var.image_uris["python3.13"] && jsondecode(aws_batch_job_definition.this.container_properties).image == var.image_uris["python3.13"]
    error_message = "A provided.al2023 function's bootstrap runs in any run-lambda image (the last by runtime name)."
  }
}
