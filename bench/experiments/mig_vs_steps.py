"""`bench experiment mig-vs-steps`: how a model's MIG (or any metric) grows with training steps, seed by seed.

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
from bench.metrics import METRICS, MetricSettings, evaluate, numeric
from bench.overrides import override_train
from bench.seeding import seed_hash
from bench.train import TrainConfig, Trainer, batches, fit
from bench.variants import get

MEASURED = ("mig", "active_units")  # unless --metrics says otherwise


def curve(model: str, dataset: str, milestones: tuple[int, ...], seed: int, settings: dict, metrics: tuple[str, ...],
          data_root=None) -> list:
    """The metrics' numbers at each milestone of one seeded run (single-threaded, as a grid worker trains)."""
    torch.set_num_threads(1)
    data = get(dataset, "original", data_root)
    config = dataclasses.replace(_config(model, dataset, seed, settings), steps=max(milestones))
    trainer = Trainer.on(config, data, "cpu")
    draw = batches(trainer, data, "cpu")
    rows, start = [], time.perf_counter()
    for milestone in sorted(milestones):
        values = evaluate(fit(trainer, draw, until=milestone).model, data,
                          MetricSettings(metrics=metrics))["metrics"]
        rows.append({"model": model, "dataset": dataset, **settings, "seed": seed, "step": milestone,
                     **{n: values.get(n) for n in numeric() if n in values},
                     "seconds": round(time.perf_counter() - start, 1)})
    return rows


def _config(model: str, dataset: str, seed: int, settings: dict) -> TrainConfig:
    """The run's config with the user's `--set` settings (model settings, lr, batch_size, latent_dim), checked."""
    if "steps" in settings or "seed" in settings:
        raise UserError("--set steps and seed are the experiment's own (--steps milestones, --seeds count)")
    return override_train(TrainConfig(model, dataset, seed=seed_hash("mig-vs-steps", model, dataset, seed)),
                          settings)


def run(model: str, dataset: str, milestones=(2000, 5000, 10_000, 20_000), seeds: int = 3, jobs: int = 1,
        settings: dict | None = None, out: Path | None = None, data_root=None,
        metrics: tuple[str, ...] = MEASURED) -> pd.DataFrame:
    """Train `seeds` runs of `model` on `dataset` (with the `--set` `settings`), write the `metrics`' numbers at
    each milestone to the CSV `out` (default: results/experiments/mig-vs-steps-MODEL-DATASET[-SETTINGS].csv) and
    print the MIG (and the FactorVAE score, when measured) per seed."""
    lookup(DATASETS, dataset, "dataset")
    settings = settings or {}
    _config(model, dataset, 0, settings)  # every setting and metric is checked before any data is built
    for name in metrics:
        lookup(METRICS, name, "metric")
    label = "".join(f"-{k}{v}" for k, v in settings.items())
    out = writable_file(out or f"results/experiments/mig-vs-steps-{model}-{dataset}{label}.csv", "--out")
    get(dataset, "original", data_root)  # build once, before the workers
    tasks = (delayed(curve)(model, dataset, tuple(milestones), s, settings, tuple(metrics), data_root)
             for s in range(seeds))
    frame = pd.DataFrame([row for rows in Parallel(n_jobs=jobs)(tasks) for row in rows])
    frame.to_csv(out, index=False)
    print(f"{model} {settings} on {dataset} ({seeds} seeds, {jobs} workers, wall time per seed "
          f"{frame.groupby('seed').seconds.max().mean():.0f} s):")
    for number in ("mig", "factor_vae_eval"):
        if number in frame:
            table = frame.pivot(index="step", columns="seed", values=number)
            table["mean"] = table.mean(axis=1)
            print(f"{number}:\n{table.round(3).to_string()}")
    print(f"rows written to {out}")
    return frame
