"""Printing benchmark rows: a measured figure, its baseline from the same run, and their ratio."""

import platform
import time

import torch


def header(title: str):
    print(f"# {title}")
    print(f"# machine: {platform.machine()}, {torch.get_num_threads()} torch threads, "
          f"python {platform.python_version()}, torch {torch.__version__}")
    print(f"{'what':<44} {'ours':>12} {'baseline':>12} {'ratio':>7}  unit")


def row(what: str, ours: float, baseline: float, unit: str):
    print(f"{what:<44} {ours:>12,.0f} {baseline:>12,.0f} {ours / baseline:>6.2f}x  {unit}")


def rate(fn, items: int, min_seconds: float = 1.0) -> float:
    """Items per second of fn(), repeated until at least min_seconds have passed."""
    calls, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < min_seconds or calls == 0:
        fn()
        calls += 1
    return calls * items / elapsed
