output "key_arns" {
  description = "KMS key ARN per purpose."
  value       = { for purpose, key in aws_kms_key.this : purpose => key.arn }
}

output "key_ids" {
  description = "KMS key id per purpose."
  value       = { for purpose, key in aws_kms_key.this : purpose => key.key_id }
}
