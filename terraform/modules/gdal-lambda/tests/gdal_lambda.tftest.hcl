mock_provider "aws" {
  source = "../../mocks"
}

variables {
  function_name = "stratus-gdal"
  image_uri     = "123456789012.dkr.ecr.us-east-1.amazonaws.com/stratus/gdal-lambda@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
  watch = {
    bucket = "stratus-rasters"
    prefix = "rasters/"
  }
  output = {
    prefix = "stac/"
  }
}

run "function_is_pinned_arm64_json_logged" {
  command = apply

  assert {
    condition     = aws_lambda_function.this.package_type == "Image" && aws_lambda_function.this.image_uri == var.image_uri
    error_message = "The function must run the digest-pinned image it was given."
  }

  assert {
    condition     = aws_lambda_function.this.architectures == tolist(["arm64"])
    error_message = "The function must be arm64 by default."
  }

  assert {
    condition     = aws_lambda_function.this.logging_config[0].log_format == "JSON" && aws_lambda_function.this.logging_config[0].log_group == "/aws/lambda/stratus-gdal"
    error_message = "The function must log JSON to its own log group."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.retention_in_days == 365
    error_message = "The log group must have a retention."
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables == tomap({ OUTPUT_URL = "s3://stratus-rasters/stac/" })
    error_message = "The function must be told where to write STAC Items."
  }

  assert {
    condition     = aws_lambda_function.this.ephemeral_storage[0].size == 512 && aws_lambda_function.this.memory_size == 1024 && aws_lambda_function.this.timeout == 60
    error_message = "Default sizes changed."
  }
}

run "least_privilege_role" {
  command = apply

  assert {
    condition = {
      for s in data.aws_iam_policy_document.this.statement : s.sid => {
        actions   = s.actions
        resources = s.resources
      }
      } == {
      ReadWatchedRasters = {
        actions   = toset(["s3:GetObject"])
        resources = toset(["arn:aws:s3:::stratus-rasters/rasters/*"])
      }
      WriteStacItems = {
        actions   = toset(["s3:PutObject"])
        resources = toset(["arn:aws:s3:::stratus-rasters/stac/*"])
      }
      WriteOwnLogs = {
        actions   = toset(["logs:CreateLogStream", "logs:PutLogEvents"])
        resources = toset(["arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/stratus-gdal:*"])
      }
      SendFailedEvents = {
        actions   = toset(["sqs:SendMessage"])
        resources = toset(["arn:aws:sqs:us-east-1:123456789012:stratus-gdal-failures"])
      }
      WriteTraces = {
        actions   = toset(["xray:PutTraceSegments", "xray:PutTelemetryRecords"])
        resources = toset(["*"])
      }
    }
    error_message = "The role must allow exactly: read the watched prefix, write the output prefix, its own logs, its failure queue and traces."
  }

  assert {
    condition = module.role.trust == {
      service        = "lambda.amazonaws.com"
      source_account = "123456789012"
      source_arn     = "arn:aws:lambda:us-east-1:123456789012:function:stratus-gdal"
    }
    error_message = "Only Lambda may assume the role, on behalf of this function only (confused deputy)."
  }
}

run "trigger_and_permission" {
  command = apply

  assert {
    condition = [
      for f in aws_s3_bucket_notification.this[0].lambda_function : {
        prefix = f.filter_prefix
        suffix = f.filter_suffix
        events = f.events
      }
      ] == [
      for s in [".tif", ".tiff", ".TIF", ".TIFF"] : {
        prefix = "rasters/"
        suffix = s
        events = toset(["s3:ObjectCreated:*"])
      }
    ]
    error_message = "The trigger must watch the watched prefix, one filter per suffix."
  }

  assert {
    condition = alltrue([
      for f in aws_s3_bucket_notification.this[0].lambda_function :
      !startswith(var.output.prefix, f.filter_prefix) && !startswith(f.filter_prefix, var.output.prefix)
    ])
    error_message = "No notification filter may match the output prefix."
  }

  assert {
    condition = (
      aws_lambda_permission.s3[0].principal == "s3.amazonaws.com" &&
      aws_lambda_permission.s3[0].source_arn == "arn:aws:s3:::stratus-rasters" &&
      aws_lambda_permission.s3[0].source_account == "123456789012" &&
      aws_lambda_permission.s3[0].action == "lambda:InvokeFunction"
    )
    error_message = "Only the watched bucket, in this account, may invoke the function."
  }

  assert {
    condition = (
      aws_lambda_function_event_invoke_config.this.maximum_retry_attempts == 2 &&
      aws_lambda_function_event_invoke_config.this.maximum_event_age_in_seconds == 3600 &&
      aws_lambda_function_event_invoke_config.this.destination_config[0].on_failure[0].destination == "arn:aws:sqs:us-east-1:123456789012:stratus-gdal-failures"
    )
    error_message = "Failed asynchronous invocations must be retried, then sent to the failure queue."
  }

  assert {
    condition     = aws_sqs_queue.failures.sqs_managed_sse_enabled
    error_message = "The failure queue must be encrypted."
  }
}

