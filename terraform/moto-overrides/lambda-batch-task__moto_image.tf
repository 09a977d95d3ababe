# Copied into modules/lambda-batch-task/ for the moto round trip only (see moto_image_task.tf):
# moto 5.2 stores no ecsProperties, so an image function's job definition registers its
# run-lambda container alone, as containerProperties.
locals {
  moto_container_properties = local.is_image ? jsonencode(merge(
    {
      command              = local.ecs_properties.taskProperties[0].containers[0].command
      image                = local.image_uri
      jobRoleArn           = aws_iam_role.job.arn
      executionRoleArn     = local.execution_role_arn
      resourceRequirements = local.resource_requirements
      environment          = local.runner_environment
    },
    local.log_configuration,
    local.fargate_task,
    local.is_fargate ? { fargatePlatformConfiguration = { platformVersion = "LATEST" } } : {},
  )) : jsonencode(local.container_properties)
}
