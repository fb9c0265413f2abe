output "primary_endpoint" {
  description = "Primary endpoint address (REDIS_URL host; the secrets module writes REDIS_URL)."
  value       = aws_elasticache_replication_group.this.primary_endpoint_address
}

output "port" {
  description = "Redis port."
  value       = aws_elasticache_replication_group.this.port
}