run "trigger_through_sqs" {
  command = apply

  variables {
    trigger = "sqs"
  }

  assert {
    condition = (
      length(aws_s3_bucket_notification.this[0].lambda_function) == 0 &&
      [for q in aws_s3_bucket_notification.this[0].queue : [q.queue_arn, q.filter_prefix, q.filter_suffix]] ==
      [for s in [".tif", ".tiff", ".TIF", ".TIFF"] : [aws_sqs_queue.uploads[0].arn, "rasters/", s]]
    )
    error_message = "The bucket must notify the upload queue, one filter per suffix, and not the function."
  }

  assert {
    condition = (
      aws_lambda_event_source_mapping.uploads[0].event_source_arn == aws_sqs_queue.uploads[0].arn &&
      aws_lambda_event_source_mapping.uploads[0].function_response_types == toset(["ReportBatchItemFailures"]) &&
      aws_lambda_event_source_mapping.uploads[0].batch_size == 10 &&
      aws_lambda_function.this.environment[0].variables["REPORT_BATCH_ITEM_FAILURES"] == "true"
    )
    error_message = "The function must read the queue reporting failures per message, and know that it does."
  }

  assert {
    condition = (
      jsondecode(aws_sqs_queue.uploads[0].redrive_policy).deadLetterTargetArn == aws_sqs_queue.uploads_dead[0].arn &&
      jsondecode(aws_sqs_queue.uploads[0].redrive_policy).maxReceiveCount == 5 &&
      aws_sqs_queue.uploads[0].visibility_timeout_seconds == 360 &&
      aws_sqs_queue.uploads[0].sqs_managed_sse_enabled && aws_sqs_queue.uploads_dead[0].sqs_managed_sse_enabled
    )
    error_message = "The upload queue must be encrypted, outlast six function timeouts and move messages to its dead-letter queue."
  }

  assert {
    condition = (
      one(data.aws_iam_policy_document.uploads[0].statement).principals == toset([{ type = "Service", identifiers = toset(["s3.amazonaws.com"]) }]) &&
      anytrue([for c in one(data.aws_iam_policy_document.uploads[0].statement).condition :
      c.variable == "aws:SourceArn" && c.values == tolist(["arn:aws:s3:::stratus-rasters"])])
    )
    error_message = "Only the watched bucket may send to the upload queue."
  }

  assert {
    condition = {
      for s in data.aws_iam_policy_document.this.statement : s.sid => s.actions if s.sid == "ReadUploadQueue"
    } == { ReadUploadQueue = toset(["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]) }
    error_message = "The role must read and delete from the upload queue, nothing more."
  }

  assert {
    condition     = length(aws_lambda_permission.s3) == 0 && length(aws_cloudwatch_event_rule.uploads) == 0
    error_message = "The queue trigger needs no S3 permission on the function and no rule."
  }
}

run "trigger_through_eventbridge" {
  command = apply

  variables {
    trigger = "eventbridge"
    watch = {
      bucket   = "stratus-rasters"
      prefix   = "rasters/"
      suffixes = [".tif", ".TIF"]
    }
  }

  assert {
    condition = (
      aws_s3_bucket_notification.this[0].eventbridge &&
      length(aws_s3_bucket_notification.this[0].lambda_function) == 0 &&
      length(aws_s3_bucket_notification.this[0].queue) == 0
    )
    error_message = "The bucket must send its events to EventBridge, and notify nothing else."
  }

  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.uploads[0].event_pattern) == {
      source      = ["aws.s3"]
      detail-type = ["Object Created"]
      detail = {
        bucket = { name = ["stratus-rasters"] }
        object = { key = [{ wildcard = "rasters/*.tif" }, { wildcard = "rasters/*.TIF" }] }
      }
    }
    error_message = "The rule must match objects created under the watched prefix with a watched suffix."
  }

  assert {
    condition = (
      aws_cloudwatch_event_target.uploads[0].arn == aws_lambda_function.this.arn &&
      aws_cloudwatch_event_target.uploads[0].dead_letter_config[0].arn == aws_sqs_queue.failures.arn &&
      aws_lambda_permission.events[0].principal == "events.amazonaws.com" &&
      aws_lambda_permission.events[0].source_arn == aws_cloudwatch_event_rule.uploads[0].arn &&
      length(aws_lambda_permission.s3) == 0
    )
    error_message = "Only the rule may invoke the function; what it cannot deliver goes to the failure queue."
  }

  assert {
    condition     = !contains(keys(aws_lambda_function.this.environment[0].variables), "REPORT_BATCH_ITEM_FAILURES")
    error_message = "Only the queue trigger reports batch item failures."
  }
}

run "rejects_unknown_trigger" {
  command = plan

  variables {
    trigger = "kinesis"
  }

  expect_failures = [var.trigger]
}

run "other_output_bucket_and_kms" {
  command = plan

  variables {
    watch = {
      bucket   = "stratus-rasters"
      suffixes = [".tif"]
    }
    output = {
      bucket = "stratus-catalog"
      prefix = ""
    }
    kms_key_arn                = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    tracing_mode               = "PassThrough"
    create_bucket_notification = false
  }

  assert {
    condition = {
      for s in data.aws_iam_policy_document.this.statement : s.sid => s.resources
      if contains(["ReadWatchedRasters", "WriteStacItems"], s.sid)
      } == {
      ReadWatchedRasters = toset(["arn:aws:s3:::stratus-rasters/*"])
      WriteStacItems     = toset(["arn:aws:s3:::stratus-catalog/*"])
      } && module.role.kms_key_arns == tolist([
        "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    ])
    error_message = "Reads, writes and key use must be scoped to the configured locations and key."
  }

  assert {
    condition     = !contains([for s in data.aws_iam_policy_document.this.statement : s.sid], "WriteTraces")
    error_message = "No X-Ray permissions without active tracing."
  }

  assert {
    condition     = length(aws_s3_bucket_notification.this) == 0
    error_message = "create_bucket_notification = false must leave the bucket's notifications alone."
  }

  assert {
    condition     = aws_sqs_queue.failures.kms_master_key_id == var.kms_key_arn && aws_cloudwatch_log_group.this.kms_key_id == var.kms_key_arn
    error_message = "The given key must encrypt the failure queue and the logs."
  }
}

run "rejects_output_under_watched_prefix" {
  command = plan

  variables {
    output = {
      prefix = "rasters/stac/"
    }
  }

  expect_failures = [var.output]
}

run "rejects_watching_the_whole_output_bucket" {
  command = plan

  variables {
    watch = {
      bucket = "stratus-rasters"
    }
    output = {
      bucket = "stratus-rasters"
      prefix = "stac/"
    }
  }

  expect_failures = [var.output]
}

run "rejects_empty_output_prefix_in_watched_bucket" {
  command = plan

  variables {
    output = {
      prefix = ""
    }
  }

  expect_failures = [var.output]
}

run "rejects_unpinned_image" {
  command = plan

  variables {
    image_uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/stratus/gdal-lambda:latest"
  }

  expect_failures = [var.image_uri]
}

run "rejects_overlapping_suffixes" {
  command = plan

  variables {
    watch = {
      bucket   = "stratus-rasters"
      prefix   = "rasters/"
      suffixes = [".tif", "cog.tif"]
    }
  }

  expect_failures = [var.watch]
}

run "vpc_network_interfaces_inline_without_logs_everywhere" {
  command = apply

  variables {
    vpc = {
      subnet_ids         = ["subnet-0123456789abcdef0"]
      security_group_ids = ["sg-0123456789abcdef0"]
    }
  }

  assert {
    condition = one([for s in data.aws_iam_policy_document.this.statement : s if s.sid == "ManageVpcNetworkInterfaces"]).actions == toset([
      "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeSubnets", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses",
    ])
    error_message = "In a VPC the role must manage the function's network interfaces."
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.this) == 0
    error_message = "No topic, no alarms."
  }

  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.this.statement :
      s.sid == "WriteOwnLogs" || length([for a in s.actions : a if startswith(a, "logs:")]) == 0
    ])
    error_message = "No statement but the function's own log group may grant logs actions (AWSLambdaVPCAccessExecutionRole grants them on *)."
  }
}

