"""Run identity, status, and executing a suite's runs: training, then evaluation, each resumable.

A run is identified by a hash of what changes its result (model, config, dataset, variant, seed, steps, batch,
learning rate, latent size, the code schema, and for the modified variant the manipulation's settings), never
by its position in a grid, its path or its device. Its directory holds `config.json`, the checkpoint,
`TRAINED` when training ended, `metrics.json`, and `DONE` written last; or `FAILED` where training diverged.
So status is read by looking: done, failed, trained (metrics missing or computed with other settings), partial
(a checkpoint) or new. A failed run is retried only when asked (`retry_failed`): with the same code it diverges
again at the same step. While a process executes a run it holds the lock `train.lock` in its directory, so two
runners never train one run at once.
"""

import dataclasses
import functools
import hashlib
import json
import os
import threading
import time
from collections import Counter
from contextlib import contextmanager
from datetime import datetime, timezone
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from filelock import FileLock, Timeout
from joblib import Parallel, delayed
from tqdm import tqdm

from bench.atomic import atomic_write_text
from bench.errors import UserError, lookup
from bench.ledger import add as add_to_ledger
from bench.ledger import read as read_ledger
from bench.metrics import MetricSettings, evaluate
from bench.suites import Cell, Profile, fixed_choices, search_cells, train_config, variant_cells
from bench.train import CHECKPOINT, TrainConfig, TrainingDiverged, train

SCHEMA_VERSION = 1  # bump when a code change alters results: every run gets a new identity
CONFIG, TRAINED, METRICS, DONE, FAILED, LOCK = "config.json", "TRAINED", "metrics.json", "DONE", "FAILED", "train.lock"


def run_id(config: TrainConfig) -> str:
    from bench.variants import identity
    data = identity(config.variant)
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
    return "partial" if (d / CHECKPOINT).exists() else "new"


def _read_json(path: Path) -> dict:
    """The object in a JSON file; {} when it is missing or is not a JSON object (a torn or hand-edited file is
    not trusted: its run is evaluated again)."""
    try:
        value = json.loads(Path(path).read_text())
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


def execute(run: Run, results: Path, data_root=None, device="cpu", checkpoint_every=1000, progress=False,
            retry_failed=False) -> dict:
    """Train (resuming) unless trained, evaluate, and write metrics.json then DONE. Returns the record; for a run
    whose training diverges, its description with `failed` (where and why, also written to FAILED).

    The run directory is locked meanwhile. A second runner that reaches the run waits for the lock, says so,
    and then returns what the first one left (a record or a failure) instead of training the run again.
    """
    d = run.directory(results)
    d.mkdir(parents=True, exist_ok=True)
    with _locked(d, run.name):
        state = status(run, results)
        if state == "done":
            return _read_json(d / METRICS)
        if state == "failed" and not retry_failed:
            return _failure(run, results)
        (d / FAILED).unlink(missing_ok=True)
        try:
            return _train_and_evaluate(run, d, data_root, device, checkpoint_every, progress)
        except TrainingDiverged as e:
            # The step and term let the plan and report say where; older errors carried only the message.
            failure = {"step": getattr(e, "step", None), "term": getattr(e, "term", None), "message": str(e)}
            atomic_write_text(d / FAILED, json.dumps(failure, indent=2))
            return _failure(run, results)


def _failure(run: Run, results: Path) -> dict:
    return {**run.describe(), "failed": _read_json(run.directory(results) / FAILED)}


