# The Stratus deployment: gdal-lambda on a raster bucket, and the run-geolambda
# Batch job that runs a Lambda function's code as a Batch job.

data "aws_caller_identity" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  # Bucket names are global: account and region keep two stacks, or two regions, apart.
  bucket_suffix = "${local.account_id}-${var.region}"
  # One repository per image (gdal_lambda, run_lambda, run_geolambda) that has builds; images
  # are keyed gdal_lambda and <image>/<runtime>.
  image_repository = { for k in keys(var.images) : k => split("/", k)[0] }
  repositories = {
    for image in distinct(values(local.image_repository)) : image => "${var.name}/${replace(image, "_", "-")}"
  }
  image_uris = {
    for k, image in var.images : k => var.push_images ? module.image[k].image_uri : image
  }
  # The job's images by runtime: python3.13 => <uri>.
  task_image_uris = {
    for k, uri in local.image_uris : split("/", k)[1] => uri if local.image_repository[k] == var.batch_task_image
  }
  use_default_vpc = var.subnet_ids == null
  # Docker's architecture names, and Lambda's and Fargate's for the same.
  lambda_architecture = var.image_architecture == "arm64" ? "arm64" : "x86_64"
  batch_architecture  = var.image_architecture == "arm64" ? "ARM64" : "X86_64"
}

# --- Images ------------------------------------------------------------------

module "ecr" {
  source   = "./modules/ecr-repository"
  for_each = local.repositories

  name         = each.value
  force_delete = var.force_destroy || var.force_delete_images
  # The tags the deployment pins (by their digests) stay in the repository.
  protected_tags = var.push_images ? sort([
    for k, image in var.images : regex(":([^:/@]+)$", image)[0] if local.image_repository[k] == each.key
  ]) : []
}

# One token for every push of the apply: each push logs in only with a registry and token not
# logged in with yet, so the apply logs in once.
data "aws_ecr_authorization_token" "push" {
  count       = var.push_images ? 1 : 0
  registry_id = local.account_id
}

module "image" {
  source   = "./modules/image-push"
  for_each = var.push_images ? var.images : {}

  source_image   = each.value
  repository_url = module.ecr[local.image_repository[each.key]].repository_url
  container_cli  = var.container_cli
  architecture   = var.image_architecture
  registry_auth = {
    user_name = data.aws_ecr_authorization_token.push[0].user_name
    password  = data.aws_ecr_authorization_token.push[0].password
  }
}

# ECR deletes only empty repositories. After a push they hold the images the stack runs, and a
# destroy would fail there, half-way, with one AWS error per repository. This stops it first,
# with nothing deleted and one message saying what to set: depending on every other part of the
# stack, it is the first thing a destroy removes. (Its message is decided at apply: a destroy
# runs what the last apply recorded.)
locals {
  repositories_with_images = sort([
    for image, name in local.repositories : name
    if var.push_images || anytrue([for uri in values(var.images) : startswith(uri, "${module.ecr[image].repository_url}@")])
  ])
}

resource "terraform_data" "destroy_guard" {
  input = var.force_destroy || var.force_delete_images || length(local.repositories_with_images) == 0 ? "" : join("", [
    "The ECR repositories ${join(", ", local.repositories_with_images)} hold the images this stack runs, and ECR ",
    "deletes only empty repositories: nothing was destroyed. To delete the repositories with their images, run ",
    "`terraform apply -var force_delete_images=true` (or set it in a tfvars file), then destroy again.",
  ])

  provisioner "local-exec" {
    when        = destroy
    command     = "[ -z \"$REFUSAL\" ] || { printf '%s\\n' \"$REFUSAL\" >&2; exit 1; }"
    environment = { REFUSAL = self.output }
  }

  depends_on = [
    module.image, module.raster_bucket, module.payload_bucket, module.gdal_lambda, module.batch, module.batch_task, module.backfill,
    aws_security_group.batch, aws_vpc_security_group_egress_rule.batch_https,
  ]
}

# --- Buckets -----------------------------------------------------------------

module "raster_bucket" {
  source = "./modules/private-bucket"

  name          = "${var.name}-rasters-${local.bucket_suffix}"
  force_destroy = var.force_destroy
}

module "payload_bucket" {
  source = "./modules/private-bucket"

  name          = "${var.name}-payloads-${local.bucket_suffix}"
  force_destroy = var.force_destroy
  temporary_prefixes = [
    { prefix = var.payload_prefix, expiration_days = var.payload_expiration_days },
  ]
}

# --- gdal-lambda -------------------------------------------------------------

module "gdal_lambda" {
  source = "./modules/gdal-lambda"

  function_name             = "${var.name}-gdal"
  role_path                 = var.role_path
  role_permissions_boundary = var.role_permissions_boundary
  alarm_topic_arn           = var.alarm_topic_arn
  image_uri                 = local.image_uris.gdal_lambda
  architecture              = local.lambda_architecture
  memory_size               = var.gdal_lambda.memory_size
  timeout                   = var.gdal_lambda.timeout
  ephemeral_storage_mb      = var.gdal_lambda.ephemeral_storage_mb
  log_retention_days        = var.gdal_lambda.log_retention_days
  trigger                   = var.gdal_lambda.trigger

