"""`bench experiment manipulation-check`: does the modified variant do to real models what the paper says?

beta-VAE (beta 8) and PCL on the original, modified and noise variants, a few seeds each, through the runner
(so runs are cached and resumable), judged by the report's exploratory verdicts: beta-VAE's MIG drops on modified
data and noise hurts it less (one-sided Welch tests), PCL's is unchanged within 0.05 (two one-sided tests),
Holm-corrected over the claims tested.
"""

import time
from pathlib import Path

import pandas as pd

from bench.context import Context
from bench.data import DATASETS
from bench.errors import lookup, writable_folder
from bench.launch import execute_all, prepare_data
from bench.metrics import MetricSettings
from bench.report.records import to_frame
from bench.report.verdicts import exploratory, exploratory_family, shown_exploratory
from bench.runs import load_records, runs_for
from bench.suites import Cell, Profile, paper_value, product, sweep

MODELS_CHECKED = ("beta_vae", "pcl")
VARIANTS = ("original", "modified", "noise")
METRICS = MetricSettings(metrics=("mig", "active_units"))
RESULTS = Path("results/experiments/manipulation-check")


def run(dataset: str, steps: int = 10_000, seeds: int = 3, context: Context = Context(RESULTS)) -> pd.DataFrame:
    """Train and evaluate the grid (cached in `context.results`), print MIG per seed and the verdicts; returns the
    verdict table."""
    lookup(DATASETS, dataset, "dataset")
    writable_folder(context.results, "--results")
    profile = Profile(f"steps-{steps}", datasets=(dataset,), variants=VARIANTS, models=MODELS_CHECKED,
                      multipliers=(1.0,), seeds=seeds, steps=steps, metrics=METRICS)
    grid = product(sweep("model", MODELS_CHECKED), sweep("variant", VARIANTS), sweep("seed_index", range(seeds)))
    runs = runs_for("manipulation-check", profile,
                    [Cell(dataset=dataset, value=paper_value(c["model"], dataset), **c) for c in grid])
    prepare_data(profile, context)
    start = time.perf_counter()
    execute_all(runs, context, desc="manipulation check")
    frame = to_frame(load_records(runs, context.results))
    wide = frame.pivot_table(index=["model", "variant"], columns="seed_index", values="mig")
    wide["mean"], wide["std"] = wide.mean(axis=1), wide.std(axis=1)
    print(f"MIG on {dataset} after {steps} steps, {seeds} seeds ({context.jobs} workers, this call's wall time "
          f"{time.perf_counter() - start:.0f} s):")
    print(wide.round(3).to_string())
    verdicts = exploratory(frame, exploratory_family(frame))
    print(shown_exploratory(verdicts).to_string())
    return verdicts
