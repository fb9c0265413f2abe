# Development: the seed's 2 AZs and subnets, one NAT gateway (cost), 2 MSK brokers, the
# seed's dev sizes, no deletion protection, no WAF.
#
# Everything is composed in ../../modules/stack; the values below are what differs from the
# other environment (modules/stack/variables.tf says what each one is).

locals {
  environment = "dev"
}

module "stack" {
  source = "../../modules/stack"

  environment = local.environment

  az_count           = 2
  single_nat_gateway = true

  node_instance_types = ["t3.large"]
  node_min_size       = 1
  node_max_size       = 10
  node_desired_size   = 2

  msk_broker_count           = 2
  msk_instance_type          = "kafka.t3.small"
  redis_node_type            = "cache.t3.micro"
  redis_num_cache_clusters   = 1
  aurora_instance_class      = "db.t3.medium"
  aurora_instance_count      = 1
  aurora_deletion_protection = false

  ui_bucket_name = "crypto-oms-dev-ui"
  ui_aliases     = ["app.oms.dev.example.com"]
  enable_waf     = false

  ui_certificate_arn         = var.ui_certificate_arn
  eks_endpoint_public_access = var.eks_endpoint_public_access
  eks_public_access_cidrs    = var.eks_public_access_cidrs
}
