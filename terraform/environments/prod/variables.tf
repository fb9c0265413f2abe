# Set in terraform.tfvars; the environment's sizes are in main.tf.

variable "region" {
  description = "AWS region."
  type        = string
  default     = "eu-west-1"
}

variable "ui_certificate_arn" {
  description = "ACM certificate (us-east-1) for the UI's host names."
  type        = string
}

variable "eks_endpoint_public_access" {
  description = "Expose the Kubernetes API publicly (to eks_public_access_cidrs only). null: the stack's default (false)."
  type        = bool
  default     = null
}

variable "eks_public_access_cidrs" {
  description = "CIDRs allowed to a public Kubernetes API endpoint. null: the stack's default (none)."
  type        = list(string)
  default     = null
}
