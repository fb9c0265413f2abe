# Production: 3 AZs (3 MSK brokers need 3 subnets), a NAT gateway per AZ, the seed's
# production sizes, deletion protection, WAF.
#
# Everything is composed in ../../modules/stack; the values below are what differs from the
# other environment (modules/stack/variables.tf says what each one is).

locals {
  environment = "prod"
}

module "stack" {
  source = "../../modules/stack"

  environment = local.environment

  az_count           = 3
  single_nat_gateway = false

  node_instance_types = ["m6i.xlarge"]
  node_min_size       = 3
  node_max_size       = 50
  node_desired_size   = 6

  msk_broker_count           = 3
  msk_instance_type          = "kafka.m5.large"
  redis_node_type            = "cache.t3.medium"
  redis_num_cache_clusters   = 2
  aurora_instance_class      = "db.r5.large"
  aurora_instance_count      = 3
  aurora_deletion_protection = true

  ui_bucket_name = "crypto-oms-prod-ui"
  ui_aliases     = ["app.oms.example.com"]
  enable_waf     = true

  ui_certificate_arn         = var.ui_certificate_arn
  eks_endpoint_public_access = var.eks_endpoint_public_access
  eks_public_access_cidrs    = var.eks_public_access_cidrs
}
