"""`bench experiment mig-vs-steps`: how a model's MIG grows with training steps, seed by seed.

The question it answers: at what budget does a model clearly disentangle a dataset on this machine? The quick
profile's setting is chosen from it (docs/paper.md: full dSprites at the paper's scale is not there after 4k steps).
"""

import dataclasses
import time
from pathlib import Path

import pandas as pd
import torch
from joblib import Parallel, delayed

from bench.data import DATASETS
from bench.errors import UserError, lookup, writable_file
from bench.metrics import MetricSettings, evaluate
from bench.models import MODELS
from bench.seeding import seed_hash
from bench.suites import model_config
from bench.train import TrainConfig, Trainer, batches, fit
from bench.variants import get

METRICS = MetricSettings(metrics=("mig", "active_units"))


def curve(model: str, dataset: str, milestones: tuple[int, ...], seed: int, overrides: dict, data_root=None) -> list:
    """MIG at each milestone of one seeded run (single-threaded, as a grid worker trains)."""
    torch.set_num_threads(1)
    data = get(dataset, "original", data_root)
    config = TrainConfig(model, dataset, model_config=dataclasses.replace(model_config(model, dataset), **overrides),
                         seed=seed_hash("mig-vs-steps", model, dataset, seed), steps=max(milestones))
    trainer = Trainer.on(config, data, "cpu")
    draw = batches(trainer, data, "cpu")
    rows, start = [], time.perf_counter()
    for milestone in sorted(milestones):
        metrics = evaluate(fit(trainer, draw, until=milestone).model, data, METRICS)["metrics"]
        rows.append({"model": model, "dataset": dataset, **overrides, "seed": seed, "step": milestone,
                     "mig": metrics["mig"], "active_units": metrics.get("active_units"),
                     "seconds": round(time.perf_counter() - start, 1)})
    return rows


def run(model: str, dataset: str, milestones=(2000, 5000, 10_000, 20_000), seeds: int = 3, jobs: int = 1,
        overrides: dict | None = None, out: Path | None = None, data_root=None) -> pd.DataFrame:
    """Train `seeds` runs of `model` on `dataset` (its config's `overrides` applied), write MIG at each milestone
    to the CSV `out` (default: results/experiments/mig-vs-steps-MODEL-DATASET[-OVERRIDES].csv) and print it."""
    lookup(DATASETS, dataset, "dataset")
    overrides = checked_overrides(model, overrides or {})
    label = "".join(f"-{k}{v:g}" for k, v in overrides.items())
    out = writable_file(out or f"results/experiments/mig-vs-steps-{model}-{dataset}{label}.csv", "--out")
    get(dataset, "original", data_root)  # build once, before the workers
    tasks = (delayed(curve)(model, dataset, tuple(milestones), s, overrides, data_root) for s in range(seeds))
    frame = pd.DataFrame([row for rows in Parallel(n_jobs=jobs)(tasks) for row in rows])
    frame.to_csv(out, index=False)
    table = frame.pivot(index="step", columns="seed", values="mig")
    table["mean"] = table.mean(axis=1)
    print(f"MIG of {model} {overrides} on {dataset} ({seeds} seeds, {jobs} workers, wall time per seed "
          f"{frame.groupby('seed').seconds.max().mean():.0f} s):")
    print(table.round(3).to_string())
    print(f"rows written to {out}")
    return frame


def checked_overrides(model: str, overrides: dict) -> dict:
    """`overrides` of model settings as floats, each a field of the model's config."""
    fields = [f.name for f in dataclasses.fields(lookup(MODELS, model, "model").Config)]
    for key in overrides:
        if key not in fields:
            raise UserError(f"{model} has no setting {key!r}; choose one of: {', '.join(fields) or '(none)'}")
    return {key: float(value) for key, value in overrides.items()}
