"""A suite's plan before it runs: how many runs are done, failed and left in each stage, and the time left,
from finished runs' measured times where there are any and a short training probe where there are none."""

import time
from collections import Counter

import numpy as np
import torch

from bench.context import Context
from bench.runs import Run, load_records, search_runs, settled, status, variant_runs
from bench.suites import Profile, chosen_values
from bench.train import Trainer, TrainConfig, batches, fit, resolve_device
from bench.variants import get


def plan(runs: list[Run], results) -> Counter:
    return Counter(status(r, results) for r in runs)


def describe(suite: str, profile: Profile, context: Context, retry_failed: bool = False) -> list[str]:
    """How many runs are done and left in each stage, and the time left. The second stage's values are known
    only once the line search is settled; until then its runs are counted with placeholder values. A failed run
    is work left only when it will be retried."""
    results = context.results
    search = search_runs(suite, profile)
    counts = plan(search, results)
    records = load_records(search, results)
    searched = all(settled(r, results, retry_failed) for r in search)
    values = chosen_values(profile, records) if searched else {
        (m, d): None for m in profile.models for d in profile.datasets}
    variants = variant_runs(suite, profile, values)
    todo, later = ([_work(r) for r in runs if not settled(r, results, retry_failed)] for runs in (search, variants))
    head = (f"{suite}/{profile.name}: {len(search) + len(variants)} runs of {profile.steps} steps: line search "
            f"{len(search)} ({', '.join(f'{n} {k}' for k, n in sorted(counts.items()))}), then {len(variants)} on "
            f"{', '.join(profile.compared_variants())} with the chosen values"
            f"{f' ({len(later)} left)' if searched else ''}")
    return [head, _estimate(measured_seconds(records), todo, later, context) if todo or later
            else "nothing left to run"]


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
    one step that pays for the first allocations."""
    data = get(dataset, "original", context.data_root)
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


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def _estimate(measured: dict, todo: list, later: list, context: Context) -> str:
    models = {key[0] for key in todo + later}
    return (
        f"estimated time left with {context.jobs} worker(s) on {context.device}: line search "
        f"{_duration(estimate_seconds(todo, measured, context))}, then variants "
        f"{_duration(estimate_seconds(later, measured, context))} (run times of "
        f"{len({k[0] for k in measured['runs']} & models)} of {len(models)} models measured in finished runs, the "
        f"rest from a 3-step training probe{' plus measured evaluation' if measured['evaluation'] else ''})")
