"""API keys of an organization."""
