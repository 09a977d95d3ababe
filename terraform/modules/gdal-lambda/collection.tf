# The STAC Collection (var.collection_id): what the function needs beyond writing Items. It
# reads the Collection to widen it; the conditional PutObject that writes it back is
# WriteStacItems' s3:PutObject. ListBucket, narrowed to the Collection's own key, makes S3
# answer 404 rather than 403 while the Collection does not exist yet, so that the first Item
# creates it.

data "aws_iam_policy_document" "collection" {
  count = var.collection_id == null ? 0 : 1

  statement {
    sid       = "ReadStacCollection"
    actions   = ["s3:GetObject"]
    resources = ["arn:${local.partition}:s3:::${local.output_bucket}/${var.output.prefix}collection.json"]
  }

  statement {
    sid       = "FindStacCollection"
    actions   = ["s3:ListBucket"]
    resources = ["arn:${local.partition}:s3:::${local.output_bucket}"]

    condition {
      test     = "StringEquals"
      variable = "s3:prefix"
      values   = ["${var.output.prefix}collection.json"]
    }
  }
}

resource "aws_iam_role_policy" "collection" {
  count = var.collection_id == null ? 0 : 1

  name   = "${var.function_name}-collection"
  role   = module.role.name
  policy = data.aws_iam_policy_document.collection[0].json
}
