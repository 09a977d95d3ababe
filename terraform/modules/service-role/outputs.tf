output "arn" {
  description = "ARN of the role."
  value       = aws_iam_role.this.arn
}

output "name" {
  description = "Name of the role."
  value       = aws_iam_role.this.name
}

output "policy_id" {
  description = "ID of the role's inline policy; depend on it before using the role."
  value       = aws_iam_role_policy.this.id
}

output "kms_key_arns" {
  description = "The KMS keys the role may use."
  value       = var.kms_key_arns
}

output "trust" {
  description = "Who may assume the role: the service, and the account and resource it must act for."
  value = {
    service        = var.service
    source_account = var.source_account
    source_arn     = var.source_arn
  }
}
