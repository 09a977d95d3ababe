output "image_uri" {
  description = "The pushed image, pinned by digest (`<repository_url>@sha256:<digest>`): what a Lambda function or job definition should run."
  value       = "${var.repository_url}@${data.aws_ecr_image.this.image_digest}"
}

output "image_digest" {
  description = "Digest of the pushed image manifest (an index is refused by the push)."
  value       = data.aws_ecr_image.this.image_digest
}

output "image_tag" {
  description = "Tag the image was pushed under."
  value       = local.tag
}
