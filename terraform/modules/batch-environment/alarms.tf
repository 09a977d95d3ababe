# Optional: every job of the queue that ends FAILED is announced on the caller's SNS
# topic (Batch has no metric for failed jobs; its state-change events say it). The
# topic's policy must let events.amazonaws.com publish (docs/terraform.md).
resource "aws_cloudwatch_event_rule" "failed_jobs" {
  count = var.failed_jobs_topic_arn == null ? 0 : 1

  name        = "${var.name}-failed-jobs"
  description = "Jobs of the ${var.name} queue that ended FAILED"
  event_pattern = jsonencode({
    source      = ["aws.batch"]
    detail-type = ["Batch Job State Change"]
    detail = {
      status   = ["FAILED"]
      jobQueue = [aws_batch_job_queue.this.arn]
    }
  })
  tags = var.tags
}

resource "aws_cloudwatch_event_target" "failed_jobs" {
  count = var.failed_jobs_topic_arn == null ? 0 : 1

  rule = aws_cloudwatch_event_rule.failed_jobs[0].name
  arn  = var.failed_jobs_topic_arn
}
