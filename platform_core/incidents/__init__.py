"""Incidents: problems found by detectors or reported by alerts, with their timelines."""
