# Everything the Kubernetes overlay (deploy/k8s/<environment>) needs; each environment
# re-exports these under the same names, and deploy/README.md, "Configure the overlay",
# says where each one goes. (region is the environment's own output: the provider's.)

output "eks_cluster_name" {
  description = "aws eks update-kubeconfig --name <this>."
  value       = module.eks.cluster_name
}

output "ecr_repository_url" {
  description = "Image newName in the overlay's kustomization.yaml."
  value       = module.ecr.repository_url
}

output "msk_bootstrap_brokers_sasl_scram" {
  description = "KAFKA_BOOTSTRAP_SERVERS in the overlay's configmap.yaml."
  value       = module.msk.bootstrap_brokers_sasl_scram
}

output "aurora_endpoint" {
  description = "Aurora writer endpoint (already inside DATABASE_URL of the app secret)."
  value       = module.aurora.endpoint
}

output "redis_primary_endpoint" {
  description = "ElastiCache primary endpoint (already inside REDIS_URL of the app secret)."
  value       = module.elasticache.primary_endpoint
}

output "app_secret_name" {
  description = "remoteRef.key of DATABASE_URL, REDIS_URL and SECRET_KEY in the overlay's externalsecret.yaml."
  value       = module.secrets.app_secret_name
}

output "msk_scram_secret_name" {
  description = "remoteRef.key of KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD in the overlay's externalsecret.yaml."
  value       = module.secrets.msk_scram_secret_name
}

output "secret_arns" {
  description = "ARNs of every secret of the environment."
  value       = module.secrets.secret_arns
}

output "app_role_arn" {
  description = "eks.amazonaws.com/role-arn of the ServiceAccount crypto-oms."
  value       = module.eks.service_account_role_arns["app"]
}

output "external_secrets_role_arn" {
  description = "eks.amazonaws.com/role-arn of the ServiceAccount external-secrets."
  value       = module.eks.service_account_role_arns["external-secrets"]
}

output "alb_security_group_id" {
  description = "alb.ingress.kubernetes.io/security-groups of the Ingress."
  value       = module.security_groups.alb_security_group_id
}

output "waf_web_acl_arn" {
  description = "alb.ingress.kubernetes.io/wafv2-acl-arn of the Ingress (null without enable_waf)."
  value       = var.enable_waf ? module.waf[0].web_acl_arn : null
}

output "public_subnet_cidrs" {
  description = "ipBlocks of the NetworkPolicy allow-alb-to-web."
  value       = module.vpc.public_subnet_cidrs
}

output "private_subnet_cidrs" {
  description = "ipBlocks of the NetworkPolicy allow-data-stores."
  value       = module.vpc.private_subnet_cidrs
}

output "ui_bucket_name" {
  description = "Bucket the UI build is uploaded to."
  value       = module.ui_cdn.bucket_name
}

output "ui_distribution_id" {
  description = "CloudFront distribution to invalidate after a UI upload."
  value       = module.ui_cdn.distribution_id
}
