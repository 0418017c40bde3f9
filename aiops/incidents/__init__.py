"""REST for incidents: list, detail with the timeline, manual resolution, anomaly charts."""
