output "task_definitions_variables" {
  description = "Values for the `$${geo-task.*}` references in definition.yaml, keyed by task name, as a filmdrop deployment's task definition variables."
  value       = local.task_definitions_variables
}

output "cirrus_task_batch_compute" {
  description = "The Batch environment keyed by its name, in the shape of filmdrop's `cirrus_task_batch_compute` input."
  value = {
    (local.batch_compute_name) = { batch = module.batch.batch }
  }
}

output "task_config" {
  description = "definition.yaml rendered with the values above (the object filmdrop's `task` module takes as `task_config`)."
  value       = local.task_config
}
