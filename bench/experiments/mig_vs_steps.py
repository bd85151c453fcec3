"""`bench experiment mig-vs-steps`: how a model's MIG (or any metric) grows with training steps, seed by seed.

The question it answers: at what budget does a model clearly disentangle a dataset on this machine? The quick
profile's setting is chosen from it (docs/paper.md: full dSprites at the paper's scale is not there after 4k steps).

Each seed's curve is one run, checkpointed in its own folder under the results root (`curve_directory`), with a
row per measured milestone in `milestones.jsonl`. The same command resumes an interrupted curve, and a command
with later milestones continues the run from the last one: a 100k-step curve on full dSprites takes hours per
seed, longer than a session may last. Measuring never changes the training that follows it, because each segment
resumes from the checkpoint written at the milestone, before the metrics drew any random numbers.
"""

import dataclasses
import json
import time
from pathlib import Path

import pandas as pd
import torch
from joblib import Parallel, delayed

from bench.atomic import atomic_write_json_lines
from bench.data import DATASETS
from bench.errors import UserError, lookup, writable_file, writable_folder
from bench.metrics import METRICS, MetricSettings, evaluate, numeric
from bench.overrides import override_train
from bench.runs import run_id
from bench.seeding import seed_hash
from bench.train import TrainConfig, Trainer, batches, fit, resume
from bench.variants import get

MEASURED = ("mig", "active_units")  # unless --metrics says otherwise
MILESTONES = "milestones.jsonl"


def curve_directory(results: Path, config: TrainConfig) -> Path:
    """One folder per curve: the run's identity without its length, which later milestones extend."""
    return Path(results) / "experiments" / "curves" / run_id(dataclasses.replace(config, steps=0))


def rows(directory: Path) -> list[dict]:
    """Every milestone measured in `directory`, with any metric settings."""
    path = directory / MILESTONES
    try:
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    except json.JSONDecodeError:
        raise UserError(f"{path} is damaged (a line is not JSON); remove the folder {directory} to train the "
                        "curve again") from None


def measured(directory: Path, settings: MetricSettings) -> dict[int, dict]:
    """The rows already measured in `directory` with `settings`, by step."""
    return {row["step"]: row for row in rows(directory) if row["metric_settings"] == settings.to_dict()}


def curve(model: str, dataset: str, milestones: tuple[int, ...], seed: int, settings: dict, metrics: tuple[str, ...],
          results: Path, data_root=None) -> list:
    """The metrics' numbers at each milestone of one seeded run (single-threaded, as a grid worker trains),
    measured now or read from an earlier call."""
    torch.set_num_threads(1)
    config = dataclasses.replace(_config(model, dataset, seed, settings), steps=max(milestones))
    metric_settings = MetricSettings(metrics=metrics)
    directory = curve_directory(results, config)
    done = measured(directory, metric_settings)
    todo = [m for m in sorted(milestones) if m not in done]
    if todo:
        data = get(dataset, "original", data_root)
        trainer = Trainer.on(config, data, "cpu")
        draw = batches(trainer, data, "cpu")
        directory.mkdir(parents=True, exist_ok=True)
        # `fit` resumes too; this first resume tells which milestones the checkpoint has passed unmeasured.
        resume(trainer, directory, "cpu")
        for milestone in todo:
            if trainer.step > milestone:
                raise UserError(f"{directory}: the run is at step {trainer.step}, past milestone {milestone}, which "
                                f"was not measured with {','.join(metrics)}; ask for milestones after "
                                f"{trainer.step}, or remove the folder to train the curve again")
            done[milestone] = _measure(trainer, draw, data, directory, milestone, metric_settings)
            print(f"{model} seed {seed}: step {milestone}: " + ", ".join(
                f"{n} {v:.3f}" for n, v in done[milestone]["metrics"].items() if isinstance(v, float)), flush=True)
    return [{"model": model, "dataset": dataset, **settings, "seed": seed, "step": m, **done[m]["metrics"],
             **{f"mig_{name}": v for name, v in done[m].get("mig_per_factor", {}).items()},
             "seconds_per_1k_steps": _per_1k(done[m]), "curve": directory.name} for m in sorted(milestones)]


