"""Workspaces and their members."""
