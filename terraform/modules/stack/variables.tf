# What differs between the environments has no default: each environment's call
# (environments/<env>/main.tf) states it. What they share has a default here.

variable "environment" {
  description = "Environment name (dev, prod), part of every resource name and tag."
  type        = string
}

# Network

variable "az_count" {
  description = "Availability zones (2 or 3). 3 adds 10.0.3.0/24 and 10.0.13.0/24 (3 MSK brokers need 3 subnets). dev: the seed's 2; prod: 3."
  type        = number
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all AZs (true: dev, cost) or one per AZ (false: prod)."
  type        = bool
}

# EKS

variable "kubernetes_version" {
  description = "EKS Kubernetes version (1.28 or later)."
  type        = string
  default     = "1.31"
}

variable "eks_endpoint_public_access" {
  description = "Expose the Kubernetes API publicly (to eks_public_access_cidrs only)."
  type        = bool
  default     = false
  nullable    = false
}

variable "eks_public_access_cidrs" {
  description = "CIDRs allowed to a public Kubernetes API endpoint."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "node_instance_types" {
  description = "Node instance types. dev: the seed says t3.small, the dev overlay's pods request 100m/256Mi, so t3.large holds several; prod: the seed says t3.medium, 17+ OMS pods requesting 500m CPU and 512Mi each need larger nodes, so m6i.xlarge."
  type        = list(string)
}

variable "node_min_size" {
  description = "Minimum nodes (the seed: 1 in dev, 3 in prod)."
  type        = number
}

variable "node_max_size" {
  description = "Maximum nodes (the seed: 10 in dev, 50 in prod)."
  type        = number
}

variable "node_desired_size" {
  description = "Initial nodes."
  type        = number
}

# Data stores

variable "msk_broker_count" {
  description = "MSK brokers (the seed: 2 in dev, KAFKA_REPLICATION_FACTOR 2 in the dev overlay; 3 in prod)."
  type        = number
}

variable "msk_instance_type" {
  description = "MSK broker instance type."
  type        = string
}

variable "redis_node_type" {
  description = "ElastiCache node type (the seed: cache.t3.micro in dev, cache.t3.medium in prod)."
  type        = string
}

variable "redis_num_cache_clusters" {
  description = "Redis nodes: 1 (dev: no replica) or 2 (prod: a primary and a replica with automatic failover)."
  type        = number
}

variable "aurora_instance_class" {
  description = "Aurora instance class (the seed: db.t3.medium in dev, db.r5.large in prod)."
  type        = string
}

variable "aurora_instance_count" {
  description = "Aurora instances (the seed's cluster size: 1 in dev, 3 in prod)."
  type        = number
}

variable "aurora_deletion_protection" {
  description = "Deletion protection of the Aurora cluster (prod: on; dev: off, so it can be destroyed)."
  type        = bool
}

# Image, UI, WAF

variable "ecr_repository_name" {
  description = "ECR repository of the image."
  type        = string
  default     = "crypto-oms"
}

variable "ui_bucket_name" {
  description = "Globally unique name of the UI bucket."
  type        = string
}

variable "ui_aliases" {
  description = "Host names of the UI on CloudFront."
  type        = list(string)
}

variable "ui_certificate_arn" {
  description = "ACM certificate (us-east-1) for ui_aliases."
  type        = string
}

variable "enable_waf" {
  description = "Create a WAF web ACL (per-IP rate rule and AWS managed rules) for the ALB (prod: on; dev: off)."
  type        = bool
}

variable "waf_rate_limit_per_5_minutes" {
  description = "Requests per client IP per 5 minutes before WAF blocks."
  type        = number
  default     = 20000
}
