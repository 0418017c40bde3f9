"""Per-organization settings of the agent: which model answers, and read-only mode."""
