"""What a run is and what of it is on disk: its identity, its directory, its status, its record and its model.

A run is identified by a hash of what changes its result (model, config, dataset, variant, seed, steps, batch,
learning rate, latent size, the code schema, and for a learned variant the manipulation's settings), never by
its position in a grid, its path or its device. Its directory holds `config.json`, the checkpoint, `TRAINED` when
training ended, `metrics.json`, and `DONE` written last; or `FAILED` where training diverged. So status is read
by looking: done, failed, trained (metrics missing or computed with other settings), partial (a checkpoint) or
new. While a process executes a run it holds the lock `train.lock` in its directory (`bench.launch`).
"""

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from bench.atomic import atomic_write_text
from bench.errors import UserError
from bench.metrics import MetricSettings
from bench.models import MODELS
from bench.runtime import machine
from bench.suites import Cell, Profile, chosen_values, search_cells, train_config, variant_cells
from bench.train import CHECKPOINT, PREVIOUS_CHECKPOINT, TrainConfig, Trainer, read_checkpoint
from bench.variants import get, identity

SCHEMA_VERSION = 1  # bump when a code change alters results: every run gets a new identity
CONFIG, TRAINED, METRICS, DONE, FAILED, LOCK = "config.json", "TRAINED", "metrics.json", "DONE", "FAILED", "train.lock"


def run_id(config: TrainConfig) -> str:
    data = identity(config.dataset, config.variant)
    payload = {"schema": SCHEMA_VERSION, **config.to_dict(), **({"data": data} if data else {})}
    payload = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Run:
    suite: str
    profile: str
    cell: Cell
    config: TrainConfig
    metrics: MetricSettings

    @property
    def id(self) -> str:
        return run_id(self.config)

    def directory(self, results: Path) -> Path:
        return Path(results) / "runs" / self.id

    @property
    def name(self) -> str:
        return run_name(dataclasses.asdict(self.cell))

    def describe(self) -> dict:
        return {"run_id": self.id, "suite": self.suite, "profile": self.profile,
                "cell": dataclasses.asdict(self.cell), "config": self.config.to_dict(), "schema": SCHEMA_VERSION}


def run_name(cell: dict) -> str:
    """What a reader calls a run: model/dataset/variant/value/seed, e.g. `pcl/dsprites/noise/value=None/seed=2`."""
    return f"{cell['model']}/{cell['dataset']}/{cell['variant']}/value={cell['value']}/seed={cell['seed_index']}"


def runs_for(suite: str, profile: Profile, cells) -> list[Run]:
    return [Run(suite, profile.name, c, train_config(suite, profile, c), profile.metrics) for c in cells]


def status(run: Run, results: Path) -> str:
    d = run.directory(results)
    if (d / DONE).exists() and _read_json(d / METRICS).get("metric_settings") == run.metrics.to_dict():
        return "done"
    if (d / FAILED).exists():
        return "failed"
    if (d / TRAINED).exists():
        return "trained"
    # A damaged newest checkpoint is set aside, leaving the previous one to resume from.
    return "partial" if (d / CHECKPOINT).exists() or (d / PREVIOUS_CHECKPOINT).exists() else "new"


def settled(run: Run, results: Path, retry_failed: bool = False) -> bool:
    """Whether executing `run` has nothing to do: it is done, or it failed and failures are not retried (with the
    same code a run diverges again at the same step)."""
    return status(run, results) in ({"done"} if retry_failed else {"done", "failed"})


def _read_json(path: Path) -> dict:
    """The object in a JSON file; {} when it is missing or is not a JSON object (a torn or hand-edited file is
    not trusted: its run is evaluated again)."""
    try:
        value = json.loads(Path(path).read_text())
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


def record(run: Run, results: Path) -> dict:
    return _read_json(run.directory(results) / METRICS)


def load_records(runs: list[Run], results: Path) -> list[dict]:
    return [record(r, results) for r in runs if status(r, results) == "done"]


def failure(run: Run, results: Path) -> dict:
    """A failed run's description with `failed`: the step, term and message of its divergence."""
    return {**run.describe(), "failed": _read_json(run.directory(results) / FAILED)}


def search_runs(suite: str, profile: Profile) -> list[Run]:
    return runs_for(suite, profile, search_cells(profile))


def variant_runs(suite: str, profile: Profile, values: dict) -> list[Run]:
    """The second stage: each (model, dataset)'s value (`chosen_values`) on the compared variants."""
    return runs_for(suite, profile, variant_cells(profile, values))


def planned_runs(suite: str, profile: Profile, results: Path) -> list[Run]:
    """A profile's runs as far as they are known: the line search, then the variants at the values fixed in
    advance or chosen from the finished line search."""
    search = search_runs(suite, profile)
    return search + variant_runs(suite, profile, chosen_values(profile, load_records(search, results)))


