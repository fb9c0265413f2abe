output "endpoint" {
  description = "Writer endpoint (DATABASE_URL host; the secrets module writes DATABASE_URL)."
  value       = aws_rds_cluster.this.endpoint
}

output "reader_endpoint" {
  description = "Reader endpoint."
  value       = aws_rds_cluster.this.reader_endpoint
}

output "port" {
  description = "PostgreSQL port."
  value       = aws_rds_cluster.this.port
}

output "database_name" {
  description = "Database name."
  value       = aws_rds_cluster.this.database_name
}
