variable "name" {
  description = "Cluster identifier, e.g. crypto-oms-prod."
  type        = string
}

variable "engine_version" {
  description = "Aurora PostgreSQL version."
  type        = string
  default     = "16.4"
}

variable "parameter_group_family" {
  description = "Parameter group family matching engine_version."
  type        = string
  default     = "aurora-postgresql16"
}

variable "database_name" {
  description = "Database the OMS uses."
  type        = string
  default     = "oms"
}

variable "master_username" {
  description = "Master user (the app connects as this user today; see deploy/README.md for a least-privilege user)."
  type        = string
  default     = "oms_admin"
}

variable "master_password" {
  description = "Master password (from the secrets module, stored in Secrets Manager)."
  type        = string
  sensitive   = true
}

variable "instance_class" {
  description = "Instance class (the seed: db.t3.medium dev, db.r5.large prod)."
  type        = string
}

variable "instance_count" {
  description = "Instances: a writer and readers in other AZs (the seed's cluster size: 1 dev, 3 prod)."
  type        = number
}

variable "backup_retention_days" {
  description = "Days of automated backups and point-in-time recovery (the seed: 7)."
  type        = number
  default     = 7
}

variable "deletion_protection" {
  description = "Refuse deletion of the cluster (prod); without it a destroy skips the final snapshot (dev)."
  type        = bool
  default     = true
}

variable "private_subnet_ids" {
  description = "Private subnets of the instances."
  type        = list(string)
}

variable "database_security_group_id" {
  description = "database-sg (5432 from EKS)."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key for storage and Performance Insights (the seed's database key)."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
