"""A suite's plan before it runs: how many runs are done, failed and left in each stage, and the time left,
from finished runs' measured times where there are any and a short training probe where there are none. Making
a plan writes nothing and builds no data."""

import time
from collections import Counter

import numpy as np
import torch

from bench.context import Context
from bench.data import DATASETS, StoredData, UnlabelledData
from bench.errors import lookup
from bench.runs import Run, record, search_runs, status, variant_runs
from bench.suites import Profile, chosen_values
from bench.train import Trainer, TrainConfig, batches, fit, resolve_device


def plan(runs: list[Run], results) -> Counter:
    return Counter(status(r, results) for r in runs)


def describe(suite: str, profile: Profile, context: Context, retry_failed: bool = False,
             ledger: dict[str, dict] | None = None) -> list[str]:
    """How many runs are done and left in each stage, and the time left. The second stage's values are known
    only once the line search is settled; until then its runs are counted with placeholder values. A failed run
    is work left only when it will be retried. A `ledger`'s records (run id -> record) count as done, as they
    will once restored. Reads only: neither the results nor the data root is written or built."""
    results, committed = context.results, _committed(ledger or {}, profile)
    settled = {"done"} if retry_failed else {"done", "failed"}

    def state(run: Run) -> str:
        return committed.get(run.id) or status(run, results)

    def done(run: Run) -> bool:
        return state(run) in settled

    def finished(runs: list[Run]) -> list[dict]:
        return [ledger[r.id] if committed.get(r.id) == "done" else record(r, results) for r in runs
                if state(r) == "done"]

    search = search_runs(suite, profile)
    counts = Counter(state(r) for r in search)
    searched, search_records = all(done(r) for r in search), finished(search)
    values = chosen_values(profile, search_records) if searched else {
        (m, d): None for m in profile.models for d in profile.datasets}
    variants = variant_runs(suite, profile, values)
    todo, later = ([_work(r) for r in runs if not done(r)] for runs in (search, variants))
    # A sweep study has only the first stage: its profile compares no other variant.
    then = (f", then {len(variants)} on {', '.join(profile.compared_variants())} with the chosen values"
            f"{f' ({len(later)} left)' if searched else ''}") if profile.compared_variants() else ""
    head = (f"{suite}/{profile.name}: {len(search) + len(variants)} runs of {profile.steps} steps: line search "
            f"{len(search)} ({', '.join(f'{n} {k}' for k, n in sorted(counts.items()))}){then}")
    # Times from every finished run, the second stage's too: a profile with its values fixed has no line search.
    measured = measured_seconds(search_records + finished(variants))
    return [head, _estimate(measured, todo, later, context) if todo or later else "nothing left to run"]


def _committed(ledger: dict[str, dict], profile: Profile) -> dict[str, str]:
    """The status each ledger record will give its run once restored: done (with this profile's metric
    settings), or failed."""
    settings = profile.metrics.to_dict()
    return {i: "failed" if "failed" in r else "done" for i, r in ledger.items()
            if "failed" in r or r.get("metric_settings") == settings}


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


def estimate_seconds(todo: list[tuple[str, str, int]], measured: dict, context: Context) -> float:
    """Time left for `todo` (model, dataset, steps per run) with `context.jobs` workers: a done run's mean time
    where there is one, else a short measurement of training throughput plus the measured evaluation time."""
    runs = measured["runs"]
    probed = {key: key[2] / steps_per_second(key[0], key[1], context) + measured["evaluation"]
              for key in set(todo) - set(runs)}
    return sum({**probed, **runs}[key] for key in todo) / context.jobs


def steps_per_second(model: str, dataset: str, context: Context, steps: int = 3) -> float:
    """The training loop's steps per second for `model` on `dataset`, single-threaded as a worker trains, after
    one step that pays for the first allocations. It trains on blank images of the dataset's shape, which cost
    the network the same, so that a plan never builds or opens a dataset."""
    data = blank(dataset)
    device = resolve_device(str(context.device))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        trainer = Trainer.on(TrainConfig(model, dataset), data, device)
        draw = batches(trainer, data, device)
        fit(trainer, draw, until=1)
        start = time.perf_counter()
        fit(trainer, draw, until=1 + steps)
        if device.type == "cuda":
            torch.cuda.synchronize()  # kernels run asynchronously: wait for them before reading the clock
        return steps / (time.perf_counter() - start)
    finally:
        torch.set_num_threads(threads)


def blank(dataset: str) -> StoredData | UnlabelledData:
    """Dataset `dataset` with every image black: its grid (one image's memory, broadcast over it), or for a
    dataset without factors, one image; the probe trains on it without building anything."""
    spec = lookup(DATASETS, dataset, "dataset")
    image = np.zeros((1, *spec.observation_shape), np.uint8)
    if not spec.has_factors:
        return UnlabelledData(spec, image, "blank")
    return StoredData(spec, "original", np.broadcast_to(image, (len(spec.grid), *spec.observation_shape)), "blank")


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def _estimate(measured: dict, todo: list, later: list, context: Context) -> str:
    if context.backend != "local":  # the workers' number and device are the cluster's, not this machine's
        return (f"{len(todo)} line-search runs and {len(later)} variant runs left for the cluster's workers "
                f"(no time estimate with --backend {context.backend})")
    models = {key[0] for key in todo + later}
    return (
        f"estimated time left with {context.jobs} worker(s) on {context.device}: line search "
        f"{_duration(estimate_seconds(todo, measured, context))}, then variants "
        f"{_duration(estimate_seconds(later, measured, context))} (run times of "
        f"{len({k[0] for k in measured['runs']} & models)} of {len(models)} models measured in finished runs, the "
        f"rest from a 3-step training probe{' plus measured evaluation' if measured['evaluation'] else ''})")
