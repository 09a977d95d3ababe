output "function_name" {
  description = "Name of the Lambda function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the Lambda function."
  value       = aws_lambda_function.this.arn
}

output "image_uri" {
  description = "The digest-pinned image the function runs."
  value       = aws_lambda_function.this.image_uri
}

output "role_arn" {
  description = "ARN of the function's execution role."
  value       = aws_iam_role.this.arn
}

output "role_name" {
  description = "Name of the function's execution role (to attach more policies)."
  value       = aws_iam_role.this.name
}

output "log_group_name" {
  description = "Name of the function's log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "failure_queue_arn" {
  description = "ARN of the SQS queue that receives events whose processing failed after all retries."
  value       = aws_sqs_queue.failures.arn
}

output "failure_queue_url" {
  description = "URL of the failure queue."
  value       = aws_sqs_queue.failures.url
}

output "notification" {
  description = "The S3 notification filters that trigger the function (one per suffix), for callers that manage the bucket's notification themselves."
  value = [
    for s in var.watch.suffixes : {
      lambda_function_arn = aws_lambda_function.this.arn
      events              = var.watch.events
      filter_prefix       = var.watch.prefix
      filter_suffix       = s
    }
  ]
}
