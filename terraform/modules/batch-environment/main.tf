data "aws_partition" "current" {}

locals {
  partition = data.aws_partition.current.partition
  # Role names are account-wide: a generated suffix keeps stacks and regions apart (prefixes ≤ 38 characters).
  role_prefix        = substr(var.name, 0, 24)
  on_demand_fallback = var.compute_type == "FARGATE_SPOT" && var.fargate_on_demand_fallback
  environment_arns   = concat([aws_batch_compute_environment.this.arn], aws_batch_compute_environment.on_demand[*].arn)
  is_fargate         = contains(["FARGATE", "FARGATE_SPOT"], var.compute_type)
  allocation_strategy = coalesce(
    var.ec2.allocation_strategy,
    var.compute_type == "SPOT" ? "SPOT_PRICE_CAPACITY_OPTIMIZED" : "BEST_FIT_PROGRESSIVE",
  )
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
    spot_iam_fleet_role = var.compute_type == "SPOT" ? var.ec2.spot_fleet_role_arn : null
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

# On-demand Fargate behind Fargate Spot, when asked for.
resource "aws_batch_compute_environment" "on_demand" {
  count = local.on_demand_fallback ? 1 : 0

  type         = "MANAGED"
  state        = "ENABLED"
  service_role = var.service_role_arn

  compute_resources {
    type               = "FARGATE"
    max_vcpus          = var.max_vcpus
    subnets            = var.subnet_ids
    security_group_ids = var.security_group_ids
  }

  tags = merge(var.tags, { Name = "${var.name}-on-demand" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_batch_job_queue" "this" {
  name     = var.name
  state    = "ENABLED"
  priority = var.job_queue_priority

  dynamic "compute_environment_order" {
    for_each = local.environment_arns

    content {
      order               = compute_environment_order.key + 1
      compute_environment = compute_environment_order.value
    }
  }

  # Jobs that ask for more than the environment can ever give are cancelled, not left RUNNABLE forever.
  dynamic "job_state_time_limit_action" {
    for_each = var.unplaceable_job_timeout_seconds == null ? [] : [
      "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE",
      "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT",
    ]

    content {
      action           = "CANCEL"
      max_time_seconds = var.unplaceable_job_timeout_seconds
      reason           = job_state_time_limit_action.value
      state            = "RUNNABLE"
    }
  }

  tags = var.tags
}
