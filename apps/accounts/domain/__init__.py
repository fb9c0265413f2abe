"""The pure rules of the accounts context: how API-key requests are signed and checked."""
