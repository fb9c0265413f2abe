variable "name" {
  description = "Web ACL name, e.g. crypto-oms-prod."
  type        = string
}

variable "rate_limit_per_5_minutes" {
  description = "Requests per client IP in any 5-minute window before WAF blocks it."
  type        = number
  default     = 20000
}

variable "logs_kms_key_arn" {
  description = "KMS key of the WAF log group."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the WAF logs in days."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
