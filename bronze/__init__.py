"""Bronze: append-only Delta tables, one per landing source table, idempotent per landing file."""
