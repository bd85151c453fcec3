"""Metrics: one module per metric, each a pure function of arrays; `evaluate` draws, encodes and runs them."""

from bench.metrics.evaluate import DEFAULT_METRICS, METRICS, MetricSettings, evaluate

__all__ = ["DEFAULT_METRICS", "METRICS", "MetricSettings", "evaluate"]
