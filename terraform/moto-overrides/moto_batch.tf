# Only for the moto round trip (see moto_override.tf): a stand-in for the
# AWSServiceRoleForBatch service-linked role, which moto does not create.
resource "aws_iam_role" "moto_batch_service" {
  name = "moto-batch-service"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "batch.amazonaws.com" }
    }]
  })
}
