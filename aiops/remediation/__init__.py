"""Monitoring, incidents and the scheduled remediation agents."""
