variable "name" {
  description = "Repository name."
  type        = string
  default     = "crypto-oms"
}

variable "kms_key_arn" {
  description = "KMS key of the repository."
  type        = string
}

variable "keep_images" {
  description = "Images kept; older ones expire (keep enough to roll back)."
  type        = number
  default     = 100
}

variable "tags" {
  description = "Tags added to the repository."
  type        = map(string)
  default     = {}
}
