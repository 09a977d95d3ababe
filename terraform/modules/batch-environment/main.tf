data "aws_partition" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  is_fargate = contains(["FARGATE", "FARGATE_SPOT"], var.compute_type)
  allocation_strategy = coalesce(
    var.ec2.allocation_strategy,
    var.compute_type == "SPOT" ? "SPOT_PRICE_CAPACITY_OPTIMIZED" : "BEST_FIT_PROGRESSIVE",
  )
}

# Role ECS uses to pull job images and ship job logs; job definitions that need no
# narrower role of their own use it.
data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "task_execution" {
  name               = "${var.name}-ecs-task-execution"
  description        = "Pulls images and writes logs for Batch jobs in ${var.name}"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "task_execution" {
  role       = aws_iam_role.task_execution.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

# EC2 / SPOT only: the role of the container instances.
data "aws_iam_policy_document" "ec2_assume" {
  count = local.is_fargate ? 0 : 1

  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "instance" {
  count = local.is_fargate ? 0 : 1

  name               = "${var.name}-batch-instance"
  description        = "Container instances of the ${var.name} Batch compute environment"
  assume_role_policy = data.aws_iam_policy_document.ec2_assume[0].json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "instance" {
  count = local.is_fargate ? 0 : 1

  role       = aws_iam_role.instance[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
}

resource "aws_iam_instance_profile" "instance" {
  count = local.is_fargate ? 0 : 1

  name = "${var.name}-batch-instance"
  role = aws_iam_role.instance[0].name
  tags = var.tags
}

resource "aws_batch_compute_environment" "this" {
  # No name argument: the provider generates a unique one. That lets a changed
  # environment be created before the old one is destroyed, and the argument's name
  # differs between provider major versions (the Name tag carries `name`).
  type         = "MANAGED"
  state        = "ENABLED"
  service_role = var.service_role_arn

  compute_resources {
    type               = var.compute_type
    max_vcpus          = var.max_vcpus
    subnets            = var.subnet_ids
    security_group_ids = var.security_group_ids

    min_vcpus           = local.is_fargate ? null : var.ec2.min_vcpus
    instance_type       = local.is_fargate ? null : var.ec2.instance_types
    instance_role       = local.is_fargate ? null : aws_iam_instance_profile.instance[0].arn
    allocation_strategy = local.is_fargate ? null : local.allocation_strategy
    bid_percentage      = var.compute_type == "SPOT" ? var.ec2.bid_percentage : null
    tags                = local.is_fargate ? null : merge(var.tags, { Name = "${var.name}-batch" })

    dynamic "ec2_configuration" {
      for_each = local.is_fargate ? [] : [1]

      content {
        image_type = var.ec2.image_type
      }
    }

    dynamic "launch_template" {
      for_each = !local.is_fargate && var.ec2.launch_template_id != null ? [1] : []

      content {
        launch_template_id = var.ec2.launch_template_id
      }
    }
  }

  tags = merge(var.tags, { Name = var.name })

  lifecycle {
    create_before_destroy = true
  }

  # Batch needs the instance role's permissions while it tears the environment down.
  depends_on = [aws_iam_role_policy_attachment.instance]
}

resource "aws_batch_job_queue" "this" {
  name     = var.name
  state    = "ENABLED"
  priority = var.job_queue_priority

  compute_environment_order {
    order               = 1
    compute_environment = aws_batch_compute_environment.this.arn
  }

  tags = var.tags
}
