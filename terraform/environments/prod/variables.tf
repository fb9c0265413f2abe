# Production defaults: 3 AZs (3 MSK brokers need 3 subnets), a NAT gateway per AZ, the
# seed's production sizes, deletion protection, WAF.

variable "environment" {
  description = "Environment name, part of every resource name."
  type        = string
  default     = "prod"
}

variable "region" {
  description = "AWS region."
  type        = string
  default     = "eu-west-1"
}

variable "az_count" {
  description = "Availability zones (2 or 3). 3 adds 10.0.3.0/24 and 10.0.13.0/24."
  type        = number
  default     = 3
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all AZs (true) or one per AZ (false)."
  type        = bool
  default     = false
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
  description = "Node instance types. The seed says t3.medium; 17+ OMS pods requesting 500m CPU and 512Mi each need larger nodes, so m6i.xlarge."
  type        = list(string)
  default     = ["m6i.xlarge"]
}

variable "node_min_size" {
  description = "Minimum nodes (the seed: 3)."
  type        = number
  default     = 3
}

variable "node_max_size" {
  description = "Maximum nodes (the seed: 50)."
  type        = number
  default     = 50
}

variable "node_desired_size" {
  description = "Initial nodes."
  type        = number
  default     = 6
}

variable "msk_broker_count" {
  description = "MSK brokers (the seed: 3 in prod)."
  type        = number
  default     = 3
}

variable "msk_instance_type" {
  description = "MSK broker instance type."
  type        = string
  default     = "kafka.m5.large"
}

variable "redis_node_type" {
  description = "ElastiCache node type (the seed: cache.t3.medium)."
  type        = string
  default     = "cache.t3.medium"
}

variable "redis_num_cache_clusters" {
  description = "Redis nodes: a primary and a replica with automatic failover."
  type        = number
  default     = 2
}

variable "aurora_instance_class" {
  description = "Aurora instance class (the seed: db.r5.large)."
  type        = string
  default     = "db.r5.large"
}

variable "aurora_instance_count" {
  description = "Aurora instances (the seed's cluster size: 3)."
  type        = number
  default     = 3
}

variable "aurora_deletion_protection" {
  description = "Deletion protection of the Aurora cluster."
  type        = bool
  default     = true
}

variable "ecr_repository_name" {
  description = "ECR repository of the image."
  type        = string
  default     = "crypto-oms"
}

variable "ui_bucket_name" {
  description = "Globally unique name of the UI bucket."
  type        = string
  default     = "crypto-oms-prod-ui"
}

variable "ui_aliases" {
  description = "Host names of the UI on CloudFront."
  type        = list(string)
  default     = ["app.oms.example.com"]
}

variable "ui_certificate_arn" {
  description = "ACM certificate (us-east-1) for ui_aliases."
  type        = string
}

variable "enable_waf" {
  description = "Create a WAF web ACL (per-IP rate rule and AWS managed rules) for the ALB."
  type        = bool
  default     = true
}

variable "waf_rate_limit_per_5_minutes" {
  description = "Requests per client IP per 5 minutes before WAF blocks."
  type        = number
  default     = 20000
}