  watch = {
    bucket = module.raster_bucket.name
    prefix = var.watch_prefix
  }
  output = {
    prefix = var.output_prefix
  }

  # Each Item announced once written (docs/destinations/).
  item_topic           = var.item_topic
  cirrus_process_queue = var.cirrus_process_queue
  collection_id        = var.collection_id
  thumbnail            = var.gdal_lambda_thumbnail
}

# --- Backfill (opt-in) ---------------------------------------------------------

module "backfill" {
  source = "./modules/backfill"
  count  = var.backfill.enabled ? 1 : 0

  name                      = "${var.name}-backfill"
  image_uri                 = local.image_uris.gdal_lambda
  architecture              = local.lambda_architecture
  memory_size               = var.backfill.memory_size
  timeout                   = var.backfill.timeout
  reserved_concurrency      = var.backfill.reserved_concurrency
  max_concurrency           = var.backfill.max_concurrency
  inventory_buckets         = var.backfill.inventory_buckets
  state_machine             = var.backfill.state_machine
  role_path                 = var.role_path
  role_permissions_boundary = var.role_permissions_boundary
  # Backfilled Items get the same Collection, thumbnails and messages as uploads'.
  item_settings = module.gdal_lambda.item_settings

  source_location = {
    bucket = module.raster_bucket.name
    prefix = var.watch_prefix
  }
  output = {
    bucket = module.raster_bucket.name
    prefix = var.output_prefix
  }
  reports = {
    bucket = module.payload_bucket.name
    prefix = "backfill/"
  }
}

# --- Batch -------------------------------------------------------------------

# Without subnet_ids the jobs run in the default VPC, which many accounts no longer
# have: a list (empty when there is none) rather than a lookup that fails obscurely.
data "aws_vpcs" "default" {
  count = local.use_default_vpc ? 1 : 0

  filter {
    name   = "is-default"
    values = ["true"]
  }
}

data "aws_subnets" "default" {
  count = local.use_default_vpc ? 1 : 0

  filter {
    name   = "vpc-id"
    values = data.aws_vpcs.default[0].ids
  }

  lifecycle {
    precondition {
      condition     = length(data.aws_vpcs.default[0].ids) == 1
      error_message = "This account has no default VPC in this region: set subnet_ids (private subnets with a route to ECR, S3, Lambda and CloudWatch Logs) and security_group_ids."
    }
  }
}

data "aws_subnet" "first" {
  count = var.security_group_ids == null ? 1 : 0
  id    = local.use_default_vpc ? sort(data.aws_subnets.default[0].ids)[0] : var.subnet_ids[0]
}

resource "aws_security_group" "batch" {
  #checkov:skip=CKV2_AWS_5:Attached to the Batch compute environment through module.batch's security_group_ids, which the graph check does not follow into modules.
  count = var.security_group_ids == null ? 1 : 0

  name        = "${var.name}-batch"
  description = "Stratus Batch jobs: outbound HTTPS only"
  vpc_id      = data.aws_subnet.first[0].vpc_id
}

resource "aws_vpc_security_group_egress_rule" "batch_https" {
  count = var.security_group_ids == null ? 1 : 0

  security_group_id = aws_security_group.batch[0].id
  description       = "HTTPS to AWS APIs (S3, Lambda, ECR, CloudWatch Logs)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

module "batch" {
  source = "./modules/batch-environment"

  name               = var.name
  compute_type       = var.batch.compute_type
  max_vcpus          = var.batch.max_vcpus
  subnet_ids         = local.use_default_vpc ? sort(data.aws_subnets.default[0].ids) : var.subnet_ids
  security_group_ids = var.security_group_ids != null ? var.security_group_ids : aws_security_group.batch[*].id

  failed_jobs_topic_arn = var.alarm_topic_arn

  role_path                 = var.role_path
  role_permissions_boundary = var.role_permissions_boundary
}

# A job definition only for a function run-lambda can run: gdal-lambda is an image
# function, which it refuses. It runs the image of the function's runtime.
module "batch_task" {
  source = "./modules/lambda-batch-task"
  count  = var.batch_task_function_arn == null ? 0 : 1

  name                      = "${var.name}-${replace(var.batch_task_image, "_", "-")}"
  role_path                 = var.role_path
  role_permissions_boundary = var.role_permissions_boundary
  image_uris                = local.task_image_uris
  function_runtime          = var.batch_task_function_runtime
  lambda_function_arn       = var.batch_task_function_arn
  lambda_layer_arns         = var.batch_task_layer_arns
  additional_policy_json    = var.batch_task_additional_policy_json
  payload = {
    bucket = module.payload_bucket.name
    prefix = var.payload_prefix
  }
  platform         = module.batch.compute_environment_is_fargate ? "FARGATE" : "EC2"
  cpu_architecture = local.batch_architecture
  vcpus            = var.batch.job_vcpus
  memory_mib       = var.batch.job_memory
  assign_public_ip = local.use_default_vpc
}

# The job definition was run_geolambda_task before it ran either image.
moved {
  from = module.run_geolambda_task
  to   = module.batch_task
}
