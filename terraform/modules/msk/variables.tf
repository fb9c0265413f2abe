variable "name" {
  description = "Cluster name, e.g. crypto-oms-prod."
  type        = string
}

variable "kafka_version" {
  description = "Apache Kafka version of the brokers."
  type        = string
  default     = "3.6.0"
}

variable "broker_count" {
  description = "Number of brokers (the seed: 2 dev, 3 prod); a multiple of the number of subnets."
  type        = number
}

variable "instance_type" {
  description = "Broker instance type."
  type        = string
}

variable "volume_size" {
  description = "EBS storage per broker in GiB (7 days of retention)."
  type        = number
  default     = 100
}

variable "private_subnet_ids" {
  description = "Client subnets of the brokers (one broker per subnet per round)."
  type        = list(string)
}

variable "msk_security_group_id" {
  description = "msk-sg (9092-9098 from EKS)."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key for encryption at rest (the seed's MSK key)."
  type        = string
}

variable "logs_kms_key_arn" {
  description = "KMS key of the broker log group."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the broker logs in days."
  type        = number
  default     = 365
}

variable "scram_secret_arn" {
  description = "Secrets Manager secret (name AmazonMSK_...) with the app's SCRAM username and password."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
