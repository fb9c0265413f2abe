variable "name" {
  description = "Environment name, e.g. crypto-oms-prod (the MSK secret is AmazonMSK_<name>)."
  type        = string
}

variable "prefix" {
  description = "Path prefix of the secret names, e.g. crypto-oms/prod."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key of the secrets (customer managed: MSK SCRAM requires it)."
  type        = string
}

variable "recovery_window_in_days" {
  description = "Days a deleted secret can still be restored."
  type        = number
  default     = 7
}

variable "database_endpoint" {
  description = "Aurora writer endpoint, for DATABASE_URL."
  type        = string
}

variable "database_name" {
  description = "Database name, for DATABASE_URL."
  type        = string
  default     = "oms"
}

variable "database_username" {
  description = "Database user, for DATABASE_URL."
  type        = string
  default     = "oms_admin"
}

variable "redis_endpoint" {
  description = "ElastiCache primary endpoint, for REDIS_URL."
  type        = string
}

variable "msk_username" {
  description = "SCRAM user of the app on MSK."
  type        = string
  default     = "oms"
}

variable "tags" {
  description = "Tags added to every secret."
  type        = map(string)
  default     = {}
}
