"""Events of the accounts context: none yet. Creating, rotating and revoking a key is
recorded on the key itself (`created_at`, `revoked_at`); no other context reacts to it, so
nothing is published. A security audit stream would register its schemas here."""
