mock_provider "aws" {
  source = "../../mocks"
}

variables {
  name = "stratus-rasters"
}

run "private_and_encrypted" {
  command = apply

  assert {
    condition = (
      aws_s3_bucket_public_access_block.this.block_public_acls &&
      aws_s3_bucket_public_access_block.this.block_public_policy &&
      aws_s3_bucket_public_access_block.this.ignore_public_acls &&
      aws_s3_bucket_public_access_block.this.restrict_public_buckets
    )
    error_message = "All four public access block settings must be on."
  }

  assert {
    condition     = aws_s3_bucket_ownership_controls.this.rule[0].object_ownership == "BucketOwnerEnforced"
    error_message = "ACLs must be disabled."
  }

  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "aws:kms"
    error_message = "Default encryption must be SSE-KMS."
  }

  assert {
    condition     = aws_s3_bucket_versioning.this.versioning_configuration[0].status == "Enabled"
    error_message = "Versioning must be on by default."
  }

  assert {
    condition     = !aws_s3_bucket.this.force_destroy
    error_message = "The bucket must not be force-destroyed by default."
  }

  assert {
    condition     = length(aws_s3_bucket_logging.this) == 0
    error_message = "Access logging is off unless a log bucket is given."
  }

  assert {
    condition     = output.name == "stratus-rasters" && output.arn == "arn:aws:s3:::stratus-rasters"
    error_message = "Outputs must name the bucket."
  }
}

run "tls_only_policy" {
  command = apply

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.this.statement :
      s.effect == "Deny" && s.actions == toset(["s3:*"]) &&
      s.resources == toset(["arn:aws:s3:::stratus-rasters", "arn:aws:s3:::stratus-rasters/*"]) &&
      anytrue([for c in s.condition : c.test == "Bool" && c.variable == "aws:SecureTransport" && c.values == tolist(["false"])])
    ])
    error_message = "The bucket policy must deny every request made without TLS, on the bucket and its objects."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.this.statement :
      s.effect == "Deny" && anytrue([for c in s.condition : c.variable == "s3:TlsVersion" && c.values == tolist(["1.2"])])
    ])
    error_message = "The bucket policy must deny TLS versions below 1.2."
  }

  assert {
    condition     = alltrue([for s in data.aws_iam_policy_document.this.statement : s.effect == "Deny"])
    error_message = "The bucket policy must grant nothing; access comes from IAM."
  }
}

run "temporary_prefixes_expire" {
  command = plan

  variables {
    versioning = false
    temporary_prefixes = [
      { prefix = "payloads/", expiration_days = 10 },
      { prefix = "tmp/", expiration_days = 1 },
    ]
    kms_key_arn       = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    access_log_bucket = "stratus-logs"
  }

  assert {
    condition = {
      for r in aws_s3_bucket_lifecycle_configuration.this.rule :
      r.filter[0].prefix => r.expiration[0].days if length(r.expiration) > 0 && startswith(r.id, "expire-")
      } == {
      "payloads/" = 10
      "tmp/"      = 1
    }
    error_message = "Each temporary prefix must expire after its own number of days."
  }

  assert {
    condition     = contains([for r in aws_s3_bucket_lifecycle_configuration.this.rule : r.id], "abort-incomplete-multipart-uploads")
    error_message = "Incomplete multipart uploads must be aborted."
  }

  assert {
    condition     = [for r in aws_s3_bucket_lifecycle_configuration.this.rule : r.noncurrent_version_expiration[0].noncurrent_days if r.id == "expire-noncurrent-versions"] == [30]
    error_message = "Versions kept from before versioning was suspended must still expire."
  }

  assert {
    condition     = [for r in aws_s3_bucket_lifecycle_configuration.this.rule : r.expiration[0].expired_object_delete_marker if r.id == "remove-expired-delete-markers"] == [true]
    error_message = "Delete markers left once every version of a key has expired must be removed."
  }

  assert {
    condition     = aws_s3_bucket_versioning.this.versioning_configuration[0].status == "Suspended"
    error_message = "versioning = false must suspend versioning."
  }

  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default[0].kms_master_key_id == "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    error_message = "The customer managed key must be used when given."
  }

  assert {
    condition     = aws_s3_bucket_logging.this[0].target_bucket == "stratus-logs"
    error_message = "Access logs must go to the given bucket."
  }
}

run "rejects_bad_names_and_prefixes" {
  command = plan

  variables {
    name               = "Not_A_Bucket"
    temporary_prefixes = [{ prefix = "/payloads", expiration_days = 0 }]
  }

  expect_failures = [var.name, var.temporary_prefixes]
}
