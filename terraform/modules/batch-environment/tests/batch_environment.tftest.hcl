mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/stratus-ecs-task-execution"
    }
  }

  mock_resource "aws_iam_instance_profile" {
    defaults = {
      arn = "arn:aws:iam::123456789012:instance-profile/stratus-batch-instance"
    }
  }

  mock_resource "aws_batch_compute_environment" {
    defaults = {
      arn = "arn:aws:batch:us-east-1:123456789012:compute-environment/tf-stratus"
    }
  }

  mock_resource "aws_batch_job_queue" {
    defaults = {
      arn = "arn:aws:batch:us-east-1:123456789012:job-queue/stratus"
    }
  }
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
