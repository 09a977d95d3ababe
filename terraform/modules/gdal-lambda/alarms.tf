# Optional alarms to the caller's SNS topic: the function failing or throttled, and
# events waiting in a failure queue (each is an upload without its Item).

locals {
  alarms = var.alarm_topic_arn == null ? {} : merge(
    {
      errors = {
        description = "${var.function_name} reported errors"
        namespace   = "AWS/Lambda"
        metric      = "Errors"
        dimensions  = { FunctionName = aws_lambda_function.this.function_name }
      }
      throttles = {
        description = "${var.function_name} was throttled"
        namespace   = "AWS/Lambda"
        metric      = "Throttles"
        dimensions  = { FunctionName = aws_lambda_function.this.function_name }
      }
      failed-events = {
        description = "Events that ${var.function_name} could not process wait in ${aws_sqs_queue.failures.name}"
        namespace   = "AWS/SQS"
        metric      = "ApproximateNumberOfMessagesVisible"
        dimensions  = { QueueName = aws_sqs_queue.failures.name }
      }
    },
    local.via_sqs ? {
      dead-letters = {
        description = "Upload messages that ${var.function_name} could not process wait in ${aws_sqs_queue.uploads_dead[0].name}"
        namespace   = "AWS/SQS"
        metric      = "ApproximateNumberOfMessagesVisible"
        dimensions  = { QueueName = aws_sqs_queue.uploads_dead[0].name }
      }
    } : {},
  )
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name          = "${var.function_name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  dimensions          = each.value.dimensions
  statistic           = each.value.metric == "ApproximateNumberOfMessagesVisible" ? "Maximum" : "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]
  tags                = var.tags
}
