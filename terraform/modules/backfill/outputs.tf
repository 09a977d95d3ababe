output "function_name" {
  description = "Name of the backfill function."
  value       = aws_lambda_function.this.function_name
}

output "function_qualified_arn" {
  description = "ARN of the function's published version, which jobs and the state machine invoke."
  value       = aws_lambda_function.this.qualified_arn
}

output "batch_operations_role_arn" {
  description = "Role for S3 Batch Operations jobs (`aws s3control create-job --role-arn`)."
  value       = module.batch_operations.arn
}

output "reports" {
  description = "Where manifests, completion reports and map results go: `s3://<bucket>/<prefix>`."
  value       = "s3://${var.reports.bucket}/${var.reports.prefix}"
}

output "state_machine_arn" {
  description = "ARN of the Distributed Map state machine (null when `state_machine.enabled` is false)."
  value       = local.state_machine ? aws_sfn_state_machine.this[0].arn : null
}

output "job_operation" {
  description = "The `--operation` of an S3 Batch Operations job that runs the function (schema 2.0)."
  value = {
    LambdaInvoke = {
      FunctionArn             = aws_lambda_function.this.qualified_arn
      InvocationSchemaVersion = "2.0"
    }
  }
}

output "job_report" {
  description = "The `--report` of such a job: every task's result, under the reports prefix."
  value = {
    Bucket      = "arn:${local.partition}:s3:::${var.reports.bucket}"
    Prefix      = "${var.reports.prefix}s3-batch"
    Format      = "Report_CSV_20180820"
    Enabled     = true
    ReportScope = "AllTasks"
  }
}
