"""Commands on one trained run directory (of `bench train` or `bench run`): evaluate it with chosen metrics, draw
its latent traversals, draw its loss curves. They read the run and never train it or change its record."""

import hashlib
import json
from pathlib import Path

from bench.atomic import atomic_write_text
from bench.errors import UserError, lookup, writable_file
from bench.metrics import MetricSettings, evaluate
from bench.metrics.registry import DEFAULT_METRICS, METRICS
from bench.runs import load_run
from bench.train import read_losses, resolve_device


def evaluate_run(run_dir: Path, metrics=None, data_root=None, device="cpu") -> tuple[dict, Path]:
    """The run's model evaluated with `metrics` (opt-in ones included) at the study's other settings, stored as
    `evaluation-<hash of the settings>.json` in the run directory beside (never over) its metrics.json.
    Returns the evaluation and its file. No `metrics`: the study's defaults."""
    metrics = tuple(metrics or DEFAULT_METRICS)
    for name in metrics:
        lookup(METRICS, name, "metric")  # before the model is loaded
    settings, device = MetricSettings(metrics=metrics), resolve_device(str(device))
    model, data = load_run(run_dir, data_root)
    evaluation = evaluate(model.to(device), data, settings, device)
    key = hashlib.sha256(json.dumps(settings.to_dict(), sort_keys=True).encode()).hexdigest()[:12]
    path = Path(run_dir) / f"evaluation-{key}.json"
    atomic_write_text(path, json.dumps(evaluation, indent=2))
    return evaluation, path


def draw_traversal(run_dir: Path, out: Path, data_root=None) -> Path:
    """The run's latent traversals (a row per latent z0.., a column per value) as `out` (PNG, and a PDF beside)."""
    from bench.report.plots import traversal
    out = writable_file(out, "--out")
    model, data = load_run(run_dir, data_root)
    if not model.has_decoder:
        raise UserError(f"{run_dir}: its model has no decoder, so it has no traversal")
    traversal(model, data, out.with_suffix(""), _title(run_dir))
    return out.with_suffix(".png")


def draw_curves(run_dir: Path, out: Path) -> Path:
    """The run's loss terms against the step, one panel each, as `out` (PNG, and a PDF beside)."""
    from bench.report.plots import loss_curves
    steps, terms = read_losses(run_dir)
    out = writable_file(out, "--out")
    loss_curves(steps, terms, out.with_suffix(""), _title(run_dir))
    return out.with_suffix(".png")


def _title(run_dir: Path) -> str:
    return Path(run_dir).resolve().name
