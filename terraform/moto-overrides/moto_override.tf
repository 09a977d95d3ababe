# Points the root configuration's provider at moto on loopback; the round trip
# (scripts/terraform/moto-roundtrip.sh) copies this next to a copy of the
# configuration and fills in the port.
provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true

  endpoints {
    batch      = "http://127.0.0.1:MOTO_PORT"
    cloudwatch = "http://127.0.0.1:MOTO_PORT"
    ec2        = "http://127.0.0.1:MOTO_PORT"
    ecr        = "http://127.0.0.1:MOTO_PORT"
    iam        = "http://127.0.0.1:MOTO_PORT"
    lambda     = "http://127.0.0.1:MOTO_PORT"
    logs       = "http://127.0.0.1:MOTO_PORT"
    s3         = "http://127.0.0.1:MOTO_PORT"
    sfn        = "http://127.0.0.1:MOTO_PORT"
    sqs        = "http://127.0.0.1:MOTO_PORT"
    sts        = "http://127.0.0.1:MOTO_PORT"
  }
}

# moto's CreateComputeEnvironment insists on an existing service role (moto_batch.tf);
# AWS Batch itself uses its service-linked role when none is given (the module's default).
# moto keeps no job-state time limits on job queues, so a second plan would add them
# again; terraform test checks them instead.
module "batch" {
  service_role_arn                = aws_iam_role.moto_batch_service.arn
  unplaceable_job_timeout_seconds = null
}
