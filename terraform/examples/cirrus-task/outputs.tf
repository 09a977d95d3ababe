output "task_definitions_variables" {
  description = "Values for the `$${geo-task.*}` references in definition.yaml, keyed by task name: an entry of the deployment's `cirrus_task_definitions_variables`. Known at plan time."
  value       = local.task_definitions_variables

  precondition {
    condition     = module.run_geolambda_repository.repository_url == local.repository_url
    error_message = "The repository's URL is not the one the task definition names."
  }
}

output "task_batch_compute_definitions_variables" {
  description = "Values for the `$${stratus-compute.*}` references in compute-definition.yaml: an entry of the deployment's `cirrus_task_batch_compute_definitions_variables`. Known at plan time."
  value       = local.task_batch_compute_definitions_variables
}

output "batch_compute_config" {
  description = "compute-definition.yaml rendered (the object filmdrop's `task-batch-compute` module takes as `batch_compute_config`)."
  value       = local.batch_compute_config
}

output "task_config" {
  description = "definition.yaml rendered with the values above (the object filmdrop's `task` module takes as `task_config`)."
  value       = local.task_config
}

output "run_geolambda_image_digest_uri" {
  description = "The pushed image pinned by digest (after apply): the build the task definition's tag names."
  value       = module.run_geolambda_image.image_uri
}
