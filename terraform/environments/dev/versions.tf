# The root's own: backend and provider. Provider versions are in modules/stack/versions.tf.
terraform {
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
      Environment = local.environment
      ManagedBy   = "terraform"
    }
  }
}
