# moto answers ListVersionsByFunction for a function named by ARN with no versions (Lambda
# lists $LATEST and every version), and the provider reads the latest version that way:
# against moto the function is read by name, the same function in this account and region.
data "aws_lambda_function" "this" {
  function_name = local.function_name
}

# moto 5.2 refuses ecsProperties: see lambda-batch-task__moto_image.tf.
resource "aws_batch_job_definition" "this" {
  container_properties = local.moto_container_properties
  ecs_properties       = null
}
