variable "name" {
  description = "Name prefix, e.g. crypto-oms-prod."
  type        = string
}

variable "bucket_name" {
  description = "Globally unique name of the UI bucket."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key of the bucket (the seed's S3 key; its policy lets CloudFront decrypt)."
  type        = string
}

variable "aliases" {
  description = "Host names of the UI (CNAMEs), covered by certificate_arn."
  type        = list(string)
}

variable "certificate_arn" {
  description = "ACM certificate in us-east-1 for the aliases (CloudFront only uses us-east-1 certificates)."
  type        = string
}

variable "price_class" {
  description = "CloudFront price class."
  type        = string
  default     = "PriceClass_100"
}

variable "enable_access_logs" {
  description = "Write CloudFront standard access logs to log_bucket_domain_name."
  type        = bool
  default     = false
}

variable "log_bucket_domain_name" {
  description = "Domain name of the log bucket (ACLs enabled, as CloudFront standard logging requires), when enable_access_logs."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
