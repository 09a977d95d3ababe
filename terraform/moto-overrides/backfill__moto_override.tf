# Copied into modules/backfill/ for the moto round trip only.
resource "aws_lambda_function" "this" {
  lifecycle {
    ignore_changes = [
      # As for gdal-lambda's function: moto answers image functions with an empty
      # ImageConfigResponse and stores no LoggingConfig.
      image_config,
      logging_config,
    ]
  }
}
