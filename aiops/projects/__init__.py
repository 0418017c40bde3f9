"""Projects (namespaces) and their members."""
