"""Independent fits of a metric (per factor, or per code dimension and factor) in parallel."""

import os

from joblib import Parallel, delayed


def _run_chunk(fn, chunk):
    return [fn(*args) for args in chunk]


def balanced_chunks(costs, n: int) -> list[list[int]]:
    """Job indices split into n groups of near-equal total cost: longest first, each to the lightest group."""
    groups, loads = [[] for _ in range(n)], [0.0] * n
    for i in sorted(range(len(costs)), key=lambda i: -costs[i]):
        g = loads.index(min(loads))
        groups[g].append(i)
        loads[g] += costs[i]
    return [g for g in groups if g]


def parallel_map(fn, jobs, n_jobs: int | None = None, costs=None, backend: str = "loky",
                 oversubscribe: bool = False) -> list:
    """[fn(*args) for args in jobs], in parallel; results keep the input order.

    Each worker gets one chunk of jobs balanced by `costs` (e.g. a factor's number of classes), so there are only
    n_jobs dispatches: the fits are often a few milliseconds, and per-job dispatch would cost more than they do.
    "threading" suits fits that release the GIL, "loky" processes long fits that hold it in part (boosting).

    `oversubscribe` starts one worker per job rather than one per core, for a few long jobs of unequal cost. The
    OS then time-slices them, which evens the load better than any split into as many groups as cores: DCI's
    dSprites factors cost 3, 6, 40, 32 and 32, and the best split over 2 cores leaves 64 of 113 on one.
    """
    cores = int(os.environ.get("BENCH_THREADS") or os.cpu_count() or 1)
    # A single-threaded grid worker (BENCH_THREADS=1) fits serially: the workers already share the cores.
    n_jobs = n_jobs or (1 if cores == 1 else len(jobs) if oversubscribe else min(len(jobs), cores))
    if n_jobs == 1:
        return [fn(*args) for args in jobs]
    chunks = balanced_chunks(costs if costs is not None else [1] * len(jobs), n_jobs)
    done = Parallel(n_jobs=n_jobs, backend=backend)(delayed(_run_chunk)(fn, [jobs[i] for i in c]) for c in chunks)
    results = [None] * len(jobs)
    for chunk, values in zip(chunks, done):
        for i, value in zip(chunk, values):
            results[i] = value
    return results


def classes_per_factor(factors) -> list[int]:
    return (factors.max(axis=0) + 1).tolist()  # classes are indices