def _measure(trainer: Trainer, draw, data, directory: Path, milestone: int, settings: MetricSettings) -> dict:
    """Train on to `milestone`, evaluate, and add the row to the curve's milestones."""
    start_step, start = trainer.step, time.perf_counter()
    fit(trainer, draw, directory, until=milestone)
    trained = time.perf_counter() - start
    start = time.perf_counter()
    values = evaluate(trainer.model, data, settings)["metrics"]
    row = {"step": milestone, "metric_settings": settings.to_dict(),
           "metrics": {n: values[n] for n in numeric() if n in values},
           # Which factors a model separates, not only how well on average (docs/quick-profile.md).
           "mig_per_factor": dict(zip(data.factor_names, values.get("mig_per_factor", []))),
           "trained_steps": milestone - start_step, "train_seconds": round(trained, 1),
           "evaluation_seconds": round(time.perf_counter() - start, 1)}
    atomic_write_json_lines(directory / MILESTONES, [*rows(directory), row])
    return row


def _per_1k(row: dict) -> float | None:
    """Training seconds per 1,000 steps of the segment that ended at this milestone (None: resumed at it)."""
    return round(1000 * row["train_seconds"] / row["trained_steps"], 1) if row["trained_steps"] else None


def _config(model: str, dataset: str, seed: int, settings: dict) -> TrainConfig:
    """The run's config with the user's `--set` settings (model settings, lr, batch_size, latent_dim), checked."""
    if "steps" in settings or "seed" in settings:
        raise UserError("--set steps and seed are the experiment's own (--steps milestones, --seeds count)")
    return override_train(TrainConfig(model, dataset, seed=seed_hash("mig-vs-steps", model, dataset, seed)),
                          settings)


def run(model: str, dataset: str, milestones=(2000, 5000, 10_000, 20_000), seeds: int = 3, jobs: int = 1,
        settings: dict | None = None, out: Path | None = None, data_root=None,
        metrics: tuple[str, ...] = MEASURED, results: Path = Path("results")) -> pd.DataFrame:
    """Train (or continue) `seeds` runs of `model` on `dataset` (with the `--set` `settings`), write the `metrics`'
    numbers at each milestone to the CSV `out` (default: RESULTS/experiments/mig-vs-steps-MODEL-DATASET[-SETTINGS]
    .csv) and print the MIG (and the FactorVAE score, when measured) per seed."""
    lookup(DATASETS, dataset, "dataset")
    settings = settings or {}
    _config(model, dataset, 0, settings)  # every setting and metric is checked before any data is built
    for name in metrics:
        lookup(METRICS, name, "metric")
    label = "".join(f"-{k}{v}" for k, v in settings.items())
    out = writable_file(out or Path(results) / f"experiments/mig-vs-steps-{model}-{dataset}{label}.csv", "--out")
    writable_folder(Path(results) / "experiments" / "curves", "--results")
    get(dataset, "original", data_root)  # build once, before the workers
    milestones = tuple(sorted(set(milestones)))  # each once, in order
    tasks = (delayed(curve)(model, dataset, milestones, s, settings, tuple(metrics), Path(results), data_root)
             for s in range(seeds))
    frame = pd.DataFrame([row for rows in Parallel(n_jobs=jobs)(tasks) for row in rows])
    frame.to_csv(out, index=False)
    speed = frame.seconds_per_1k_steps.dropna()
    print(f"{model} {settings} on {dataset} ({seeds} seeds, {jobs} workers; training seconds per 1k steps on one "
          f"thread: {f'{speed.mean():.0f}' if len(speed) else 'n/a'}):")
    for number in ("mig", "factor_vae_eval"):
        if number in frame:
            table = frame.pivot(index="step", columns="seed", values=number)
            table["mean"] = table.mean(axis=1)
            print(f"{number}:\n{table.round(3).to_string()}")
    per_factor = [c for c in frame if c.startswith("mig_")]
    if per_factor:
        print(f"mean MIG per factor:\n{frame.groupby('step')[per_factor].mean().round(3).to_string()}")
    print(f"rows written to {out}; the runs are in {Path(results) / 'experiments' / 'curves'} (the same command "
          "resumes them, and later --steps continue them)")
    return frame
