"""Tenancy: organizations, users, memberships, workspaces, projects, groups and invitations."""