def suite_records(suite: str, profile: Profile, results: Path) -> list[dict]:
    """The finished runs of a profile's plan: its line search, then the variants at the values chosen from it.
    Runs that an earlier, larger grid left in the results root (more seeds, other values) are not among them,
    so a report chooses from the same runs as `bench run` did."""
    return load_records(planned_runs(suite, profile, results), results)


def failed_runs(suite: str, profile: Profile, results: Path) -> list[dict]:
    """The plan's runs whose training diverged, each described with `failed`: the step, term and message."""
    return [failure(r, results) for r in planned_runs(suite, profile, results) if status(r, results) == "failed"]


def write_config(run: Run, results: Path):
    atomic_write_text(run.directory(results) / CONFIG, json.dumps(run.describe(), indent=2))


def mark_trained(run: Run, results: Path, seconds: float, device) -> dict:
    """Record, once, how long training took and where; a resumed run keeps the first finish's record, and names
    only the machine that finished it."""
    path = run.directory(results) / TRAINED
    if not path.exists():
        atomic_write_text(path, json.dumps({"seconds": seconds, "device": str(device), "machine": machine(device)}))
    return _read_json(path)


def finish(run: Run, results: Path, record: dict):
    """Write the record, then DONE: a run whose DONE exists has its whole record on disk."""
    _write_record(run.directory(results), record)


def _write_record(d: Path, record: dict):
    (d / DONE).unlink(missing_ok=True)
    atomic_write_text(d / METRICS, json.dumps(record, indent=2))
    atomic_write_text(d / DONE, "")


def mark_failed(run: Run, results: Path, failed: dict) -> dict:
    """Write FAILED with where and why training diverged; returns the run's failure."""
    atomic_write_text(run.directory(results) / FAILED, json.dumps(failed, indent=2))
    return failure(run, results)


def clear_failure(run: Run, results: Path):
    (run.directory(results) / FAILED).unlink(missing_ok=True)


def restore(ledger: dict[str, dict], results: Path) -> int:
    """Write each ledger record's run directory that lacks DONE: config, metrics and DONE for a finished run,
    config and FAILED for one whose training diverged (so that it stays failed unless retried). Returns how
    many were written."""
    restored = 0
    for run_id, record in ledger.items():
        d = Path(results) / "runs" / run_id
        if (d / DONE).exists() or ("failed" in record and (d / FAILED).exists()):
            continue
        d.mkdir(parents=True, exist_ok=True)
        atomic_write_text(d / CONFIG, json.dumps({k: record[k] for k in ("run_id", "suite", "profile", "cell",
                                                                           "config", "schema")}, indent=2))
        if "failed" in record:
            atomic_write_text(d / FAILED, json.dumps(record["failed"], indent=2))
        else:
            _write_record(d, record)
        restored += 1
    return restored


class MissingCheckpoint(UserError):
    """A finished run whose checkpoint is gone: its model could be shown only by training it again."""


def load_model(record: dict, results: Path, data_root=None):
    """The trained model of a record, with its dataset: built from the record's config and given its run's final
    checkpoint, read through the digest check. Never trained: a report must show the models it measured, and a
    model trained again (in another process, with another thread count or code) need not be one of them.
    MissingCheckpoint if it is gone, CheckpointDamaged if it fails its digest."""
    path = Path(results) / "runs" / record["run_id"] / CHECKPOINT
    if not path.exists():
        raise MissingCheckpoint(f"{run_name(record['cell'])}: its checkpoint {path} is missing")
    return _model_from(record["config"], read_checkpoint(path, "cpu"), data_root)


def load_run(run_dir: Path, data_root=None):
    """The trained model in a run directory (of `bench run` or `bench train`), with its dataset, from its final
    checkpoint read through the digest check; a one-line UserError if the directory holds no finished training."""
    path = Path(run_dir) / CHECKPOINT
    if not path.exists():
        raise UserError(f"{run_dir} holds no trained run (no {CHECKPOINT}); give the directory that "
                        "`bench train --out` or `bench run` wrote")
    state = read_checkpoint(path, "cpu")
    config = json.loads(state["config"])
    if state["step"] < config["steps"]:
        raise UserError(f"{run_dir} is unfinished (step {state['step']} of {config['steps']}); run the same training "
                        "command again to finish it")
    return _model_from(config, state, data_root)


def _model_from(config: dict, state: dict, data_root=None):
    """The model of a run's `config` (as TrainConfig.to_dict gives it) with the checkpoint `state`, and its data."""
    c = dict(config)
    c["model_config"] = MODELS[c["model"]].Config(**(c["model_config"] or {}))
    data = get(c["dataset"], c["variant"], data_root)
    trainer = Trainer.on(TrainConfig(**c), data, "cpu")
    trainer.load(state)
    return trainer.model.eval(), data
