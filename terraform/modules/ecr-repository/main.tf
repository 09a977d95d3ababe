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
  # the first rules select the tags deployments pin, and keep them all. One rule per tag,
  # since a rule selects only images matching every pattern of its tagPatternList.
  policy = jsonencode({
    rules = concat([
      for i, tag in var.protected_tags : {
        rulePriority = i + 1
        description  = "Never expire ${tag}, which a deployment pins"
        selection = {
          tagStatus      = "tagged"
          tagPatternList = [tag]
          countType      = "imageCountMoreThan"
          countNumber    = 10000
        }
        action = { type = "expire" }
      }
      ], [
      {
        rulePriority = length(var.protected_tags) + 1
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
        rulePriority = length(var.protected_tags) + 2
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
