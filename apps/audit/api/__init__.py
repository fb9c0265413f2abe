"""`GET /api/audit`: the audit log for operators and auditors."""
