# The seed's security groups:
#   alb-sg       80 and 443 from the internet
#   eks-sg       from the ALB (pods on 8000, target-type ip) and from inside itself only
#   msk-sg       9092-9098 from EKS
#   redis-sg     6379 from EKS
#   database-sg  5432 from EKS. The seed's documentdb-sg allowed 27017; decision D1 replaced
#                DocumentDB with Aurora PostgreSQL, so this group opens PostgreSQL's port.

resource "aws_security_group" "alb" {
  #checkov:skip=CKV2_AWS_5:Attached in other modules by id (eks: cluster and node launch template; msk, elasticache, aurora; the ALB through the Ingress annotation), which this graph check cannot follow
  name        = "${var.name}-alb-sg"
  description = "ALB: HTTP and HTTPS from the internet"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-alb-sg" })
}

resource "aws_vpc_security_group_ingress_rule" "alb_http" {
  #checkov:skip=CKV_AWS_260:The public ALB must accept HTTP on 80 to redirect it to HTTPS (ssl-redirect)
  security_group_id = aws_security_group.alb.id
  description       = "HTTP from the internet (redirected to HTTPS by the ALB)"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
}

resource "aws_vpc_security_group_ingress_rule" "alb_https" {
  security_group_id = aws_security_group.alb.id
  description       = "HTTPS from the internet"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "alb_to_pods" {
  security_group_id            = aws_security_group.alb.id
  description                  = "To the web and ws pods (target-type ip)"
  referenced_security_group_id = aws_security_group.eks.id
  ip_protocol                  = "tcp"
  from_port                    = 8000
  to_port                      = 8000
}

resource "aws_security_group" "eks" {
  #checkov:skip=CKV2_AWS_5:Attached in other modules by id (eks: cluster and node launch template; msk, elasticache, aurora; the ALB through the Ingress annotation), which this graph check cannot follow
  name        = "${var.name}-eks-sg"
  description = "EKS nodes and pods: from the ALB and from inside only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-eks-sg" })
}

resource "aws_vpc_security_group_ingress_rule" "eks_from_alb" {
  security_group_id            = aws_security_group.eks.id
  description                  = "ALB to the web and ws pods"
  referenced_security_group_id = aws_security_group.alb.id
  ip_protocol                  = "tcp"
  from_port                    = 8000
  to_port                      = 8000
}

resource "aws_vpc_security_group_ingress_rule" "eks_internal" {
  security_group_id            = aws_security_group.eks.id
  description                  = "Nodes and pods among themselves"
  referenced_security_group_id = aws_security_group.eks.id
  ip_protocol                  = "-1"
}

resource "aws_vpc_security_group_egress_rule" "eks_all" {
  #checkov:skip=CKV_AWS_382:Nodes reach AWS APIs, ECR, the EKS control plane and exchange feeds (marketdata) through the NAT; pod egress is narrowed by NetworkPolicies
  security_group_id = aws_security_group.eks.id
  description       = "Outbound through the NAT and to the data stores"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "-1"
}

resource "aws_security_group" "msk" {
  #checkov:skip=CKV2_AWS_5:Attached in other modules by id (eks: cluster and node launch template; msk, elasticache, aurora; the ALB through the Ingress annotation), which this graph check cannot follow
  name        = "${var.name}-msk-sg"
  description = "MSK brokers: 9092-9098 from EKS"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-msk-sg" })
}

resource "aws_vpc_security_group_ingress_rule" "msk_from_eks" {
  security_group_id            = aws_security_group.msk.id
  description                  = "Kafka (TLS, SASL/SCRAM, IAM) from EKS"
  referenced_security_group_id = aws_security_group.eks.id
  ip_protocol                  = "tcp"
  from_port                    = 9092
  to_port                      = 9098
}

resource "aws_security_group" "redis" {
  #checkov:skip=CKV2_AWS_5:Attached in other modules by id (eks: cluster and node launch template; msk, elasticache, aurora; the ALB through the Ingress annotation), which this graph check cannot follow
  name        = "${var.name}-redis-sg"
  description = "ElastiCache Redis: 6379 from EKS"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-redis-sg" })
}

resource "aws_vpc_security_group_ingress_rule" "redis_from_eks" {
  security_group_id            = aws_security_group.redis.id
  description                  = "Redis (TLS) from EKS"
  referenced_security_group_id = aws_security_group.eks.id
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
}

resource "aws_security_group" "database" {
  #checkov:skip=CKV2_AWS_5:Attached in other modules by id (eks: cluster and node launch template; msk, elasticache, aurora; the ALB through the Ingress annotation), which this graph check cannot follow
  name        = "${var.name}-database-sg"
  description = "Aurora PostgreSQL: 5432 from EKS (the seed's documentdb-sg, see D1)"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-database-sg" })
}

resource "aws_vpc_security_group_ingress_rule" "database_from_eks" {
  security_group_id            = aws_security_group.database.id
  description                  = "PostgreSQL (TLS) from EKS"
  referenced_security_group_id = aws_security_group.eks.id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}
