output "compute_environment_arn" {
  description = "ARN of the compute environment."
  value       = aws_batch_compute_environment.this.arn
}

output "compute_environment_name" {
  description = "Name of the (first) compute environment: what a filmdrop task-batch-compute definition names in `batch_compute_environment_existing`."
  # From the ARN: the attribute's name differs between provider major versions.
  value = split("/", aws_batch_compute_environment.this.arn)[1]
}

output "compute_environment_is_fargate" {
  description = "Whether the compute environment is Fargate (job definitions then need `platform_capabilities = [\"FARGATE\"]`)."
  value       = local.is_fargate
}

output "job_queue_arn" {
  description = "ARN of the job queue to submit jobs to."
  value       = aws_batch_job_queue.this.arn
}

output "job_queue_name" {
  description = "Name of the job queue."
  value       = aws_batch_job_queue.this.name
}

output "job_queue_is_fair_share" {
  description = "Whether the queue has a fair-share scheduling policy (it has none)."
  value       = false
}

output "ecs_task_execution_role_arn" {
  description = "ARN of the ECS task execution role (pulls images, writes logs) for job definitions in this environment."
  value       = aws_iam_role.task_execution.arn
}

output "instance_role_arn" {
  description = "ARN of the container instances' role (EC2/SPOT only, else null)."
  value       = one(aws_iam_role.instance[*].arn)
}

output "batch" {
  description = "The outputs above in the shape of a filmdrop `task-batch-compute` module's `batch` output (for code that consumes that shape; filmdrop deployments take this environment through `batch_compute_environment_existing`, see docs/terraform.md)."
  value = {
    compute_environment_arn        = aws_batch_compute_environment.this.arn
    compute_environment_is_fargate = local.is_fargate
    ecs_task_execution_role_arn    = aws_iam_role.task_execution.arn
    job_queue_arn                  = aws_batch_job_queue.this.arn
    job_queue_is_fair_share        = false
  }
}
