"""Measurements of the metric pipeline on the platform twin: false alarms on healthy
applications, detection delay per fault kind, forecast accuracy, store throughput and latency.

Run ``python -m platform_core.observability.twin_bench`` (it prints; the library does not).
"""
