# Copied into modules/gdal-lambda/ for the moto round trip only.
resource "aws_lambda_function" "this" {
  lifecycle {
    ignore_changes = [
      # moto answers GetFunction with an empty ImageConfigResponse for image functions,
      # which the provider reads as an image_config block that the configuration lacks.
      image_config,
      # moto does not store LoggingConfig (log format, levels, log group) at all.
      logging_config,
    ]
  }
}

resource "aws_sqs_queue" "uploads" {
  lifecycle {
    # moto answers GetQueueAttributes with the redrive policy re-serialised, which the provider
    # reports as a whitespace change on every plan.
    ignore_changes = [redrive_policy]
  }
}
