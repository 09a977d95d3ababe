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
  path                 = var.iam.path
  permissions_boundary = var.iam.permissions_boundary
  description          = var.description
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  tags                 = var.iam.tags
}

# The caller's policy, and the use of the keys that encrypt what the role reads and writes.
data "aws_iam_policy_document" "this" {
  source_policy_documents = [var.policy_json]

  dynamic "statement" {
    for_each = length(var.kms_key_arns) > 0 ? [1] : []

    content {
      sid       = "UseEncryptionKeys"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = var.kms_key_arns
    }
  }
}

resource "aws_iam_role_policy" "this" {
  name   = var.policy_name
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}