@contextmanager
def _locked(directory: Path, name: str):
    # filelock takes an flock(2), which the kernel drops when its holder dies, even by SIGKILL: a killed
    # runner never leaves a lock behind that would block the rerun.
    lock = FileLock(directory / LOCK)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        tqdm.write(f"{name}: another process is executing this run; waiting for it")
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def _train_and_evaluate(run: Run, d: Path, data_root, device, checkpoint_every: int, progress: bool) -> dict:
    """Always single-threaded: the thread count can change float reductions, and a run's result must not depend
    on how many workers ran the grid. Runs, not threads, are the unit of parallelism."""
    import torch
    from bench.variants import get
    torch.set_num_threads(1)
    os.environ["BENCH_THREADS"] = "1"
    atomic_write_text(d / CONFIG, json.dumps(run.describe(), indent=2))
    data = get(run.config.dataset, run.config.variant, data_root)
    start = time.perf_counter()
    trainer = train(run.config, data, d, device=device, checkpoint_every=checkpoint_every, progress=progress)
    if not (d / TRAINED).exists():
        atomic_write_text(d / TRAINED, json.dumps({"seconds": time.perf_counter() - start, "device": str(device)}))
    start = time.perf_counter()
    evaluation = evaluate(trainer.model, data, run.metrics, device)
    record = {**run.describe(), **evaluation, "training": _read_json(d / TRAINED),
              "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "evaluation": {"seconds": time.perf_counter() - start}}
    (d / DONE).unlink(missing_ok=True)
    atomic_write_text(d / METRICS, json.dumps(record, indent=2))
    atomic_write_text(d / DONE, "")
    return record


def _local(task, todo: list[Run], jobs: int, scheduler=None):
    if jobs == 1:
        yield from map(task, todo)
        return
    # Two single-threaded workers beat one two-threaded process here (bench benchmark train).
    tasks = (delayed(_in_worker)(os.getpid(), task, r) for r in todo)
    yield from Parallel(n_jobs=jobs, return_as="generator_unordered")(tasks)


def _in_worker(runner: int, task, run: Run) -> dict:
    _exit_with(runner)
    return task(run)


@functools.cache  # one watchdog per worker process
def _exit_with(runner: int):
    """End this worker process within half a second of its runner's death.

    A loky worker notices a dead parent only between tasks, so after a SIGKILL of `bench run` it went on training
    and writing, beside the runs a prompt rerun started. Polling getppid() for the reparenting is Linux's
    PR_SET_PDEATHSIG without its trap (that signal follows the *thread* that spawned the worker, and loky
    spawns from a manager thread), and works on every POSIX system. Exiting mid-step is safe: checkpoints and
    records are written by atomic rename, and the run's lock dies with the process.
    """
    def watch():
        while os.getppid() == runner:
            time.sleep(0.5)
        os._exit(1)
    threading.Thread(target=watch, name="exit-with-runner", daemon=True).start()


def _dask(task, todo: list[Run], jobs: int, scheduler=None):
    """On an existing dask.distributed cluster; its workers must see the results and data roots (shared disk)."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise UserError("--backend dask needs dask.distributed: pip install -e '.[dask]'") from None
    if not scheduler:
        raise UserError("--backend dask needs --scheduler ADDRESS of a running scheduler, e.g. tcp://host:8786")
    try:
        client = Client(scheduler)
    except (OSError, ValueError) as e:
        raise UserError(f"cannot use the dask scheduler {scheduler!r} ({e}); give the address of a running "
                        "scheduler, e.g. tcp://host:8786") from None
    with client:
        futures = [client.submit(task, r, pure=False) for r in todo]
        for future in as_completed(futures):
            yield future.result()


BACKENDS = {"local": _local, "dask": _dask}


def execute_all(runs: list[Run], results: Path, data_root=None, device="cpu", jobs: int = 1,
                desc: str = "runs", backend: str = "local", scheduler=None, ledger: Path | None = None,
                checkpoint_every: int = 1000, retry_failed: bool = False) -> list[dict]:
    """Execute every run that is not done, nor failed unless `retry_failed`, with a progress bar over runs; add
    each record to `ledger`. Returns the records; a run whose training diverges is said and left out."""
    from bench.data import data_root as resolve_root
    execute_on = lookup(BACKENDS, backend, "backend")
    skipped = {"done"} if retry_failed else {"done", "failed"}
    todo = [r for r in runs if status(r, results) not in skipped]
    # Absolute paths, so that workers elsewhere (a dask cluster on a shared disk) find the same folders.
    task = functools.partial(execute, results=Path(results).resolve(), data_root=resolve_root(data_root).resolve(),
                             device=device, checkpoint_every=checkpoint_every, retry_failed=retry_failed)
    records = []
    with tqdm(total=len(todo), desc=desc, unit="run") as bar:
        for record in execute_on(task, todo, jobs, scheduler):
            bar.update(1)
            if "failed" in record:
                bar.write(f"{run_name(record['cell'])} FAILED: {record['failed']['message']} (kept in "
                          f"runs/{record['run_id']}/{FAILED}; `bench run --retry-failed` trains it again)")
                continue
            records.append(record)
            if ledger:
                add_to_ledger(ledger, record)
    return records


class MissingCheckpoint(UserError):
    """A finished run whose checkpoint is gone: its model could be shown only by training it again."""


def load_model(record: dict, results: Path, data_root=None):
    """The trained model of a record, with its dataset: built from the record's config and given its run's final
    checkpoint. Never trained: a report must show the models it measured, and a model trained again (in another
    process, with another thread count or code) need not be one of them. MissingCheckpoint if it is gone."""
    import torch
    from bench.variants import get
    from bench.models import MODELS
    from bench.train import Trainer
    path = Path(results) / "runs" / record["run_id"] / CHECKPOINT
    if not path.exists():
        raise MissingCheckpoint(f"{run_name(record['cell'])}: its checkpoint {path} is missing")
    c = dict(record["config"])
    c["model_config"] = MODELS[c["model"]].Config(**(c["model_config"] or {}))
    data = get(c["dataset"], c["variant"], data_root)
    trainer = Trainer.new(TrainConfig(**c).resolved(data), data.observation_shape, "cpu")
    trainer.load(torch.load(path, map_location="cpu", weights_only=True))
    return trainer.model.eval(), data


def load_records(runs: list[Run], results: Path) -> list[dict]:
    return [_read_json(r.directory(results) / METRICS) for r in runs if status(r, results) == "done"]


def planned_runs(suite: str, profile: Profile, results: Path) -> list[Run]:
    """A profile's runs as far as they are known: the line search, then the variants at the values fixed in
    advance or chosen from the finished line search."""
    search = runs_for(suite, profile, search_cells(profile))
    return search + _variant_runs(suite, profile, chosen_values(profile, load_records(search, results)))


def failed_runs(suite: str, profile: Profile, results: Path) -> list[dict]:
    """The plan's runs whose training diverged, each described with `failed`: the step, term and message."""
    return [_failure(r, results) for r in planned_runs(suite, profile, results) if status(r, results) == "failed"]


def choose_values(records: list[dict]) -> dict[tuple[str, str], dict]:
    """Per (model, dataset): the line-search value with the best mean MIG among runs that are not over-pruned
    (docs/paper.md). If every value over-prunes, the best of all is taken and the choice says so."""
    by_pair: dict[tuple[str, str], dict] = {}
    for r in records:
        key = (r["cell"]["model"], r["cell"]["dataset"])
        by_value = by_pair.setdefault(key, {})
        by_value.setdefault(r["cell"]["value"], []).append(r["metrics"])
    choices = {}
    for key, by_value in by_pair.items():
        tried = {v: {"mean_mig": float(np.mean([m["mig"] for m in ms])), "runs": len(ms),
                     "over_pruned": sum(bool(m.get("over_pruned")) for m in ms)} for v, ms in by_value.items()}
        eligible = {v: t for v, t in tried.items() if t["over_pruned"] == 0}
        pool = eligible or tried
        choices[key] = {"value": max(pool, key=lambda v: pool[v]["mean_mig"]), "tried": tried,
                        "all_over_pruned": not eligible}
    return choices


def plan(runs: list[Run], results: Path) -> Counter:
    return Counter(status(r, results) for r in runs)


def _work(run: Run) -> tuple[str, str, int]:
    return run.config.model, run.config.dataset, run.config.steps


def measured_seconds(records: list[dict]) -> dict[str, dict]:
    """From done runs' records: mean wall time of a run per (model, dataset, steps), training plus evaluation,
    and the mean evaluation time of any run (older records did not time it)."""
    runs_seconds: dict[tuple[str, str, int], list[float]] = {}
    evaluation = []
    for record in records:
        evaluated = record.get("evaluation", {}).get("seconds")
        evaluation += [evaluated] if evaluated is not None else []
        key = tuple(record["config"][k] for k in ("model", "dataset", "steps"))
        runs_seconds.setdefault(key, []).append(record["training"]["seconds"] + (evaluated or 0.0))
    return {"runs": {key: float(np.mean(v)) for key, v in runs_seconds.items()},
            "evaluation": float(np.mean(evaluation)) if evaluation else 0.0}


def estimate_seconds(todo: list[tuple[str, str, int]], measured: dict, data_root=None, jobs: int = 1,
                     device="cpu") -> float:
    """Time left for `todo` (model, dataset, steps per run): a done run's mean time where there is one, else a
    short measurement of training throughput plus the measured evaluation time."""
    runs = measured["runs"]
    probed = {key: key[2] / _steps_per_second(key[0], key[1], data_root, device) + measured["evaluation"]
              for key in set(todo) - set(runs)}
    return sum({**probed, **runs}[key] for key in todo) / jobs


def _steps_per_second(model: str, dataset: str, data_root, device="cpu", steps: int = 3) -> float:
    import torch
    from bench.variants import get
    from bench.train import Trainer, batch, resolve_device, train_step
    data = get(dataset, "original", data_root)
    device = resolve_device(str(device))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as a worker runs
    try:
        trainer = Trainer.new(TrainConfig(model, dataset).resolved(data), data.observation_shape, device)
        train_step(trainer, batch(data, trainer.model, 64, trainer.data_rng))
        start = time.perf_counter()
        for _ in range(steps):
            train_step(trainer, batch(data, trainer.model, 64, trainer.data_rng))
        if device.type == "cuda":
            torch.cuda.synchronize()  # kernels run asynchronously: wait for them before reading the clock
        return steps / (time.perf_counter() - start)
    finally:
        torch.set_num_threads(threads)


def prepare_data(profile: Profile, data_root=None, jobs: int = 1):
    """Build every dataset variant once, before the runs start, so parallel runs never each train a learned
    variant's game. The base images first, here; then the variants (each learned build trains a game) in `jobs`
    single-threaded workers, so a build does not depend on how many ran beside it."""
    from bench.variants import get
    for dataset in profile.datasets:
        get(dataset, "original", data_root)
    names = [(d, v) for d in profile.datasets for v in profile.data_variants()]
    Parallel(n_jobs=max(1, min(jobs, len(names))))(delayed(_prepare_variant)(d, v, data_root) for d, v in names)
    if profile.builds:  # a confirmatory profile's builds must pass their pre-registered acceptance test
        from bench.data import data_root as resolve_root
        from bench.manipulation.acceptance import check_builds
        from bench.variants import parse_variant
        for dataset in profile.datasets:
            check_builds(get(dataset, "original", data_root), resolve_root(data_root),
                         [parse_variant(v) for v in profile.data_variants()])


def _prepare_variant(dataset: str, variant: str, data_root):
    import torch
    from bench.variants import get
    torch.set_num_threads(1)
    get(dataset, variant, data_root)


def _check_names(profile: Profile):
    from bench.data import DATASETS
    from bench.variants import VARIANTS
    from bench.models import MODELS
    for name in profile.datasets:
        lookup(DATASETS, name, "dataset")
    for name in profile.variants:
        lookup(VARIANTS, name, "variant")
    for name in profile.models:
        lookup(MODELS, name, "model")


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def line_search_path(results: Path, suite: str, profile: str) -> Path:
    return Path(results) / "suites" / f"{suite}-{profile}-line-search.json"


def _save_choices(path: Path, choices: dict):
    rows = [{"model": m, "dataset": d, "chosen": c["value"], "all_over_pruned": c["all_over_pruned"],
             "tried": [{"value": v, **t} for v, t in c["tried"].items()]} for (m, d), c in sorted(choices.items())]
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(rows, indent=2))


