mock_provider "aws" {
  source = "../../mocks"
}

override_resource {
  target = aws_cloudwatch_log_group.function
  values = {
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/stratus-backfill"
  }
}

override_resource {
  target = aws_lambda_function.this
  values = {
    arn           = "arn:aws:lambda:us-east-1:123456789012:function:stratus-backfill"
    qualified_arn = "arn:aws:lambda:us-east-1:123456789012:function:stratus-backfill:1"
  }
}

variables {
  name      = "stratus-backfill"
  image_uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/stratus/gdal-lambda@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
  source_location = {
    bucket = "stratus-rasters"
    prefix = "rasters/"
  }
  output = {
    bucket = "stratus-rasters"
    prefix = "stac/"
  }
  reports = {
    bucket = "stratus-payloads"
  }
  inventory_buckets = ["stratus-inventory"]
}

run "function_is_capped_and_published" {
  command = apply

  assert {
    condition     = aws_lambda_function.this.reserved_concurrent_executions == 10 && aws_lambda_function.this.publish
    error_message = "The backfill function must be capped by its reserved concurrency and published."
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables == tomap({ OUTPUT_URL = "s3://stratus-rasters/stac/", MAX_CONCURRENCY = "8" })
    error_message = "The backfill function writes where the upload function does."
  }
}

run "least_privilege_roles" {
  command = apply

  assert {
    condition = {
      for s in data.aws_iam_policy_document.function.statement : s.sid => s.resources
      } == {
      ReadSourceRasters     = toset(["arn:aws:s3:::stratus-rasters/rasters/*"])
      ReadAndWriteStacItems = toset(["arn:aws:s3:::stratus-rasters/stac/*"])
      WriteOwnLogs          = toset(["arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/stratus-backfill:*"])
      WriteTraces           = toset(["*"])
    }
    error_message = "The function may read the source prefix, read and write Items, and log."
  }

  assert {
    condition = {
      for s in data.aws_iam_policy_document.batch_operations.statement : s.sid => { actions = s.actions, resources = s.resources }
      } == {
      InvokePublishedFunction = { actions = toset(["lambda:InvokeFunction"]), resources = toset(["arn:aws:lambda:us-east-1:123456789012:function:stratus-backfill:1"]) }
      ReadManifests = {
        actions   = toset(["s3:GetObject", "s3:GetObjectVersion"])
        resources = toset(["arn:aws:s3:::stratus-payloads/backfill/*", "arn:aws:s3:::stratus-inventory/*"])
      }
      WriteReports       = { actions = toset(["s3:PutObject"]), resources = toset(["arn:aws:s3:::stratus-payloads/backfill/*"]) }
      LocateReportBucket = { actions = toset(["s3:GetBucketLocation"]), resources = toset(["arn:aws:s3:::stratus-payloads"]) }
      GenerateManifests  = { actions = toset(["s3:PutInventoryConfiguration"]), resources = toset(["arn:aws:s3:::stratus-rasters"]) }
    }
    error_message = "A job may invoke the published function, read manifests, write reports and generate manifests, nothing else."
  }

  assert {
    condition     = module.batch_operations.trust.service == "batchoperations.s3.amazonaws.com" && module.batch_operations.trust.source_account == "123456789012"
    error_message = "Only S3 Batch Operations may assume the job role."
  }
}

run "distributed_map_over_a_listing_or_an_inventory" {
  command = apply

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this[0].definition).States.Listing.ItemReader.Resource == "arn:aws:states:::s3:listObjectsV2" && jsondecode(aws_sfn_state_machine.this[0].definition).States.Inventory.ItemReader.ReaderConfig.InputType == "MANIFEST"
    error_message = "The state machine must read a listing or an inventory manifest."
  }

  assert {
    condition = alltrue([for s in ["Listing", "Inventory"] : (
      jsondecode(aws_sfn_state_machine.this[0].definition).States[s].MaxConcurrency == 10 &&
      jsondecode(aws_sfn_state_machine.this[0].definition).States[s].ItemBatcher.MaxItemsPerBatch == 20 &&
      jsondecode(aws_sfn_state_machine.this[0].definition).States[s].ToleratedFailurePercentage == 5 &&
      jsondecode(aws_sfn_state_machine.this[0].definition).States[s].ResultWriter.Parameters.Prefix == "backfill/map" &&
      jsondecode(aws_sfn_state_machine.this[0].definition).States[s].ItemProcessor.ProcessorConfig.ExecutionType == "EXPRESS" &&
      contains(jsondecode(aws_sfn_state_machine.this[0].definition).States[s].ItemProcessor.States.Describe.Retry[0].ErrorEquals, "TransientFailure")
    )])
    error_message = "Both maps must be bounded by the reserved concurrency, batched, tolerate failures, retry transient ones and write results."
  }

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this[0].definition).States.Listing.ItemBatcher.BatchInput == { "bucket.$" = "$.bucket" }
    error_message = "A listing's batches must carry the bucket, which its items lack."
  }
}

run "batch_operations_only" {
  command = plan

  variables {
    state_machine = { enabled = false }
  }

  assert {
    condition     = length(aws_sfn_state_machine.this) == 0 && length(module.state_machine) == 0
    error_message = "state_machine.enabled = false must leave only S3 Batch Operations."
  }
}

run "rejects_unbounded_batches" {
  command = plan

  variables {
    state_machine = { items_per_batch = 1000 }
  }

  expect_failures = [var.state_machine]
}

run "backfilled_items_get_the_upload_functions_settings" {
  command = apply

  variables {
    item_settings = {
      environment = { COLLECTION_ID = "rasters", ITEM_TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:items" }
      policy_json = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"PublishItems\",\"Effect\":\"Allow\",\"Action\":\"sns:Publish\",\"Resource\":\"arn:aws:sns:us-east-1:123456789012:items\"}]}"
    }
  }

  assert {
    condition = aws_lambda_function.this.environment[0].variables == tomap({
      OUTPUT_URL      = "s3://stratus-rasters/stac/"
      MAX_CONCURRENCY = "8"
      COLLECTION_ID   = "rasters"
      ITEM_TOPIC_ARN  = "arn:aws:sns:us-east-1:123456789012:items"
    })
    error_message = "The backfill function must be told what the upload function is told about Items."
  }

  assert {
    condition     = data.aws_iam_policy_document.function.source_policy_documents == tolist([var.item_settings.policy_json])
    error_message = "The backfill function's role must carry the policy those settings need."
  }
}
