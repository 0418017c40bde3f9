"""Per-tenant jobs on a schedule, run once per slot across service replicas."""
