locals {
  registry        = split("/", var.repository_url)[0]
  registry_id     = split(".", local.registry)[0]
  repository_name = join("/", slice(split("/", var.repository_url), 1, length(split("/", var.repository_url))))
  tag             = regex(":([^:/]+)$", var.source_image)[0]
  target          = "${var.repository_url}:${local.tag}"
}

# A token of our own unless the caller hands one in: a caller pushing several images gives them
# all the same token, so push.sh logs in once per apply (it skips a registry and token it has
# already logged in with).
data "aws_ecr_authorization_token" "this" {
  count       = local.own_token ? 1 : 0
  registry_id = local.registry_id
}

locals {
  own_token = nonsensitive(var.registry_auth == null)
  # Terraform hides all of a provisioner's output (errors included) when its configuration
  # holds a sensitive value. push.sh never prints the token, which goes to `login` on stdin and
  # expires after 12 hours; it stays sensitive in the data source and the variable.
  registry_user     = local.own_token ? data.aws_ecr_authorization_token.this[0].user_name : nonsensitive(var.registry_auth.user_name)
  registry_password = local.own_token ? nonsensitive(data.aws_ecr_authorization_token.this[0].password) : nonsensitive(var.registry_auth.password)
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
      CONTAINER_CLI     = var.container_cli
      ARCHITECTURE      = var.architecture
      SOURCE_IMAGE      = var.source_image
      TARGET_IMAGE      = local.target
      REGISTRY          = local.registry
      REGISTRY_USER     = local.registry_user
      REGISTRY_PASSWORD = local.registry_password
    }
  }
}

data "aws_ecr_image" "this" {
  registry_id     = local.registry_id
  repository_name = local.repository_name
  image_tag       = local.tag

  depends_on = [terraform_data.push]
}
