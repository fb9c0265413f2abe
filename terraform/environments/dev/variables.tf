# Development defaults: the seed's 2 AZs and subnets, one NAT gateway (cost), 2 MSK brokers,
# the seed's dev sizes, no deletion protection, no WAF.

variable "environment" {
  description = "Environment name, part of every resource name."
  type        = string
  default     = "dev"
}

variable "region" {
  description = "AWS region."
  type        = string
  default     = "eu-west-1"
}

variable "az_count" {
  description = "Availability zones (2 or 3). 3 adds 10.0.3.0/24 and 10.0.13.0/24."
  type        = number
  default     = 2
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all AZs (true) or one per AZ (false)."
  type        = bool
  default     = true
}

variable "kubernetes_version" {
  description = "EKS Kubernetes version (1.28 or later)."
  type        = string
  default     = "1.31"
}

variable "eks_endpoint_public_access" {
  description = "Expose the Kubernetes API publicly (to eks_public_access_cidrs only)."
  type        = bool
  default     = false
}

variable "eks_public_access_cidrs" {
  description = "CIDRs allowed to a public Kubernetes API endpoint."
  type        = list(string)
  default     = []
}

variable "node_instance_types" {
  description = "Node instance types. The seed says t3.small; the dev overlay's pods request 100m/256Mi, so t3.large holds several."
  type        = list(string)
  default     = ["t3.large"]
}

variable "node_min_size" {
  description = "Minimum nodes (the seed: 1)."
  type        = number
  default     = 1
}

variable "node_max_size" {
  description = "Maximum nodes (the seed: 10)."
  type        = number
  default     = 10
}

variable "node_desired_size" {
  description = "Initial nodes."
  type        = number
  default     = 2
}

variable "msk_broker_count" {
  description = "MSK brokers (the seed: 2 in dev; KAFKA_REPLICATION_FACTOR 2 in the dev overlay)."
  type        = number
  default     = 2
}

variable "msk_instance_type" {
  description = "MSK broker instance type."
  type        = string
  default     = "kafka.t3.small"
}

variable "redis_node_type" {
  description = "ElastiCache node type (the seed: cache.t3.micro)."
  type        = string
  default     = "cache.t3.micro"
}

variable "redis_num_cache_clusters" {
  description = "Redis nodes: one, no replica."
  type        = number
  default     = 1
}

variable "aurora_instance_class" {
  description = "Aurora instance class (the seed: db.t3.medium)."
  type        = string
  default     = "db.t3.medium"
}

variable "aurora_instance_count" {
  description = "Aurora instances (the seed's cluster size: 1)."
  type        = number
  default     = 1
}

variable "aurora_deletion_protection" {
  description = "Deletion protection of the Aurora cluster."
  type        = bool
  default     = false
}

variable "ecr_repository_name" {
  description = "ECR repository of the image."
  type        = string
  default     = "crypto-oms"
}

variable "ui_bucket_name" {
  description = "Globally unique name of the UI bucket."
  type        = string
  default     = "crypto-oms-dev-ui"
}

variable "ui_aliases" {
  description = "Host names of the UI on CloudFront."
  type        = list(string)
  default     = ["app.oms.dev.example.com"]
}

variable "ui_certificate_arn" {
  description = "ACM certificate (us-east-1) for ui_aliases."
  type        = string
}

variable "enable_waf" {
  description = "Create a WAF web ACL (per-IP rate rule and AWS managed rules) for the ALB."
  type        = bool
  default     = false
}

variable "waf_rate_limit_per_5_minutes" {
  description = "Requests per client IP per 5 minutes before WAF blocks."
  type        = number
  default     = 20000
}
