# Secrets Manager secrets of one environment, all encrypted with the `secrets` KMS key:
#   <prefix>/app            DATABASE_URL, REDIS_URL, SECRET_KEY (read by External Secrets
#                           into the Kubernetes Secret oms-secrets)
#   <prefix>/aurora-master  the Aurora master credentials
#   <prefix>/redis-auth     the ElastiCache AUTH token
#   AmazonMSK_<name>        the app's MSK SCRAM username and password (MSK requires the
#                           AmazonMSK_ prefix and a customer managed key)
# The passwords are generated here (random provider), so they are in the Terraform state:
# keep the state in an encrypted, access-controlled S3 bucket (environments/*/versions.tf).

resource "random_password" "django_secret_key" {
  length  = 64
  special = true
}

# URL-safe characters only: the passwords go into DATABASE_URL and REDIS_URL.
resource "random_password" "aurora_master" {
  length  = 40
  special = false
}

resource "random_password" "redis_auth" {
  length  = 64
  special = false
}

resource "random_password" "msk_scram" {
  length  = 40
  special = false
}

locals {
  database_url = "postgres://${var.database_username}:${random_password.aurora_master.result}@${var.database_endpoint}:5432/${var.database_name}?sslmode=require"
  redis_url    = "rediss://:${random_password.redis_auth.result}@${var.redis_endpoint}:6379/0"
  secrets = {
    app           = "${var.prefix}/app"
    aurora_master = "${var.prefix}/aurora-master"
    redis_auth    = "${var.prefix}/redis-auth"
    msk_scram     = "AmazonMSK_${var.name}"
  }
}

resource "aws_secretsmanager_secret" "this" {
  for_each = local.secrets

  #checkov:skip=CKV2_AWS_57:No rotation Lambda: these values are composed URLs and keys read at pod start; rotation is the runbook procedure of deploy/README.md ("Rotate secrets")
  name                    = each.value
  description             = "crypto-oms ${var.name}: ${each.key}"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.recovery_window_in_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "app" {
  secret_id = aws_secretsmanager_secret.this["app"].id
  secret_string = jsonencode({
    DATABASE_URL = local.database_url
    REDIS_URL    = local.redis_url
    SECRET_KEY   = random_password.django_secret_key.result
  })
}

resource "aws_secretsmanager_secret_version" "aurora_master" {
  secret_id = aws_secretsmanager_secret.this["aurora_master"].id
  secret_string = jsonencode({
    username = var.database_username
    password = random_password.aurora_master.result
    host     = var.database_endpoint
    port     = 5432
    dbname   = var.database_name
  })
}

resource "aws_secretsmanager_secret_version" "redis_auth" {
  secret_id     = aws_secretsmanager_secret.this["redis_auth"].id
  secret_string = jsonencode({ auth_token = random_password.redis_auth.result })
}

resource "aws_secretsmanager_secret_version" "msk_scram" {
  secret_id = aws_secretsmanager_secret.this["msk_scram"].id
  secret_string = jsonencode({
    username = var.msk_username
    password = random_password.msk_scram.result
  })
}

# MSK reads the SCRAM secret through its resource policy.
data "aws_iam_policy_document" "msk_scram" {
  statement {
    sid       = "AWSKafkaResourcePolicy"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.this["msk_scram"].arn]
    principals {
      type        = "Service"
      identifiers = ["kafka.amazonaws.com"]
    }
  }
}

resource "aws_secretsmanager_secret_policy" "msk_scram" {
  secret_arn = aws_secretsmanager_secret.this["msk_scram"].arn
  policy     = data.aws_iam_policy_document.msk_scram.json
}

# What the External Secrets service account may read: the app and MSK secrets only.
data "aws_iam_policy_document" "external_secrets" {
  statement {
    actions = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = [
      aws_secretsmanager_secret.this["app"].arn,
      aws_secretsmanager_secret.this["msk_scram"].arn,
    ]
  }
  statement {
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}
