"""The audit log: who did what privileged thing, when, to what, and with which outcome."""