run "alarms_to_the_given_topic" {
  command = apply

  variables {
    trigger         = "sqs"
    alarm_topic_arn = "arn:aws:sns:us-east-1:123456789012:stratus-alarms"
  }

  assert {
    condition = {
      for k, a in aws_cloudwatch_metric_alarm.this : k => [a.namespace, a.metric_name, a.alarm_actions]
      } == {
      errors        = ["AWS/Lambda", "Errors", toset(["arn:aws:sns:us-east-1:123456789012:stratus-alarms"])]
      throttles     = ["AWS/Lambda", "Throttles", toset(["arn:aws:sns:us-east-1:123456789012:stratus-alarms"])]
      failed-events = ["AWS/SQS", "ApproximateNumberOfMessagesVisible", toset(["arn:aws:sns:us-east-1:123456789012:stratus-alarms"])]
      dead-letters  = ["AWS/SQS", "ApproximateNumberOfMessagesVisible", toset(["arn:aws:sns:us-east-1:123456789012:stratus-alarms"])]
    }
    error_message = "With a topic there must be alarms on errors, throttles and both queues of failed events."
  }
}

run "no_collection_by_default" {
  command = apply

  assert {
    condition     = length(aws_iam_role_policy.collection) == 0 && !contains(keys(aws_lambda_function.this.environment[0].variables), "COLLECTION_ID")
    error_message = "Without collection_id there must be no Collection: no COLLECTION_ID, no policy for it."
  }
}

