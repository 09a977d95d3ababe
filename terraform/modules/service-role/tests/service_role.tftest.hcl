mock_provider "aws" {
  source = "../../mocks"
}

variables {
  service        = "lambda.amazonaws.com"
  assume_sid     = "LambdaAssumesThisFunctionsRole"
  source_account = "123456789012"
  source_arn     = "arn:aws:lambda:us-east-1:123456789012:function:stratus-gdal"
  name_prefix    = "stratus-gdal-role-"
  description    = "Execution role of stratus-gdal"
  policy_name    = "stratus-gdal-lambda"
  policy_json    = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
  iam = {
    path                 = "/stratus/"
    permissions_boundary = "arn:aws:iam::123456789012:policy/boundary"
    tags                 = { team = "geo" }
  }
}

run "only_the_service_for_this_account_and_resource" {
  command = apply

  assert {
    condition = one(data.aws_iam_policy_document.assume.statement).principals == toset([
      { type = "Service", identifiers = toset(["lambda.amazonaws.com"]) }
    ])
    error_message = "Only the named service may assume the role."
  }

  assert {
    condition = {
      for c in one(data.aws_iam_policy_document.assume.statement).condition : c.variable => [c.test, c.values]
      } == {
      "aws:SourceAccount" = ["StringEquals", tolist(["123456789012"])]
      "aws:SourceArn"     = ["ArnLike", tolist(["arn:aws:lambda:us-east-1:123456789012:function:stratus-gdal"])]
    }
    error_message = "The role may be assumed only on behalf of this account and this resource."
  }

  assert {
    condition     = aws_iam_role.this.path == "/stratus/" && aws_iam_role.this.permissions_boundary == "arn:aws:iam::123456789012:policy/boundary"
    error_message = "The role takes the caller's path and permissions boundary."
  }

  assert {
    condition     = data.aws_iam_policy_document.this.source_policy_documents == tolist([var.policy_json]) && aws_iam_role_policy.this.name == "stratus-gdal-lambda"
    error_message = "The role carries the caller's inline policy."
  }

  assert {
    condition     = length(data.aws_iam_policy_document.this.statement) == 0
    error_message = "Without keys, nothing is added to the caller's policy."
  }
}

run "keys_of_what_the_role_touches" {
  command = plan

  variables {
    kms_key_arns = ["arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"]
  }

  assert {
    condition = [for s in data.aws_iam_policy_document.this.statement : [s.sid, s.actions, s.resources]] == [[
      "UseEncryptionKeys", toset(["kms:Decrypt", "kms:GenerateDataKey"]),
      toset(["arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"])
    ]]
    error_message = "The keys given, for decrypting and generating data keys only."
  }
}

run "no_resource_named_in_advance" {
  command = plan

  variables {
    service    = "batchoperations.s3.amazonaws.com"
    source_arn = null
  }

  assert {
    condition = [
      for c in one(data.aws_iam_policy_document.assume.statement).condition : c.variable
    ] == ["aws:SourceAccount"]
    error_message = "Without a source ARN, the account condition alone."
  }
}

run "long_prefix_refused" {
  command = plan

  variables {
    name_prefix = "a-name-prefix-longer-than-iam-allows-x-"
  }

  expect_failures = [var.name_prefix]
}
