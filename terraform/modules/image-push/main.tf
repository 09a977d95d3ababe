locals {
  registry        = split("/", var.repository_url)[0]
  registry_id     = split(".", local.registry)[0]
  repository_name = join("/", slice(split("/", var.repository_url), 1, length(split("/", var.repository_url))))
  tag             = regex(":([^:/]+)$", var.source_image)[0]
  target          = "${var.repository_url}:${local.tag}"
}

data "aws_ecr_authorization_token" "this" {
  registry_id = local.registry_id
}

# Pushes the image whenever the source reference (and so the tag) changes. Its
# replacement defers the digest lookup below to apply time, after the push.
resource "terraform_data" "push" {
  triggers_replace = [var.source_image, local.target]
  input            = local.target

  provisioner "local-exec" {
    command     = "${path.module}/push.sh"
    interpreter = ["bash"]
    environment = {
      CONTAINER_CLI = var.container_cli
      ARCHITECTURE  = var.architecture
      SOURCE_IMAGE  = var.source_image
      TARGET_IMAGE  = local.target
      REGISTRY      = local.registry
      REGISTRY_USER = data.aws_ecr_authorization_token.this.user_name
      # Terraform hides all of a provisioner's output (errors included) when its
      # configuration holds a sensitive value. push.sh never prints the token, which
      # goes to `login` on stdin and expires after 12 hours; it stays sensitive in
      # the data source.
      REGISTRY_PASSWORD = nonsensitive(data.aws_ecr_authorization_token.this.password)
    }
  }
}

data "aws_ecr_image" "this" {
  registry_id     = local.registry_id
  repository_name = local.repository_name
  image_tag       = local.tag

  depends_on = [terraform_data.push]
}
