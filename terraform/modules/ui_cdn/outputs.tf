output "bucket_name" {
  description = "UI bucket (aws s3 sync frontend/dist s3://<bucket>)."
  value       = aws_s3_bucket.ui.bucket
}

output "distribution_id" {
  description = "CloudFront distribution id (for invalidations after an upload)."
  value       = aws_cloudfront_distribution.ui.id
}

output "distribution_domain_name" {
  description = "CloudFront domain name (the DNS target of the aliases)."
  value       = aws_cloudfront_distribution.ui.domain_name
}
