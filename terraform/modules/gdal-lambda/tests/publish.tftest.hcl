# Publishing each Item once written: off by default; the function's settings and a policy of
# its own on the role, naming exactly the configured topic, queue and keys.

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

run "off_by_default" {
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
