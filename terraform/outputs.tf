output "raster_bucket" {
  description = "Bucket whose uploads under `watch_prefix` trigger gdal-lambda; STAC Items appear under `output_prefix`."
  value       = module.raster_bucket.name
}

output "payload_bucket" {
  description = "Bucket for Cirrus payloads of Batch jobs."
  value       = module.payload_bucket.name
}

output "gdal_lambda_function_name" {
  description = "Name of the gdal-lambda function."
  value       = module.gdal_lambda.function_name
}

output "gdal_lambda_failure_queue_url" {
  description = "SQS queue holding events gdal-lambda failed on after all retries."
  value       = module.gdal_lambda.failure_queue_url
}

output "gdal_lambda_log_group" {
  description = "Log group of gdal-lambda."
  value       = module.gdal_lambda.log_group_name
}

output "repository_urls" {
  description = "ECR repositories of the images (gdal_lambda, run_lambda, run_geolambda; one tag per runtime)."
  value       = { for k, m in module.ecr : k => m.repository_url }
}

output "image_uris" {
  description = "The deployed images, pinned by digest, keyed as `images` (gdal_lambda, run_lambda/python3.13, …)."
  value       = local.image_uris
}

output "job_queue_arn" {
  description = "Batch job queue to submit run-lambda jobs to."
  value       = module.batch.job_queue_arn
}

output "batch_task" {
  description = "The job definition running `batch_task_function_arn` (null without it): its ARN, the function's runtime and the image picked for it."
  value = one([for t in module.batch_task : {
    job_definition_arn = t.job_definition_arn
    runtime            = t.runtime
    image_uri          = t.image_uri
  }])
}

output "batch" {
  description = "The Batch environment in the shape of a filmdrop task-batch-compute `batch` output."
  value       = module.batch.batch
}

output "backfill" {
  description = "With `backfill.enabled`: the backfill function, the S3 Batch Operations job role, operation and report, the state machine and the reports location (`just backfill` reads them); null otherwise."
  value = var.backfill.enabled ? {
    function_name             = module.backfill[0].function_name
    function_qualified_arn    = module.backfill[0].function_qualified_arn
    batch_operations_role_arn = module.backfill[0].batch_operations_role_arn
    job_operation             = module.backfill[0].job_operation
    job_report                = module.backfill[0].job_report
    state_machine_arn         = module.backfill[0].state_machine_arn
    reports                   = module.backfill[0].reports
  } : null
}
