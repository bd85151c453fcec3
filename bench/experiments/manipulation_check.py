"""`bench experiment manipulation-check`: does the modified variant do to real models what the paper says?

beta-VAE (beta 8) and PCL on the original, modified and noise variants, a few seeds each, through the runner
(so runs are cached and resumable). The targets (docs/manipulation.md): beta-VAE's MIG at least halves on
modified data, PCL's moves by at most 0.05, and noise hurts beta-VAE less than the modification does.
"""

import time
from pathlib import Path

import pandas as pd

from bench.metrics import MetricSettings
from bench.runner import execute_all, load_records, prepare_data, runs_for
from bench.suites import Cell, Profile, paper_value, product, sweep

MODELS_CHECKED = ("beta_vae", "pcl")
VARIANTS = ("original", "modified", "noise")
METRICS = MetricSettings(metrics=("mig", "active_units"))


def mig_table(records: list[dict]) -> pd.DataFrame:
    rows = [{"model": r["cell"]["model"], "variant": r["cell"]["variant"], "seed": r["cell"]["seed_index"],
             "mig": r["metrics"]["mig"], "seconds": r["training"]["seconds"]} for r in records]
    return pd.DataFrame(rows)


def verdicts(table: pd.DataFrame) -> list[str]:
    mean = table.groupby(["model", "variant"]).mig.mean()
    beta = {v: mean.get(("beta_vae", v)) for v in VARIANTS}
    pcl = {v: mean.get(("pcl", v)) for v in VARIANTS}
    lines = []
    if None not in beta.values():
        lines.append(f"beta-VAE MIG halves on modified data: {beta['modified']:.3f} vs {beta['original']:.3f} -> "
                     f"{'yes' if beta['modified'] <= beta['original'] / 2 else 'NO'}")
        lines.append(f"noise hurts beta-VAE less than the modification: noise {beta['noise']:.3f} vs modified "
                     f"{beta['modified']:.3f} -> {'yes' if beta['noise'] > beta['modified'] else 'NO'}")
    if pcl["original"] is not None and pcl["modified"] is not None:
        change = pcl["modified"] - pcl["original"]
        lines.append(f"PCL within 0.05 on modified data: {change:+.3f} -> {'yes' if abs(change) <= 0.05 else 'NO'}")
    return lines


def run(dataset: str, steps: int, seeds: int, jobs: int, results: Path, data_root=None) -> pd.DataFrame:
    profile = Profile(f"steps-{steps}", datasets=(dataset,), variants=VARIANTS, models=MODELS_CHECKED,
                      multipliers=(1.0,), seeds=seeds, steps=steps, metrics=METRICS)
    grid = product(sweep("model", MODELS_CHECKED), sweep("variant", VARIANTS), sweep("seed_index", range(seeds)))
    cells = [Cell(dataset=dataset, value=paper_value(c["model"], dataset), **c) for c in grid]
    runs = runs_for("manipulation-check", profile, cells)
    prepare_data(profile, data_root)
    start = time.perf_counter()
    execute_all(runs, results, data_root, jobs=jobs, desc="manipulation check")
    table = mig_table(load_records(runs, results))
    wide = table.pivot_table(index=["model", "variant"], columns="seed", values="mig")
    wide["mean"], wide["std"] = wide.mean(axis=1), wide.std(axis=1)
    print(f"MIG on {dataset} after {steps} steps, {seeds} seeds ({jobs} workers, this call's wall time "
          f"{time.perf_counter() - start:.0f} s; training per run {table.seconds.mean():.0f} s on average):")
    print(wide.round(3).to_string())
    print("\n".join(verdicts(table)))
    return table
