output "job_definition_arn" {
  description = "ARN of the job definition, with its revision."
  value       = aws_batch_job_definition.this.arn
}

output "job_definition_name" {
  description = "Name of the job definition (submitting by name runs the latest active revision)."
  value       = aws_batch_job_definition.this.name
}

output "image_uri" {
  description = "The run-lambda image the job runs: the one of `image_uris` for the function's runtime (for a container-image function, its `run-lambda serve` container's)."
  value       = local.image_uri
}

output "function_image_uri" {
  description = "For a container-image function, the function's own image, the job's second container; null otherwise."
  value       = local.function_image_uri
}

output "runtime" {
  description = "The function's Lambda runtime, which chose the image (empty for a container-image function)."
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
  description = "The job's container properties, as a JSON string (the shape of a Cirrus task's `batch.container_properties`); null for a container-image function, whose job has `ecs_properties`."
  value       = aws_batch_job_definition.this.container_properties
}

output "ecs_properties" {
  description = "For a container-image function, the multi-container job's ECS properties as a JSON string (run-lambda and the function's image); null otherwise."
  value       = aws_batch_job_definition.this.ecs_properties
}

output "job_role_permissions" {
  description = "What this definition's jobs may do besides the payloads and the function: the job role's statements by sid (`actions`, `resources`), and the function's own policy (`additional_policy_json`, null when none was given)."
  value = {
    statements             = { for s in data.aws_iam_policy_document.job.statement : s.sid => { actions = s.actions, resources = s.resources } }
    additional_policy_json = one(aws_iam_role_policy.additional[*].policy)
  }
}
