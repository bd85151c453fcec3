"""Metrics: one module per metric, each a pure function of arrays; `registry` declares each once; `evaluate` draws,
encodes and runs them."""

from bench.metrics.evaluate import MetricSettings, evaluate
from bench.metrics.registry import CHECKED, DEFAULT_METRICS, METRICS, NUMERIC, RELATIVE, TABLED, Metric

__all__ = ["CHECKED", "DEFAULT_METRICS", "METRICS", "NUMERIC", "RELATIVE", "TABLED", "Metric", "MetricSettings",
           "evaluate"]