run "collection_kept_at_the_output_prefix" {
  command = apply

  variables {
    collection_id = "stratus-rasters"
    output = {
      bucket = "stratus-stac"
      prefix = "stac/"
    }
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["COLLECTION_ID"] == "stratus-rasters"
    error_message = "The function must be told the Collection's id."
  }

  assert {
    condition = {
      for s in data.aws_iam_policy_document.collection[0].statement : s.sid => {
        actions    = s.actions
        resources  = s.resources
        conditions = [for c in coalesce(s.condition, []) : [c.test, c.variable, c.values]]
      }
      } == {
      ReadStacCollection = {
        actions    = toset(["s3:GetObject"])
        resources  = toset(["arn:aws:s3:::stratus-stac/stac/collection.json"])
        conditions = []
      }
      FindStacCollection = {
        actions    = toset(["s3:ListBucket"])
        resources  = toset(["arn:aws:s3:::stratus-stac"])
        conditions = [["StringEquals", "s3:prefix", tolist(["stac/collection.json"])]]
      }
    }
    error_message = "The Collection's policy must read exactly the Collection, and list only its key."
  }

  assert {
    condition     = aws_iam_role_policy.collection[0].role == module.role.name
    error_message = "The Collection's policy must be on the function's role."
  }
}

run "collection_id_is_checked" {
  command = plan

  variables {
    collection_id = "no spaces/or slashes"
  }

  expect_failures = [var.collection_id]
}

run "thumbnails_when_asked_for" {
  command = apply

  variables {
    thumbnail = {
      format = "jpeg"
    }
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables == tomap({ OUTPUT_URL = "s3://stratus-rasters/stac/", THUMBNAIL_FORMAT = "jpeg", THUMBNAIL_MAX_BYTES = "1048576" })
    error_message = "The function must be told which thumbnails to write, and how many bytes each may read."
  }
}

run "rejects_unknown_thumbnail_format" {
  command = plan

  variables {
    thumbnail = {
      format = "gif"
    }
  }

  expect_failures = [var.thumbnail]
}

# Publishing each Item once written: off by default; the function's settings and a policy of
# its own on the role, naming exactly the configured topic, queue and keys.

