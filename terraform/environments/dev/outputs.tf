# The stack's outputs under their own names: what the Kubernetes overlay needs (deploy/README.md,
# "Configure the overlay"). Descriptions are in modules/stack/outputs.tf.

output "region" { value = var.region }
output "eks_cluster_name" { value = module.stack.eks_cluster_name }
output "ecr_repository_url" { value = module.stack.ecr_repository_url }
output "msk_bootstrap_brokers_sasl_scram" { value = module.stack.msk_bootstrap_brokers_sasl_scram }
output "aurora_endpoint" { value = module.stack.aurora_endpoint }
output "redis_primary_endpoint" { value = module.stack.redis_primary_endpoint }
output "app_secret_name" { value = module.stack.app_secret_name }
output "msk_scram_secret_name" { value = module.stack.msk_scram_secret_name }
output "secret_arns" { value = module.stack.secret_arns }
output "app_role_arn" { value = module.stack.app_role_arn }
output "external_secrets_role_arn" { value = module.stack.external_secrets_role_arn }
output "alb_security_group_id" { value = module.stack.alb_security_group_id }
output "waf_web_acl_arn" { value = module.stack.waf_web_acl_arn }
output "public_subnet_cidrs" { value = module.stack.public_subnet_cidrs }
output "private_subnet_cidrs" { value = module.stack.private_subnet_cidrs }
output "ui_bucket_name" { value = module.stack.ui_bucket_name }
output "ui_distribution_id" { value = module.stack.ui_distribution_id }
