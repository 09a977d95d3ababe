mock_provider "aws" {
  source = "../../mocks"
}

variables {
  name               = "stratus"
  subnet_ids         = ["subnet-0123456789abcdef0"]
  security_group_ids = ["sg-0123456789abcdef0"]
}

run "fargate_by_default" {
  command = apply

  assert {
    condition     = aws_batch_compute_environment.this.compute_resources[0].type == "FARGATE" && aws_batch_compute_environment.this.type == "MANAGED"
    error_message = "The default compute environment must be managed Fargate."
  }

  assert {
    condition = (
      aws_batch_compute_environment.this.compute_resources[0].subnets == toset(var.subnet_ids) &&
      aws_batch_compute_environment.this.compute_resources[0].security_group_ids == toset(var.security_group_ids)
    )
    error_message = "Jobs must run in the given subnets and security groups."
  }

  assert {
    condition     = length(aws_iam_role.instance) == 0 && length(aws_iam_instance_profile.instance) == 0
    error_message = "Fargate needs no instance role."
  }

  assert {
    condition     = aws_iam_role_policy_attachment.task_execution.policy_arn == "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
    error_message = "The task execution role must only pull images and write logs."
  }

  assert {
    condition     = aws_batch_job_queue.this.compute_environment_order[0].compute_environment == output.compute_environment_arn
    error_message = "The queue must feed the compute environment."
  }

  assert {
    condition = output.batch == {
      compute_environment_arn        = "arn:aws:batch:us-east-1:123456789012:compute-environment/tf-stratus"
      compute_environment_is_fargate = true
      ecs_task_execution_role_arn    = "arn:aws:iam::123456789012:role/stratus-ecs-task-execution"
      job_queue_arn                  = "arn:aws:batch:us-east-1:123456789012:job-queue/stratus"
      job_queue_is_fair_share        = false
    }
    error_message = "The batch output must have the shape of filmdrop's task-batch-compute output."
  }
}

run "graviton_spot" {
  command = apply

  variables {
    compute_type = "SPOT"
    ec2 = {
      min_vcpus = 2
    }
  }

  assert {
    condition = (
      aws_batch_compute_environment.this.compute_resources[0].type == "SPOT" &&
      aws_batch_compute_environment.this.compute_resources[0].instance_type == toset(["m7g", "c7g", "r7g"]) &&
      aws_batch_compute_environment.this.compute_resources[0].allocation_strategy == "SPOT_PRICE_CAPACITY_OPTIMIZED" &&
      aws_batch_compute_environment.this.compute_resources[0].min_vcpus == 2
    )
    error_message = "SPOT must use Graviton instance families with a capacity-optimized strategy."
  }

  assert {
    condition     = aws_batch_compute_environment.this.compute_resources[0].instance_role == "arn:aws:iam::123456789012:instance-profile/stratus-batch-instance"
    error_message = "EC2 instances must get the instance profile."
  }

  assert {
    condition     = aws_iam_role_policy_attachment.instance[0].policy_arn == "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
    error_message = "The instance role must be the ECS container instance role."
  }

  assert {
    condition     = !output.compute_environment_is_fargate
    error_message = "SPOT is not Fargate."
  }
}

run "rejects_bad_inputs" {
  command = plan

  variables {
    compute_type       = "LAMBDA"
    subnet_ids         = []
    security_group_ids = ["default"]
  }

  expect_failures = [var.compute_type, var.subnet_ids, var.security_group_ids]
}

run "unplaceable_jobs_are_cancelled_and_names_are_given" {
  command = apply

  assert {
    condition = {
      for a in aws_batch_job_queue.this.job_state_time_limit_action : a.reason => [a.action, a.state, a.max_time_seconds]
      } == {
      "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE" = ["CANCEL", "RUNNABLE", 1800]
      "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT"         = ["CANCEL", "RUNNABLE", 1800]
    }
    error_message = "A job that can never be placed must be cancelled after 30 minutes in RUNNABLE."
  }

  assert {
    condition     = output.compute_environment_name == "tf-stratus"
    error_message = "The compute environment's name (for filmdrop's batch_compute_environment_existing) comes from its ARN."
  }

  assert {
    condition     = aws_iam_role.task_execution.name_prefix == "stratus-ecs-exec-" && length(aws_batch_compute_environment.on_demand) == 0
    error_message = "Role names get a unique suffix; no on-demand fallback unless asked for."
  }

  assert {
    condition     = length(aws_cloudwatch_event_rule.failed_jobs) == 0
    error_message = "No topic, no rule."
  }
}

run "fargate_spot_with_on_demand_behind_it" {
  command = apply

  variables {
    compute_type               = "FARGATE_SPOT"
    fargate_on_demand_fallback = true
    role_path                  = "/stratus/"
    role_permissions_boundary  = "arn:aws:iam::123456789012:policy/boundary"
  }

  assert {
    condition = (
      aws_batch_compute_environment.this.compute_resources[0].type == "FARGATE_SPOT" &&
      aws_batch_compute_environment.on_demand[0].compute_resources[0].type == "FARGATE" &&
      [for o in aws_batch_job_queue.this.compute_environment_order : o.order] == [1, 2]
    )
    error_message = "The queue must offer Fargate Spot first and on-demand Fargate second."
  }

  assert {
    condition     = aws_iam_role.task_execution.path == "/stratus/" && aws_iam_role.task_execution.permissions_boundary == "arn:aws:iam::123456789012:policy/boundary"
    error_message = "Roles take the path and the permissions boundary."
  }
}

run "rejects_spot_best_fit_without_a_fleet_role" {
  command = plan

  variables {
    compute_type = "SPOT"
    ec2          = { allocation_strategy = "BEST_FIT" }
  }

  expect_failures = [var.ec2]
}

run "failed_jobs_are_announced" {
  command = apply

  variables {
    failed_jobs_topic_arn = "arn:aws:sns:us-east-1:123456789012:stratus-alarms"
  }

  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.failed_jobs[0].event_pattern) == {
      source        = ["aws.batch"]
      "detail-type" = ["Batch Job State Change"]
      detail        = { status = ["FAILED"], jobQueue = ["arn:aws:batch:us-east-1:123456789012:job-queue/stratus"] }
    } && aws_cloudwatch_event_target.failed_jobs[0].arn == "arn:aws:sns:us-east-1:123456789012:stratus-alarms"
    error_message = "FAILED jobs of this queue must go to the topic."
  }
}
