"""Integrations with chat platforms: the REST side of linking chat accounts to platform users."""
