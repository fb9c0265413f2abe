variable "name" {
  description = "Prefix of the key aliases, e.g. crypto-oms-prod."
  type        = string
}

variable "purposes" {
  description = "One key per purpose (the seed's EKS, MSK, Redis, database and S3 keys, plus Secrets Manager, ECR and CloudWatch Logs)."
  type        = list(string)
  default     = ["eks", "msk", "redis", "aurora", "s3", "secrets", "ecr", "logs"]
}

variable "deletion_window_in_days" {
  description = "Waiting period before a scheduled key deletion takes effect (7-30 days)."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags added to every key."
  type        = map(string)
  default     = {}
}
