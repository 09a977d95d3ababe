mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_region" {
    defaults = {
      name = "us-east-1"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/stratus-gdal-lambda"
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/stratus-gdal"
    }
  }

  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:us-east-1:123456789012:stratus-gdal-failures"
      url = "https://sqs.us-east-1.amazonaws.com/123456789012/stratus-gdal-failures"
    }
  }

  mock_resource "aws_lambda_function" {
    defaults = {
      arn = "arn:aws:lambda:us-east-1:123456789012:function:stratus-gdal"
    }
  }
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
    condition = alltrue([
      for s in data.aws_iam_policy_document.assume.statement :
      s.principals == toset([{ type = "Service", identifiers = toset(["lambda.amazonaws.com"]) }])
    ])
    error_message = "Only Lambda may assume the role."
  }

  assert {
    condition = anytrue([
      for c in one(data.aws_iam_policy_document.assume.statement).condition :
      c.variable == "aws:SourceArn" && c.values == tolist(["arn:aws:lambda:us-east-1:123456789012:function:stratus-gdal"])
    ])
    error_message = "The role may be assumed only on behalf of this function."
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
      aws_lambda_permission.s3.principal == "s3.amazonaws.com" &&
      aws_lambda_permission.s3.source_arn == "arn:aws:s3:::stratus-rasters" &&
      aws_lambda_permission.s3.source_account == "123456789012" &&
      aws_lambda_permission.s3.action == "lambda:InvokeFunction"
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
      if contains(["ReadWatchedRasters", "WriteStacItems", "UseEncryptionKeys"], s.sid)
      } == {
      ReadWatchedRasters = toset(["arn:aws:s3:::stratus-rasters/*"])
      WriteStacItems     = toset(["arn:aws:s3:::stratus-catalog/*"])
      UseEncryptionKeys  = toset(["arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"])
    }
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
