variable "cluster_name" {
  description = "EKS cluster name, e.g. crypto-oms-prod."
  type        = string
}

variable "kubernetes_version" {
  description = "Kubernetes version of the control plane (the seed's 1.28 or later; the manifests are validated against 1.28)."
  type        = string
  default     = "1.31"
  validation {
    condition     = can(regex("^1\\.(2[89]|[3-9][0-9])$", var.kubernetes_version))
    error_message = "kubernetes_version must be 1.28 or later."
  }
}

variable "private_subnet_ids" {
  description = "Private subnets of the control-plane ENIs and the nodes."
  type        = list(string)
}

variable "eks_security_group_id" {
  description = "eks-sg (security_groups module), attached to the control plane and the nodes."
  type        = string
}

variable "endpoint_public_access" {
  description = "Expose the Kubernetes API endpoint publicly (limited to public_access_cidrs). Off: reach it from inside the VPC (VPN, bastion, CI runner)."
  type        = bool
  default     = false
}

variable "public_access_cidrs" {
  description = "CIDRs allowed to the public API endpoint when endpoint_public_access is true."
  type        = list(string)
  default     = []
}

variable "kms_key_arn" {
  description = "KMS key for Kubernetes secrets envelope encryption and node volumes (the seed's EKS key)."
  type        = string
}

variable "logs_kms_key_arn" {
  description = "KMS key of the control-plane log group."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the control-plane logs in days."
  type        = number
  default     = 365
}

variable "node_instance_types" {
  description = "Instance types of the managed node group (the seed: t3.small dev, t3.medium prod; the OMS pods request 500m/512Mi each, see deploy/README.md)."
  type        = list(string)
}

variable "node_min_size" {
  description = "Minimum nodes (the seed: 1 dev, 3 prod)."
  type        = number
}

variable "node_max_size" {
  description = "Maximum nodes (the seed: 10 dev, 50 prod)."
  type        = number
}

variable "node_desired_size" {
  description = "Initial nodes; afterwards the cluster autoscaler decides."
  type        = number
}

variable "node_disk_size" {
  description = "Root volume of a node in GiB."
  type        = number
  default     = 50
}

variable "service_account_roles" {
  description = "IAM roles for service accounts (IRSA): key => namespace, service account and an inline policy (JSON, or null for none)."
  type = map(object({
    namespace       = string
    service_account = string
    policy_json     = optional(string)
  }))
  default = {}
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