def run_suite(suite: str, profile: Profile, results: Path, data_root=None, device="cpu", jobs: int = 1,
              dry_run: bool = False, say=print, backend: str = "local", scheduler=None,
              ledger: Path | None = None, checkpoint_every: int = 1000, retry_failed: bool = False) -> list[dict]:
    """Print the plan, then run the line search and the variants; the same call continues an interrupted one.
    With a `ledger`, its committed records count as done, and each finished run is added to it. Runs that
    diverged stay failed unless `retry_failed`."""
    _check_names(profile)
    if ledger:
        restore(read_ledger(ledger), results)
    search = runs_for(suite, profile, search_cells(profile))
    _say_plan(suite, profile, search, results, data_root, jobs, device, say)
    if dry_run:
        return []
    prepare_data(profile, data_root, jobs)
    execution = {"checkpoint_every": checkpoint_every, "retry_failed": retry_failed}
    execute_all(search, results, data_root, device, jobs, "line search", backend, scheduler, ledger, **execution)
    if not profile.fixed_values:
        _save_choices(line_search_path(results, suite, profile.name), choose_values(load_records(search, results)))
    execute_all(_variant_runs(suite, profile, chosen_values(profile, load_records(search, results))), results,
                data_root, device, jobs, "variants", backend, scheduler, ledger, **execution)
    return suite_records(suite, profile, results)


