"""The audit log of every mutating call."""
