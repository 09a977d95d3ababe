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
  value       = module.role.arn
}

output "role_name" {
  description = "Name of the function's execution role (to attach more policies)."
  value       = module.role.name
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

output "upload_queue_arn" {
  description = "With `trigger = \"sqs\"`: ARN of the queue the bucket notifies and the function reads (null otherwise)."
  value       = local.via_sqs ? aws_sqs_queue.uploads[0].arn : null
}

output "upload_queue_url" {
  description = "With `trigger = \"sqs\"`: URL of that queue."
  value       = local.via_sqs ? aws_sqs_queue.uploads[0].url : null
}

output "upload_dead_letter_queue_url" {
  description = "With `trigger = \"sqs\"`: URL of the queue that keeps messages delivered `sqs.max_receive_count` times without success."
  value       = local.via_sqs ? aws_sqs_queue.uploads_dead[0].url : null
}

output "upload_rule_arn" {
  description = "With `trigger = \"eventbridge\"`: ARN of the EventBridge rule that invokes the function (null otherwise)."
  value       = local.via_events ? aws_cloudwatch_event_rule.uploads[0].arn : null
}

output "notification" {
  description = "With `trigger = \"s3\"`: the S3 notification filters that trigger the function (one per suffix), for callers that manage the bucket's notification themselves."
  value = [
    for s in var.watch.suffixes : {
      lambda_function_arn = aws_lambda_function.this.arn
      events              = var.watch.events
      filter_prefix       = var.watch.prefix
      filter_suffix       = s
    }
  ]
}

output "item_settings" {
  description = "What becomes of each Item besides its write (`collection_id`, `thumbnail`, `item_topic`, `cirrus_process_queue`): the function's environment for them and the policy they need (null when none), for another function that writes the same Items, such as the backfill module's."
  value       = local.item_settings
}
