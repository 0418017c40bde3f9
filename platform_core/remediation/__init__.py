"""Remediation policies: what the remediation agent may do in a workspace on its own."""
