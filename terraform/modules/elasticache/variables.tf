variable "name" {
  description = "Replication group id, e.g. crypto-oms-prod."
  type        = string
}

variable "engine_version" {
  description = "Redis engine version."
  type        = string
  default     = "7.1"
}

variable "parameter_group_name" {
  description = "Parameter group of the engine version (cluster mode off)."
  type        = string
  default     = "default.redis7"
}

variable "node_type" {
  description = "Node type (the seed: cache.t3.micro dev, cache.t3.medium prod)."
  type        = string
}

variable "num_cache_clusters" {
  description = "Nodes: 1 (no replica, dev) or 2+ (a primary and replicas with automatic failover, prod)."
  type        = number
}

variable "snapshot_retention_limit" {
  description = "Days of automatic snapshots."
  type        = number
  default     = 7
}

variable "private_subnet_ids" {
  description = "Private subnets of the nodes."
  type        = list(string)
}

variable "redis_security_group_id" {
  description = "redis-sg (6379 from EKS)."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key for encryption at rest (the seed's Redis key)."
  type        = string
}

variable "auth_token" {
  description = "Redis AUTH token (from the secrets module, stored in Secrets Manager)."
  type        = string
  sensitive   = true
}

variable "logs_kms_key_arn" {
  description = "KMS key of the slow-log group."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the slow log in days."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
