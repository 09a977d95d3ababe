output "task" {
  description = "filmdrop's task modules, by task name."
  value       = module.task
}

output "task_batch_compute" {
  description = "filmdrop's task-batch-compute modules, by name."
  value       = module.task_batch_compute
}
