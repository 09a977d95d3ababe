# Lambda pulls a function's image through the repository's policy: AWS's documented statement
# for it (lambda.amazonaws.com may BatchGetImage and GetDownloadUrlForLayer), limited to the
# functions of the repository's own account and region. Batch pulls with its execution role.
data "aws_partition" "current" {}

data "aws_region" "current" {}

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
          "aws:SourceArn" = "arn:${data.aws_partition.current.partition}:lambda:${data.aws_region.current.id}:${aws_ecr_repository.this.registry_id}:function:*"
        }
      }
    }]
  })
}
