output "alb_security_group_id" {
  description = "alb-sg: set on the Ingress (alb.ingress.kubernetes.io/security-groups)."
  value       = aws_security_group.alb.id
}

output "eks_security_group_id" {
  description = "eks-sg: attached to the EKS nodes (and so to the pods)."
  value       = aws_security_group.eks.id
}

output "msk_security_group_id" {
  description = "msk-sg."
  value       = aws_security_group.msk.id
}

output "redis_security_group_id" {
  description = "redis-sg."
  value       = aws_security_group.redis.id
}

output "database_security_group_id" {
  description = "database-sg (Aurora PostgreSQL)."
  value       = aws_security_group.database.id
}