run "no_publishing_by_default" {
  command = apply

  assert {
    condition     = length(aws_iam_role_policy.publish) == 0 && length(data.aws_iam_policy_document.publish) == 0
    error_message = "Without a destination the role must get no publishing policy."
  }

  assert {
    condition     = length(setintersection(keys(aws_lambda_function.this.environment[0].variables), ["ITEM_TOPIC_ARN", "CIRRUS_PROCESS_QUEUE_URL", "CIRRUS_WORKFLOW"])) == 0
    error_message = "Without a destination the function must publish nothing."
  }
}

run "stac_server_topic" {
  command = apply

  variables {
    item_topic = {
      arn = "arn:aws:sns:us-east-1:123456789012:stac-server-prod-ingest"
    }
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["ITEM_TOPIC_ARN"] == "arn:aws:sns:us-east-1:123456789012:stac-server-prod-ingest"
    error_message = "The function must be told the topic."
  }

  assert {
    condition = {
      for s in data.aws_iam_policy_document.publish[0].statement : s.sid => {
        actions   = s.actions
        resources = s.resources
      }
      } == {
      PublishItems = {
        actions   = toset(["sns:Publish"])
        resources = toset(["arn:aws:sns:us-east-1:123456789012:stac-server-prod-ingest"])
      }
    }
    error_message = "The role may publish to exactly the configured topic, and nothing else."
  }

  assert {
    condition     = aws_iam_role_policy.publish[0].role == module.role.name
    error_message = "The publishing policy must be on the function's role."
  }
}

run "cirrus_queue_with_keys" {
  command = apply

  variables {
    item_topic = {
      arn         = "arn:aws:sns:us-east-1:123456789012:items"
      kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-1111-1111-1111-111111111111"
    }
    cirrus_process_queue = {
      arn            = "arn:aws:sqs:us-east-1:210987654321:fd-cirrus-process"
      workflow       = "cog-archive"
      collections    = "landsat-c2l2"
      upload_options = "{\"path_template\":\"/data/$${collection}/$${id}\"}"
      payload_url    = "s3://fd-prod-cirrus-payloads/stratus/"
      kms_key_arn    = "arn:aws:kms:us-east-1:210987654321:key/22222222-2222-2222-2222-222222222222"
    }
  }

  assert {
    condition = {
      for k, v in aws_lambda_function.this.environment[0].variables : k => v if startswith(k, "CIRRUS_")
      } == {
      CIRRUS_PROCESS_QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/210987654321/fd-cirrus-process"
      CIRRUS_WORKFLOW          = "cog-archive"
      CIRRUS_COLLECTIONS       = "landsat-c2l2"
      CIRRUS_UPLOAD_OPTIONS    = "{\"path_template\":\"/data/$${collection}/$${id}\"}"
      CIRRUS_PAYLOAD_URL       = "s3://fd-prod-cirrus-payloads/stratus/"
    }
    error_message = "The function must be told the queue's URL (from its ARN), the workflow, collections, upload options and where large payloads go."
  }

  assert {
    condition = {
      for s in data.aws_iam_policy_document.publish[0].statement : s.sid => {
        actions   = s.actions
        resources = s.resources
      }
      } == {
      PublishItems = {
        actions   = toset(["sns:Publish"])
        resources = toset(["arn:aws:sns:us-east-1:123456789012:items"])
      }
      SendCirrusPayloads = {
        actions   = toset(["sqs:SendMessage"])
        resources = toset(["arn:aws:sqs:us-east-1:210987654321:fd-cirrus-process"])
      }
      PutLargeCirrusPayloads = {
        actions   = toset(["s3:PutObject"])
        resources = toset(["arn:aws:s3:::fd-prod-cirrus-payloads/stratus/*"])
      }
      EncryptPublishedMessages = {
        actions = toset(["kms:GenerateDataKey", "kms:Decrypt"])
        resources = toset([
          "arn:aws:kms:us-east-1:123456789012:key/11111111-1111-1111-1111-111111111111",
          "arn:aws:kms:us-east-1:210987654321:key/22222222-2222-2222-2222-222222222222",
        ])
      }
    }
    error_message = "The role may publish to exactly the configured topic and queue, with their keys."
  }
}

run "refuses_malformed_destinations" {
  command = plan

  variables {
    cirrus_process_queue = {
      arn            = "arn:aws:sns:us-east-1:123456789012:not-a-queue"
      workflow       = "a/b"
      upload_options = "[1]"
    }
  }

  expect_failures = [var.cirrus_process_queue]
}
