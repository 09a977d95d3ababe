# An IAM role that one AWS service assumes on behalf of this account only (and, where given, of
# one resource: the confused-deputy conditions every Stratus role carries), with one inline policy.

data "aws_iam_policy_document" "assume" {
  statement {
    sid     = var.assume_sid
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = [var.service]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [var.source_account]
    }

    dynamic "condition" {
      for_each = var.source_arn == null ? [] : [var.source_arn]

      content {
        test     = "ArnLike"
        variable = "aws:SourceArn"
        values   = [condition.value]
      }
    }
  }
}

# Role names are account-wide: a generated suffix keeps stacks and regions apart.
resource "aws_iam_role" "this" {
  name_prefix          = var.name_prefix
  path                 = var.path
  permissions_boundary = var.permissions_boundary
  description          = var.description
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  tags                 = var.tags
}

resource "aws_iam_role_policy" "this" {
  name   = var.policy_name
  role   = aws_iam_role.this.id
  policy = var.policy_json
}
