variable "name" {
  description = "Name prefix of the security groups, e.g. crypto-oms-prod."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the security groups."
  type        = string
}

variable "tags" {
  description = "Tags added to every security group."
  type        = map(string)
  default     = {}
}
