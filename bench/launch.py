"""Executing runs: one run (trained, resuming, then evaluated, under its directory's lock), many at once in local
worker processes (on a GPU machine, each on a GPU of its own) or on a dask cluster, and the datasets they need:
built before they start, or, where nothing may be built, found built.

Every run trains and evaluates single-threaded: the thread count can change float reductions, and a run's result
must not depend on how many workers ran the grid. Runs, not threads, are the unit of parallelism.
"""

import functools
import os
import pickle
import shlex
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import torch
from filelock import FileLock, Timeout
from joblib import Parallel, delayed
from tqdm import tqdm

from bench.context import Context, one_gpu_each
from bench.data import DATASETS, data_root
from bench.errors import UserError, lookup, writable_folder
from bench.ledger import add as add_to_ledger
from bench.manipulation import ARMS, variant_name
from bench.manipulation.acceptance import check_builds, refuse_failed, stored_acceptance
from bench.metrics import evaluate
from bench.models import MODELS
from bench.overrides import override_train
from bench.plugins import load as load_plugins
from bench.plugins import named as plugins_named
from bench.runs import (FAILED, LOCK, Run, clear_failure, failure, finish, mark_failed, mark_trained, record,
                        run_name, settled, status, write_config)
from bench.suites import Profile
from bench.train import (PROBES, Trainer, TrainConfig, TrainingDiverged, read_losses, resolve_device,
                         tensorboard_writer, train)
from bench.variants import get, is_built, parse_variant


def execute(run: Run, context: Context, retry_failed: bool = False, progress: bool = False) -> dict:
    """Train (resuming) unless trained, evaluate, and write metrics.json then DONE. Returns the record; for a run
    whose training diverges, its description with `failed` (where and why, also written to FAILED). A failed
    run is trained again only with `retry_failed`.

    The run directory is locked meanwhile. A second runner that reaches the run waits for the lock, says so,
    and then returns what the first one left (a record or a failure) instead of training the run again.
    """
    results = context.results
    run.directory(results).mkdir(parents=True, exist_ok=True)
    with _locked(run.directory(results), run.name):
        state = status(run, results)
        if state == "done":
            return record(run, results)
        if state == "failed" and not retry_failed:
            return failure(run, results)
        clear_failure(run, results)
        try:
            return _train_and_evaluate(run, context, progress)
        except TrainingDiverged as e:
            # The step and term let the plan and report say where; older errors carried only the message.
            return mark_failed(run, results, {"step": getattr(e, "step", None), "term": getattr(e, "term", None),
                                              "message": str(e)})


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


