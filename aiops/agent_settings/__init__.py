"""The organization's agent settings."""
