"""`bench experiment mig-vs-steps`: how a model's MIG grows with training steps, seed by seed.

The question it answers: at what budget does a model clearly disentangle a dataset on this machine? The quick
profile's setting is chosen from it (docs/paper.md: full dSprites at the paper's scale is not there after 4k steps).
"""

import dataclasses
import time
from pathlib import Path

import pandas as pd
from joblib import Parallel, delayed

from bench.metrics import MetricSettings, evaluate
from bench.models import MODELS
from bench.suites import model_config
from bench.seeding import seed_hash
from bench.train import Trainer, TrainConfig, batch, train_step

METRICS = MetricSettings(metrics=("mig", "active_units"))


def curve(model: str, dataset: str, milestones: tuple[int, ...], seed: int, overrides: dict, data_root=None) -> list:
    """MIG at each milestone of one seeded run (single-threaded, as a grid worker trains)."""
    import torch
    from bench.variants import get
    torch.set_num_threads(1)
    data = get(dataset, "original", data_root)
    config = dataclasses.replace(model_config(model, dataset), **overrides)
    train = TrainConfig(model, dataset, model_config=config, seed=seed_hash("mig-vs-steps", model, dataset, seed),
                        steps=max(milestones)).resolved(data)
    trainer = Trainer.new(train, data.observation_shape, "cpu")
    rows, start = [], time.perf_counter()
    for milestone in sorted(milestones):
        while trainer.step < milestone:
            train_step(trainer, batch(data, trainer.model, train.batch_size, trainer.data_rng))
        metrics = evaluate(trainer.model.eval(), data, METRICS)["metrics"]
        trainer.model.train()
        rows.append({"model": model, "dataset": dataset, **overrides, "seed": seed, "step": milestone,
                     "mig": metrics["mig"], "active_units": metrics.get("active_units"),
                     "seconds": round(time.perf_counter() - start, 1)})
    return rows


def run(model: str, dataset: str, milestones, seeds: int, jobs: int, overrides: dict, out: Path, data_root=None):
    from bench.variants import get
    get(dataset, "original", data_root)  # build once, before the workers
    tasks = (delayed(curve)(model, dataset, tuple(milestones), s, overrides, data_root) for s in range(seeds))
    rows = [row for rows in Parallel(n_jobs=jobs)(tasks) for row in rows]
    frame = pd.DataFrame(rows)
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False)
    table = frame.pivot(index="step", columns="seed", values="mig")
    table["mean"] = table.mean(axis=1)
    print(f"MIG of {model} {overrides} on {dataset} ({seeds} seeds, {jobs} workers, wall time per seed "
          f"{frame.groupby('seed').seconds.max().mean():.0f} s):")
    print(table.round(3).to_string())
    print(f"rows written to {out}")
    return frame


def parse_overrides(items, model: str) -> dict:
    """["beta=4"] -> {"beta": 4.0}, checked against the model's config fields."""
    from bench.errors import UserError
    fields = {f.name: f.type for f in dataclasses.fields(MODELS[model].Config)}
    overrides = {}
    for item in items or []:
        key, _, value = item.partition("=")
        if key not in fields:
            raise UserError(f"{model} has no setting {key!r}; choose one of: {', '.join(fields) or '(none)'}")
        try:
            overrides[key] = float(value)
        except ValueError:
            raise UserError(f"--set {item}: {value!r} is not a number; write e.g. --set {key}=4") from None
    return overrides