def _train_and_evaluate(run: Run, context: Context, progress: bool) -> dict:
    torch.set_num_threads(1)
    os.environ["BENCH_THREADS"] = "1"  # and the metrics' own pools fit serially
    write_config(run, context.results)
    data = get(run.config.dataset, run.config.variant, context.data_root)
    start = time.perf_counter()
    trainer = train(run.config, data, run.directory(context.results), device=context.device,
                    checkpoint_every=context.checkpoint_every, progress=progress, tensorboard=context.tensorboard)
    # The device the weights are on, not the one asked for: `auto` names no machine.
    device = next(trainer.model.parameters()).device
    training = mark_trained(run, context.results, time.perf_counter() - start, device)
    start = time.perf_counter()
    evaluation = evaluate(trainer.model, data, run.metrics, context.device)
    done = {**run.describe(), **evaluation, "training": training,
            "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "evaluation": {"seconds": time.perf_counter() - start}}
    probes = run.directory(context.results) / PROBES
    if probes.exists():  # the model's probe over training goes with the record, which a ledger commits
        steps, values = read_losses(probes.parent, PROBES)
        done["probes"] = {"step": steps, **values}
    finish(run, context.results, done)
    return done


def _in_workers(fn, calls: list[tuple], jobs: int):
    """fn(*args) for each args in `calls`, as they finish, in `jobs` worker processes that exit with this one."""
    runner = os.getpid()
    return Parallel(n_jobs=jobs, return_as="generator_unordered")(
        delayed(_in_worker)(runner, fn, *args) for args in calls)


def _in_worker(runner: int, fn, *args):
    if os.getpid() != runner:  # joblib runs a pool of one in the runner itself
        _exit_with(runner)
        load_plugins()  # the runner's plugins, from the BENCH_PLUGINS it left for its workers
    return fn(*args)


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


def _local(task, todo: list[Run], context: Context):
    if context.jobs == 1:
        return (task(r, context) for r in todo)
    if one_gpu_each(context.device):
        return _on_own_gpus(task, todo, context)
    # Two single-threaded workers beat one two-threaded process here (bench benchmark train).
    return _in_workers(task, [(r, context) for r in todo], context.jobs)


def _on_own_gpus(task, todo: list[Run], context: Context):
    """Each worker claims one slot for its life, a GPU of its own, in a folder removed when the runs end."""
    with tempfile.TemporaryDirectory(prefix="bench-gpus-") as slots:
        yield from _in_workers(functools.partial(_on_own_gpu, task, Path(slots), context.jobs),
                               [(r, context) for r in todo], context.jobs)


def _on_own_gpu(task, slots: Path, count: int, *args):
    torch.cuda.set_device(own_gpu(slots, count))  # `cuda` now means this worker's GPU
    return task(*args)


def own_gpu(slots: Path, count: int) -> int:
    """The GPU index of this process: its slot among `count` in the folder `slots`, modulo the GPUs visible. The
    workers of one runner share the folder, so with no more workers than GPUs each trains on its own."""
    return claim_slot(slots, count) % torch.cuda.device_count()


def claim_slot(folder: Path, count: int) -> int:
    """A slot in 0..count-1 that no other process holds, claimed by a file lock that this process holds for its
    life (the kernel drops it when the process dies, however it dies); the same slot on every later call."""
    return _held_slot(Path(folder), count)[0]


@functools.cache  # the cache keeps the lock object, so the lock is held until the process exits
def _held_slot(folder: Path, count: int) -> tuple[int, FileLock]:
    folder.mkdir(parents=True, exist_ok=True)
    while True:
        for slot in range(count):
            lock = FileLock(folder / f"slot-{slot}.lock")
            try:
                lock.acquire(timeout=0)
                return slot, lock
            except Timeout:
                continue
        time.sleep(0.1)  # every slot is held (a pool being replaced): the next to exit frees one


def _dask(task, todo: list[Run], context: Context):
    """On an existing dask.distributed cluster; its workers must see the results and data roots (shared disk).
    A run trains on its worker's `cuda` device: give each worker process one GPU (docs/cluster.md)."""
    try:
        from distributed import Client, as_completed  # an optional dependency, needed only here
    except ImportError:
        raise UserError("--backend dask needs dask.distributed: pip install -e '.[dask]'") from None
    if not context.scheduler:
        raise UserError("--backend dask needs --scheduler ADDRESS of a running scheduler, e.g. tcp://host:8786")
    try:
        client = Client(context.scheduler)
    except (OSError, ValueError) as e:
        raise UserError(f"cannot use the dask scheduler {context.scheduler!r} ({e}); give the address of a running "
                        "scheduler, e.g. tcp://host:8786") from None
    with client:
        if plugins_named():
            # A worker plugin reaches every worker, those that join later included, before it runs a task.
            client.register_plugin(_plugin_loader(plugins_named()), name="bench-plugins")
        # The device is checked where the runs train: the machine that submits them may have no GPU.
        client.submit(resolve_device, context.device, pure=False).result()
        # Pickled here and unpickled in the task: the scheduler deserialises task graphs, and a plugin's classes (a
        # plugin model's Config in a run) import only on the workers, where the worker plugin loaded them.
        futures = [client.submit(_unpickled, pickle.dumps((task, r, context)), pure=False) for r in todo]
        for future in as_completed(futures):
            yield future.result()


def _unpickled(payload: bytes):
    fn, *args = pickle.loads(payload)
    return fn(*args)


def _plugin_loader(names: tuple[str, ...]):
    """A dask worker plugin that imports the user's plugins on each worker. Defined here, where dask is imported,
    because dask is optional; dask sends it to the workers by value."""
    from distributed import WorkerPlugin

    class LoadPlugins(WorkerPlugin):
        def setup(self, worker):
            load_plugins(names)
    return LoadPlugins()


BACKENDS = {"local": _local, "dask": _dask}


def execute_all(runs: list[Run], context: Context, desc: str = "runs", ledger: Path | None = None,
                retry_failed: bool = False) -> list[dict]:
    """Execute every run that is not settled (done, or failed unless `retry_failed`), with a progress bar over
    runs; add each record to `ledger`, and each run whose training diverged too, so that a report from the ledger
    names it. Returns the records; a run whose training diverges is said and left out."""
    execute_on = lookup(BACKENDS, context.backend, "backend")
    todo = [r for r in runs if not settled(r, context.results, retry_failed)]
    if ledger:  # runs that diverged in an earlier start, before failures were kept in ledgers among them
        for r in runs:
            if r not in todo and status(r, context.results) == "failed":
                add_to_ledger(ledger, failure(r, context.results))
    task = functools.partial(execute, retry_failed=retry_failed)
    records = []
    with tqdm(total=len(todo), desc=desc, unit="run") as bar:
        for done in execute_on(task, todo, context.resolved()):
            bar.update(1)
            if ledger:
                add_to_ledger(ledger, done)
            if "failed" in done:
                bar.write(f"{run_name(done['cell'])} FAILED: {done['failed']['message']} (kept in "
                          f"runs/{done['run_id']}/{FAILED}; `bench run --retry-failed` trains it again)")
                continue
            records.append(done)
    return records


def prepare_data(profile: Profile, context: Context) -> dict[str, dict]:
    """Build every dataset variant once, before the runs start, so parallel runs never each train a learned
    variant's game. The base images first, here; then the variants (each learned build trains a game) in `jobs`
    single-threaded workers, so a build does not depend on how many ran beside it. A confirmatory profile's
    builds must then pass their pre-registered acceptance test: returns {dataset: {variant: its result}}."""
    for dataset in profile.datasets:
        get(dataset, "original", context.data_root)
    calls = [(d, v, context.data_root) for d in profile.datasets for v in profile.data_variants()]
    list(_in_workers(_prepare_variant, calls, max(1, min(context.jobs, len(calls)))))
    if not profile.builds:
        return {}
    return {dataset: check_builds(get(dataset, "original", context.data_root), data_root(context.data_root),
                                  [parse_variant(v) for v in profile.data_variants()])
            for dataset in profile.datasets}


def missing_data(profile: Profile, context: Context) -> list[str]:
    """The dataset variants (`dataset/variant`) that the profile's runs need and `prepare_data` would build: not
    in the cache, or, in a profile with builds, a learned build whose acceptance result is not stored. Looks
    only: builds, measures and writes nothing."""
    root = data_root(context.data_root)
    return [f"{d}/{v}" for d in profile.datasets for v in profile.data_variants()
            if not is_built(d, v, root) or (profile.builds and _unjudged(d, v, root))]


def _unjudged(dataset: str, variant: str, root: Path) -> bool:
    arm, build = parse_variant(variant)
    return arm in ARMS and stored_acceptance(DATASETS[dataset], root, arm, build) is None


def require_data(suite: str, profile: Profile, context: Context) -> dict[str, dict]:
    """What `prepare_data` returns, from the cache alone: a one-line refusal naming what is missing and the
    command that builds it, unless every dataset variant the runs need is built (and judged); then the builds'
    stored acceptance results, refused if a build failed. Builds nothing, so it may run where no data should be
    built (a cluster's login node)."""
    missing = missing_data(profile, context)
    if missing:
        raise UserError(f"not built yet: {', '.join(missing)}; build them first, on the disk the workers share, "
                        f"with: {build_command(suite, profile, context)} (or run without --no-prepare)")
    if not profile.builds:
        return {}
    root = data_root(context.data_root)
    learned = [parse_variant(v) for v in profile.data_variants() if parse_variant(v)[0] in ARMS]
    return {d: refuse_failed(d, root, {variant_name(arm, build): stored_acceptance(DATASETS[d], root, arm, build)
                                       for arm, build in learned}) for d in profile.datasets}


def build_command(suite: str, profile: Profile, context: Context) -> str:
    """The command that builds the data of `profile`, into the context's data root."""
    root = f" --data-root {shlex.quote(str(context.data_root))}" if context.data_root else ""
    named = shlex.join(profile.arguments or ("--profile", profile.name))
    return f"python -m bench datasets build --suite {shlex.quote(suite)} {named}{root}"


def _prepare_variant(dataset: str, variant: str, root):
    torch.set_num_threads(1)
    get(dataset, variant, root)


def train_alone(model: str, dataset: str, variant: str = "original", *, seed: int = 0, steps: int = 300_000,
                out: Path | None = None, device: str = "cpu", checkpoint_every: int = 1000, log_every: int = 100,
                progress: bool = True, data_root=None, settings: dict | None = None,
                tensorboard: bool = False) -> tuple[Trainer, Path]:
    """Train one model outside any suite into `out` (default: results/train/MODEL-DATASET-VARIANT-seedS, then each
    of `settings`, the `--set` overrides), resuming from the checkpoint there. Returns the trainer and the run
    directory."""
    lookup(MODELS, model, "model")  # every name, setting and the device are checked before the dataset is built
    config = override_train(TrainConfig(model, dataset, variant, seed=seed, steps=steps), settings or {})
    resolve_device(device)
    if tensorboard:
        tensorboard_writer()
    named = "".join(f"-{k}={v}" for k, v in (settings or {}).items())
    out = writable_folder(out or f"results/train/{model}-{dataset}-{variant}-seed{seed}{named}", "--out")
    data = get(dataset, variant, data_root)
    return train(config, data, out, device=device, checkpoint_every=checkpoint_every, log_every=log_every,
                 progress=progress, tensorboard=tensorboard), out
