"""Metrics: one module per metric, each a pure function of arrays; `registry` declares each once; `evaluate` draws,
encodes and runs them."""

from bench.metrics.evaluate import MetricSettings, evaluate
from bench.metrics.registry import DEFAULT_METRICS, METRICS, Metric, checked, numeric, register, relative, tabled

__all__ = ["DEFAULT_METRICS", "METRICS", "Metric", "MetricSettings", "checked", "evaluate", "numeric", "register",
           "relative", "tabled"]
