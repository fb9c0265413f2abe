variable "name" {
  description = "Name prefix of the network resources, e.g. crypto-oms-prod."
  type        = string
}

variable "cluster_name" {
  description = "EKS cluster name, for the kubernetes.io/cluster/<name> subnet tags the AWS Load Balancer Controller looks for."
  type        = string
}

variable "cidr_block" {
  description = "VPC CIDR (the seed's 10.0.0.0/16)."
  type        = string
  default     = "10.0.0.0/16"
}

variable "az_count" {
  description = "Availability zones used: 2 (the seed's subnets) or 3 (adds 10.0.3.0/24 and 10.0.13.0/24; needed for 3 MSK brokers)."
  type        = number
  default     = 2
  validation {
    condition     = contains([2, 3], var.az_count)
    error_message = "az_count must be 2 or 3."
  }
}

variable "public_subnet_cidrs" {
  description = "Public subnets (ALB, NAT), one per AZ in order; the first az_count are used."
  type        = list(string)
  default     = ["10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"]
}

variable "private_subnet_cidrs" {
  description = "Private subnets (EKS, MSK, Redis, Aurora), one per AZ in order; the first az_count are used."
  type        = list(string)
  default     = ["10.0.11.0/24", "10.0.12.0/24", "10.0.13.0/24"]
}

variable "single_nat_gateway" {
  description = "true: one NAT gateway for all AZs (dev, cost); false: one per AZ (prod, HA)."
  type        = bool
  default     = true
}

variable "logs_kms_key_arn" {
  description = "KMS key that encrypts the flow log group."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the flow logs in days."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
