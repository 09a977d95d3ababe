output "job_definition_arn" {
  description = "ARN of the job definition, with its revision."
  value       = aws_batch_job_definition.this.arn
}

output "job_definition_name" {
  description = "Name of the job definition (submitting by name runs the latest active revision)."
  value       = aws_batch_job_definition.this.name
}

output "image_uri" {
  description = "The image the job runs: the one of `image_uris` for the function's runtime."
  value       = local.image_uri
}

output "runtime" {
  description = "The function's Lambda runtime, which chose the image."
  value       = local.runtime
}

output "job_role_arn" {
  description = "ARN of the job role (what the function's code may do inside the job)."
  value       = aws_iam_role.job.arn
}

output "job_role_name" {
  description = "Name of the job role, to attach further policies."
  value       = aws_iam_role.job.name
}

output "execution_role_arn" {
  description = "ARN of the ECS task execution role the jobs use."
  value       = local.execution_role_arn
}

output "log_group_name" {
  description = "Log group of the jobs: `/aws/batch/job` (Batch's default, read by Cirrus' post-batch) unless `log_group_name` was given."
  value       = local.log_group_name
}

output "container_properties" {
  description = "The job's container properties, as a JSON string (the shape of a Cirrus task's `batch.container_properties`)."
  value       = aws_batch_job_definition.this.container_properties
}
