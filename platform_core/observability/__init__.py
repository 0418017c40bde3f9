"""Observability: streaming anomaly detection for platform metrics and its NAB benchmark.

``anomaly`` holds the detectors (univariate streaming and multivariate); ``nab`` holds a
faithful scorer for the Numenta Anomaly Benchmark and the runner that measures the detectors
on it. Nothing here imports from the service layers (``aiops``, ``agents``, ``tools``).
"""
