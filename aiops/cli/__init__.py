"""The ``aiops`` command line."""
