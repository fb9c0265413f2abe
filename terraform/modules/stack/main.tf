# One environment of the Crypto OMS, composed from the other modules: what
# environments/dev and environments/prod have in common. Everything that differs between
# them is a variable (variables.tf); each environment calls this module once with its values.

locals {
  name         = "crypto-oms-${var.environment}"
  cluster_name = local.name
  tags         = { Project = "crypto-oms", Environment = var.environment }
}

module "kms" {
  source = "../kms"

  name = local.name
  tags = local.tags
}

module "vpc" {
  source = "../vpc"

  name               = local.name
  cluster_name       = local.cluster_name
  az_count           = var.az_count
  single_nat_gateway = var.single_nat_gateway
  logs_kms_key_arn   = module.kms.key_arns["logs"]
  tags               = local.tags
}

module "security_groups" {
  source = "../security_groups"

  name   = local.name
  vpc_id = module.vpc.vpc_id
  tags   = local.tags
}

module "secrets" {
  source = "../secrets"

  name              = local.name
  prefix            = "crypto-oms/${var.environment}"
  kms_key_arn       = module.kms.key_arns["secrets"]
  database_endpoint = module.aurora.endpoint
  redis_endpoint    = module.elasticache.primary_endpoint
  tags              = local.tags
}

module "eks" {
  source = "../eks"

  cluster_name           = local.cluster_name
  kubernetes_version     = var.kubernetes_version
  private_subnet_ids     = module.vpc.private_subnet_ids
  eks_security_group_id  = module.security_groups.eks_security_group_id
  endpoint_public_access = var.eks_endpoint_public_access
  public_access_cidrs    = var.eks_public_access_cidrs
  kms_key_arn            = module.kms.key_arns["eks"]
  logs_kms_key_arn       = module.kms.key_arns["logs"]
  node_instance_types    = var.node_instance_types
  node_min_size          = var.node_min_size
  node_max_size          = var.node_max_size
  node_desired_size      = var.node_desired_size

  service_account_roles = {
    # The OMS pods (ServiceAccount crypto-oms): no AWS permissions yet.
    app = {
      namespace       = "crypto-oms"
      service_account = "crypto-oms"
    }
    # External Secrets' SecretStore (ServiceAccount external-secrets): reads the app and
    # MSK secrets of this environment.
    external-secrets = {
      namespace       = "crypto-oms"
      service_account = "external-secrets"
      policy_json     = module.secrets.external_secrets_policy_json
    }
  }
  tags = local.tags
}

module "msk" {
  source = "../msk"

  name                  = local.name
  broker_count          = var.msk_broker_count
  instance_type         = var.msk_instance_type
  private_subnet_ids    = module.vpc.private_subnet_ids
  msk_security_group_id = module.security_groups.msk_security_group_id
  kms_key_arn           = module.kms.key_arns["msk"]
  logs_kms_key_arn      = module.kms.key_arns["logs"]
  scram_secret_arn      = module.secrets.msk_scram_secret_arn
  tags                  = local.tags
}

module "elasticache" {
  source = "../elasticache"

  name                    = local.name
  node_type               = var.redis_node_type
  num_cache_clusters      = var.redis_num_cache_clusters
  private_subnet_ids      = module.vpc.private_subnet_ids
  redis_security_group_id = module.security_groups.redis_security_group_id
  kms_key_arn             = module.kms.key_arns["redis"]
  logs_kms_key_arn        = module.kms.key_arns["logs"]
  auth_token              = module.secrets.redis_auth_token
  tags                    = local.tags
}

module "aurora" {
  source = "../aurora"

  name                       = local.name
  instance_class             = var.aurora_instance_class
  instance_count             = var.aurora_instance_count
  deletion_protection        = var.aurora_deletion_protection
  master_password            = module.secrets.aurora_master_password
  private_subnet_ids         = module.vpc.private_subnet_ids
  database_security_group_id = module.security_groups.database_security_group_id
  kms_key_arn                = module.kms.key_arns["aurora"]
  tags                       = local.tags
}

module "ecr" {
  source = "../ecr"

  name        = var.ecr_repository_name
  kms_key_arn = module.kms.key_arns["ecr"]
  tags        = local.tags
}

module "ui_cdn" {
  source = "../ui_cdn"

  name            = local.name
  bucket_name     = var.ui_bucket_name
  kms_key_arn     = module.kms.key_arns["s3"]
  aliases         = var.ui_aliases
  certificate_arn = var.ui_certificate_arn
  tags            = local.tags
}

module "waf" {
  source = "../waf"
  count  = var.enable_waf ? 1 : 0

  name                     = local.name
  rate_limit_per_5_minutes = var.waf_rate_limit_per_5_minutes
  logs_kms_key_arn         = module.kms.key_arns["logs"]
  tags                     = local.tags
}
