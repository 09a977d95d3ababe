resource "aws_ecr_repository" "this" {
  name = var.name
  # Tags are never moved: a tag names one build, and the deployment pins digests anyway.
  image_tag_mutability = "IMMUTABLE"
  force_delete         = var.force_delete

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    # KMS either way: the AWS managed key unless a customer managed key is given.
    encryption_type = "KMS"
    kms_key         = var.kms_key_arn
  }

  tags = var.tags
}

resource "aws_ecr_lifecycle_policy" "this" {
  repository = aws_ecr_repository.this.name

  # ECR never lets a lower-priority rule expire an image a higher-priority rule selected:
  # the first rule selects the tags deployments pin, and keeps them all.
  policy = jsonencode({
    rules = concat(length(var.protected_tags) == 0 ? [] : [
      {
        rulePriority = 1
        description  = "Never expire the images deployments pin"
        selection = {
          tagStatus      = "tagged"
          tagPatternList = var.protected_tags
          countType      = "imageCountMoreThan"
          countNumber    = 10000
        }
        action = { type = "expire" }
      },
      ], [
      {
        rulePriority = 2
        description  = "Expire untagged images after ${var.untagged_expiry_days} days"
        selection = {
          tagStatus   = "untagged"
          countType   = "sinceImagePushed"
          countUnit   = "days"
          countNumber = var.untagged_expiry_days
        }
        action = { type = "expire" }
      },
      {
        rulePriority = 3
        description  = "Keep the last ${var.keep_tagged_images} tagged images"
        selection = {
          tagStatus      = "tagged"
          tagPatternList = ["*"]
          countType      = "imageCountMoreThan"
          countNumber    = var.keep_tagged_images
        }
        action = { type = "expire" }
      },
    ])
  })
}