def restore(ledger: dict[str, dict], results: Path) -> int:
    """Write each ledger record's run directory that lacks DONE (config, metrics, DONE); returns how many."""
    restored = 0
    for run_id, record in ledger.items():
        d = Path(results) / "runs" / run_id
        if (d / DONE).exists():
            continue
        d.mkdir(parents=True, exist_ok=True)
        atomic_write_text(d / CONFIG, json.dumps({k: record[k] for k in ("run_id", "suite", "profile", "cell",
                                                                           "config", "schema")}, indent=2))
        atomic_write_text(d / METRICS, json.dumps(record, indent=2))
        atomic_write_text(d / DONE, "")
        restored += 1
    return restored


def chosen_values(profile: Profile, search_records: list[dict]) -> dict[tuple[str, str], float | None]:
    """Each (model, dataset)'s value for the second stage: fixed in advance, or chosen by the line search."""
    if profile.fixed_values:
        return fixed_choices(profile)
    return {key: c["value"] for key, c in choose_values(search_records).items()}


def suite_records(suite: str, profile: Profile, results: Path) -> list[dict]:
    """The finished runs of a profile's plan: its line search, then the variants at the values chosen from it.
    Runs that an earlier, larger grid left in the results root (more seeds, other values) are not among them,
    so a report chooses from the same runs as `bench run` did."""
    return load_records(planned_runs(suite, profile, results), results)


