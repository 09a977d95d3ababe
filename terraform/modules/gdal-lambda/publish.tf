# Publishing each Item once written (docs/destinations/): the function's settings and the
# permission to publish to exactly the configured topic and queue. A policy of its own on the
# function's role, present only when a destination is configured.

locals {
  # arn:<partition>:sqs:<region>:<account>:<name> → the queue URL SendMessage takes.
  cirrus_queue_arn_parts = var.cirrus_process_queue == null ? [] : split(":", var.cirrus_process_queue.arn)
  cirrus_queue_url = var.cirrus_process_queue == null ? null : format(
    "https://sqs.%s.%s/%s/%s",
    local.cirrus_queue_arn_parts[3], data.aws_partition.current.dns_suffix,
    local.cirrus_queue_arn_parts[4], local.cirrus_queue_arn_parts[5],
  )

  publish_environment = merge(
    var.item_topic == null ? {} : { ITEM_TOPIC_ARN = var.item_topic.arn },
    var.cirrus_process_queue == null ? {} : merge(
      {
        CIRRUS_PROCESS_QUEUE_URL = local.cirrus_queue_url
        CIRRUS_WORKFLOW          = var.cirrus_process_queue.workflow
      },
      var.cirrus_process_queue.collections == null ? {} : { CIRRUS_COLLECTIONS = var.cirrus_process_queue.collections },
      var.cirrus_process_queue.upload_options == null ? {} : { CIRRUS_UPLOAD_OPTIONS = var.cirrus_process_queue.upload_options },
      var.cirrus_process_queue.payload_url == null ? {} : { CIRRUS_PAYLOAD_URL = var.cirrus_process_queue.payload_url },
    ),
  )

  # s3://bucket/prefix/ → the objects a large payload may be put as.
  cirrus_payload_objects = try(format("arn:%s:s3:::%s*", local.partition, trimprefix(var.cirrus_process_queue.payload_url, "s3://")), null)

  publish_kms_key_arns = distinct(compact([
    try(var.item_topic.kms_key_arn, null),
    try(var.cirrus_process_queue.kms_key_arn, null),
  ]))
  publishes = var.item_topic != null || var.cirrus_process_queue != null
}

data "aws_iam_policy_document" "publish" {
  count = local.publishes ? 1 : 0

  dynamic "statement" {
    for_each = var.item_topic == null ? [] : [var.item_topic.arn]
    content {
      sid       = "PublishItems"
      actions   = ["sns:Publish"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.cirrus_process_queue == null ? [] : [var.cirrus_process_queue.arn]
    content {
      sid       = "SendCirrusPayloads"
      actions   = ["sqs:SendMessage"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = local.cirrus_payload_objects == null ? [] : [local.cirrus_payload_objects]
    content {
      sid       = "PutLargeCirrusPayloads"
      actions   = ["s3:PutObject"]
      resources = [statement.value]
    }
  }

  # An encrypted topic or queue: the publisher makes and uses the message's data key.
  dynamic "statement" {
    for_each = length(local.publish_kms_key_arns) == 0 ? [] : [local.publish_kms_key_arns]
    content {
      sid       = "EncryptPublishedMessages"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = statement.value
    }
  }
}

resource "aws_iam_role_policy" "publish" {
  count  = local.publishes ? 1 : 0
  name   = "publish-items"
  role   = module.role.name
  policy = data.aws_iam_policy_document.publish[0].json
}
