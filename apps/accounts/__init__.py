"""Accounts context: API keys with signed requests, and bearer JWTs beside API tokens and
sessions."""
