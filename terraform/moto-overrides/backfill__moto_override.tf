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

# The provider validates a state machine's definition (ValidateStateMachineDefinition) before
# creating it, and moto does not implement that call: the round trip deploys the backfill without
# its state machine, which terraform test covers.
locals {
  state_machine = false
}
