output "secret_arns" {
  description = "Secret ARN per key (app, aurora_master, redis_auth, msk_scram)."
  value       = { for key, secret in aws_secretsmanager_secret.this : key => secret.arn }
}

output "app_secret_name" {
  description = "Name of the app secret: remoteRef.key of the ExternalSecret for DATABASE_URL, REDIS_URL, SECRET_KEY."
  value       = aws_secretsmanager_secret.this["app"].name
}

output "msk_scram_secret_name" {
  description = "Name of the MSK SCRAM secret: remoteRef.key of the ExternalSecret for the Kafka SASL credentials."
  value       = aws_secretsmanager_secret.this["msk_scram"].name
}

output "msk_scram_secret_arn" {
  description = "ARN of the MSK SCRAM secret, associated with the cluster."
  value       = aws_secretsmanager_secret.this["msk_scram"].arn
}

output "aurora_master_password" {
  description = "Aurora master password (to the aurora module)."
  value       = random_password.aurora_master.result
  sensitive   = true
}

output "redis_auth_token" {
  description = "Redis AUTH token (to the elasticache module)."
  value       = random_password.redis_auth.result
  sensitive   = true
}

output "external_secrets_policy_json" {
  description = "IAM policy of the External Secrets service account: read the app and MSK secrets."
  value       = data.aws_iam_policy_document.external_secrets.json
}
