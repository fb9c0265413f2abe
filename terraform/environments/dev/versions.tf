terraform {
  required_version = ">= 1.6.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.70"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
    tls = {
      source  = "hashicorp/tls"
      version = "~> 4.0"
    }
  }

  # State in S3 with locking: the state holds the generated passwords (secrets module).
  # Give bucket, key, region and KMS key at init:
  #   terraform init -backend-config=backend.hcl   (deploy/README.md)
  backend "s3" {
    encrypt      = true
    use_lockfile = true
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project     = "crypto-oms"
      Environment = var.environment
      ManagedBy   = "terraform"
    }
  }
}
