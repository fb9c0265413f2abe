output "web_acl_arn" {
  description = "Web ACL ARN: alb.ingress.kubernetes.io/wafv2-acl-arn of the overlay."
  value       = aws_wafv2_web_acl.this.arn
}
