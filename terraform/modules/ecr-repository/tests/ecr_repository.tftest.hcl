mock_provider "aws" {
  source = "../../mocks"
}

variables {
  name = "stratus/gdal-lambda"
}

run "secure_defaults" {
  command = apply

  assert {
    condition     = aws_ecr_repository.this.image_tag_mutability == "IMMUTABLE"
    error_message = "Tags must be immutable."
  }

  assert {
    condition     = aws_ecr_repository.this.image_scanning_configuration[0].scan_on_push
    error_message = "Images must be scanned on push."
  }

  assert {
    condition     = aws_ecr_repository.this.encryption_configuration[0].encryption_type == "KMS"
    error_message = "Images must be encrypted with KMS."
  }

  assert {
    condition     = !aws_ecr_repository.this.force_delete
    error_message = "A repository with images must not be deleted by default."
  }

  assert {
    condition     = output.repository_url == "123456789012.dkr.ecr.us-east-1.amazonaws.com/stratus/gdal-lambda"
    error_message = "repository_url must be the repository's URL."
  }
}

run "lambda_of_this_account_may_pull" {
  command = apply

  assert {
    condition = jsondecode(aws_ecr_repository_policy.this[0].policy).Statement == [{
      Sid       = "LambdaImageRetrieval"
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
      Condition = { StringLike = { "aws:SourceArn" = "arn:aws:lambda:us-east-1:123456789012:function:*" } }
    }]
    error_message = "Lambda must be allowed to pull for this account's functions in the repository's region, and for nothing else."
  }

  assert {
    condition     = aws_ecr_repository_policy.this[0].repository == aws_ecr_repository.this.name
    error_message = "The policy must be the repository's."
  }
}

run "no_lambda_pull" {
  command = plan

  variables {
    lambda_pull = false
  }

  assert {
    condition     = length(aws_ecr_repository_policy.this) == 0
    error_message = "lambda_pull = false must leave the repository without a policy."
  }
}

run "lifecycle_policy" {
  command = plan

  variables {
    keep_tagged_images   = 5
    untagged_expiry_days = 3
  }

  assert {
    condition = jsondecode(aws_ecr_lifecycle_policy.this.policy).rules[0].selection == {
      tagStatus   = "untagged"
      countType   = "sinceImagePushed"
      countUnit   = "days"
      countNumber = 3
    }
    error_message = "Untagged images must expire after untagged_expiry_days."
  }

  assert {
    condition     = jsondecode(aws_ecr_lifecycle_policy.this.policy).rules[1].selection.countNumber == 5 && jsondecode(aws_ecr_lifecycle_policy.this.policy).rules[1].selection.tagStatus == "tagged"
    error_message = "Only the last keep_tagged_images tagged images must be kept."
  }
}

run "pinned_images_never_expire" {
  command = plan

  variables {
    protected_tags = ["0.1.0-3f2c1ab"]
  }

  assert {
    condition = [for r in jsondecode(aws_ecr_lifecycle_policy.this.policy).rules : r.rulePriority] == [1, 2, 3] && jsondecode(aws_ecr_lifecycle_policy.this.policy).rules[0].selection == {
      tagStatus      = "tagged"
      tagPatternList = ["0.1.0-3f2c1ab"]
      countType      = "imageCountMoreThan"
      countNumber    = 10000
    }
    error_message = "The pinned tags must be selected first (no lower rule may then expire them) and kept."
  }
}

run "each_pinned_tag_has_its_own_rule" {
  command = plan

  variables {
    protected_tags = ["0.1.0-3f2c1ab", "0.1.0-9e8d7c6"]
  }

  assert {
    condition = [for r in jsondecode(aws_ecr_lifecycle_policy.this.policy).rules : [r.rulePriority, try(r.selection.tagPatternList, [])]] == [
      [1, ["0.1.0-3f2c1ab"]], [2, ["0.1.0-9e8d7c6"]], [3, []], [4, ["*"]],
    ]
    error_message = "A rule matches only images with all its patterns: each pinned tag needs a rule of its own, ahead of the expiring ones."
  }
}

run "customer_managed_key" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition     = aws_ecr_repository.this.encryption_configuration[0].kms_key == "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    error_message = "The given KMS key must be used."
  }
}

run "rejects_bad_name" {
  command = plan

  variables {
    name = "Stratus/GDAL"
  }

  expect_failures = [var.name]
}
