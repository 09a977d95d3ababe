# Lambda pulls a function's image through the repository's policy: AWS's documented statement
# for it (lambda.amazonaws.com may BatchGetImage and GetDownloadUrlForLayer), limited to the
# functions of the repository's own account and region. Batch pulls with its execution role.
locals {
  # arn:<partition>:ecr:<region>:<account>:repository/<name>
  arn_parts = split(":", aws_ecr_repository.this.arn)
}

resource "aws_ecr_repository_policy" "this" {
  count      = var.lambda_pull ? 1 : 0
  repository = aws_ecr_repository.this.name

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "LambdaImageRetrieval"
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
      Condition = {
        StringLike = {
          "aws:SourceArn" = "arn:${local.arn_parts[1]}:lambda:${local.arn_parts[3]}:${local.arn_parts[4]}:function:*"
        }
      }
    }]
  })
}