def _variant_runs(suite: str, profile: Profile, values: dict) -> list[Run]:
    """The second stage: each (model, dataset)'s chosen value on the compared variants."""
    return runs_for(suite, profile, variant_cells(profile, values))


def _say_plan(suite: str, profile: Profile, search: list[Run], results: Path, data_root, jobs: int, device, say):
    """How many runs are done and left in each stage, and the time left. The second stage's values are known
    only once the line search is done; until then its runs are counted with placeholder values."""
    counts = plan(search, results)
    records = load_records(search, results)
    searched = counts["done"] == len(search)
    values = chosen_values(profile, records) if searched else {
        (m, d): None for m in profile.models for d in profile.datasets}
    variants = _variant_runs(suite, profile, values)
    later = [_work(r) for r in variants if status(r, results) != "done"]
    say(f"{suite}/{profile.name}: {len(search) + len(variants)} runs of {profile.steps} steps: line search "
        f"{len(search)} ({', '.join(f'{n} {k}' for k, n in sorted(counts.items()))}), then {len(variants)} on "
        f"{', '.join(profile.compared_variants())} with the chosen values{f' ({len(later)} left)' if searched else ''}")
    todo = [_work(r) for r in search if status(r, results) != "done"]
    say(_estimate(measured_seconds(records), todo, later, data_root, jobs, device) if todo or later
        else "nothing left to run")


def _estimate(measured: dict, todo: list, later: list, data_root, jobs: int, device) -> str:
    models = {key[0] for key in todo + later}
    return (
        f"estimated time left with {jobs} worker(s) on {device}: line search "
        f"{_duration(estimate_seconds(todo, measured, data_root, jobs, device))}, then variants "
        f"{_duration(estimate_seconds(later, measured, data_root, jobs, device))} (run times of "
        f"{len({k[0] for k in measured['runs']} & models)} of {len(models)} models measured in finished runs, the "
        f"rest from a 3-step training probe{' plus measured evaluation' if measured['evaluation'] else ''})")
