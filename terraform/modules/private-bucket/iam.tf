# Access: the bucket policy. It grants nothing (access comes from the readers' and writers' own
# roles); it refuses every request without TLS, or with TLS older than 1.2, whoever makes it.

locals {
  refused_transport = {
    DenyInsecureTransport = { test = "Bool", variable = "aws:SecureTransport", values = ["false"] }
    DenyOutdatedTls       = { test = "NumericLessThan", variable = "s3:TlsVersion", values = ["1.2"] }
  }
}

data "aws_iam_policy_document" "this" {
  dynamic "statement" {
    for_each = local.refused_transport

    content {
      sid       = statement.key
      effect    = "Deny"
      actions   = ["s3:*"]
      resources = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]

      principals {
        type        = "*"
        identifiers = ["*"]
      }

      condition {
        test     = statement.value.test
        variable = statement.value.variable
        values   = statement.value.values
      }
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = data.aws_iam_policy_document.this.json

  # S3 rejects a policy while the public access block is being changed.
  depends_on = [aws_s3_bucket_public_access_block.this]
}
