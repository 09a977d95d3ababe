# The part of a filmdrop deployment that takes a Cirrus task's definitions: what filmdrop's
# `cirrus` module does with them (modules/cirrus/feeder_task_workflow.tf and base/ at the
# commit filmdrop-one-apply.sh pins), around filmdrop's own typed-definitions, task-batch-compute
# and task modules, which filmdrop-one-apply.sh puts beside this file. Written for the test: the
# rest of the cirrus module (API, state database, workflows) takes no task definitions.

# filmdrop's base creates the payload bucket, and the data bucket unless given one, with
# generated names; the process queue's URL is known once it exists. All three are template
# variables of every definition, unknown on a first apply.
resource "aws_s3_bucket" "payload" {
  bucket_prefix = "${var.resource_prefix}-payload-"
  force_destroy = true
}

resource "aws_s3_bucket" "data" {
  count = var.cirrus_data_bucket == "" ? 1 : 0

  bucket_prefix = "${var.resource_prefix}-data-"
  force_destroy = true
}

resource "aws_sqs_queue" "process" {
  name = "${var.resource_prefix}-process"
}

locals {
  builtin_definitions_variables = {
    CIRRUS_DATA_BUCKET         = var.cirrus_data_bucket != "" ? var.cirrus_data_bucket : aws_s3_bucket.data[0].id
    CIRRUS_PAYLOAD_BUCKET      = aws_s3_bucket.payload.id
    CIRRUS_PAYLOAD_ROOT_PREFIX = var.payload_root_prefix
    CIRRUS_PROCESS_QUEUE_URL   = aws_sqs_queue.process.url
    CIRRUS_PROCESS_QUEUE_ARN   = aws_sqs_queue.process.arn
  }

  # Every definition.yaml under the directories, rendered with the deployment's variables
  # and the builtin ones, then decoded: one unknown value referenced by a file makes the
  # whole decoded definition unknown.
  task_batch_compute_definitions = [
    for f in fileset(path.root, "${var.cirrus_task_batch_compute_definitions_dir}/**/definition.yaml") :
    yamldecode(templatefile("${path.root}/${f}", merge(var.cirrus_task_batch_compute_definitions_variables, local.builtin_definitions_variables)))
  ]
  task_definitions = [
    for f in fileset(path.root, "${var.cirrus_task_definitions_dir}/**/definition.yaml") :
    yamldecode(templatefile("${path.root}/${f}", merge(var.cirrus_task_definitions_variables, local.builtin_definitions_variables)))
  ]
}

module "typed_definitions" {
  source = "./typed-definitions"

  cirrus_task_batch_compute = local.task_batch_compute_definitions
  cirrus_tasks              = local.task_definitions
}

# Keyed by the definitions' names, as filmdrop keys them: this is where an unknown value in a
# definition stops the plan ("Invalid for_each argument").
module "task_batch_compute" {
  source   = "./task-batch-compute"
  for_each = { for compute in module.typed_definitions.cirrus_task_batch_compute : compute.name => compute }

  resource_prefix        = var.resource_prefix
  vpc_subnet_ids         = var.vpc_subnet_ids
  vpc_security_group_ids = var.vpc_security_group_ids
  batch_compute_config   = each.value
}

module "task" {
  source   = "./task"
  for_each = { for task in module.typed_definitions.cirrus_tasks : task.name => task }

  resource_prefix           = var.resource_prefix
  cirrus_payload_bucket     = aws_s3_bucket.payload.id
  vpc_subnet_ids            = var.vpc_subnet_ids
  vpc_security_group_ids    = var.vpc_security_group_ids
  cirrus_task_batch_compute = module.task_batch_compute
  task_config               = each.value
}
