"""Observability of every role: correlation ids, JSON logs, metrics, health and readiness."""
