# Access: the environment's roles, ECS' task execution role and, for EC2 and SPOT, the
# container instances' role and instance profile.

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
  name_prefix          = "${local.role_prefix}-ecs-exec-"
  path                 = var.role_path
  permissions_boundary = var.role_permissions_boundary
  description          = "Pulls images and writes logs for Batch jobs in ${var.name}"
  assume_role_policy   = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags                 = var.tags
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

  name_prefix          = "${local.role_prefix}-instance-"
  path                 = var.role_path
  permissions_boundary = var.role_permissions_boundary
  description          = "Container instances of the ${var.name} Batch compute environment"
  assume_role_policy   = data.aws_iam_policy_document.ec2_assume[0].json
  tags                 = var.tags
}

resource "aws_iam_role_policy_attachment" "instance" {
  count = local.is_fargate ? 0 : 1

  role       = aws_iam_role.instance[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
}

resource "aws_iam_instance_profile" "instance" {
  count = local.is_fargate ? 0 : 1

  name_prefix = "${local.role_prefix}-instance-"
  path        = var.role_path
  role        = aws_iam_role.instance[0].name
  tags        = var.tags
}
