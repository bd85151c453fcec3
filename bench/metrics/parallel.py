"""Independent fits of a metric (per factor, or per code dimension and factor) in parallel."""

import functools
import os

from joblib.externals.loky import ProcessPoolExecutor


@functools.cache
def _workers(count: int) -> ProcessPoolExecutor:
    """A pool kept for the process's life, so only the first metric pays for starting it. It is our own, not
    loky's shared one: joblib (the grid runner) resizes that one and expects its own type there."""
    return ProcessPoolExecutor(max_workers=count)


def _run_chunk(fn, shared, chunk):
    return [fn(*shared, *args) for args in chunk]


def balanced_chunks(costs, n: int) -> list[list[int]]:
    """Job indices split into n groups of near-equal total cost: longest first, each to the lightest group."""
    groups, loads = [[] for _ in range(n)], [0.0] * n
    for i in sorted(range(len(costs)), key=lambda i: -costs[i]):
        g = loads.index(min(loads))
        groups[g].append(i)
        loads[g] += costs[i]
    return [g for g in groups if g]


def parallel_map(fn, jobs, n_jobs: int | None = None, costs=None, oversubscribe: bool = False,
                 shared: tuple = ()) -> list:
    """[fn(*shared, *args) for args in jobs], in parallel; results keep the input order.

    n_jobs processes, the calling one included, each take one chunk of jobs balanced by `costs` (e.g. a factor's
    number of classes): the fits are often a few milliseconds, and per-job dispatch would cost more than they do.
    Processes, not threads: even LinearSVC, whose solver releases the GIL, spends a third of a fit in Python.

    `oversubscribe` is for a few long jobs of unequal cost that no split into one group per core balances:
    DCI's dSprites factors take 3, 7, 46, 38 and 38 s here, and the best split leaves 76 of 133 s on one core.
    Where the best split is more than 5% off even, it runs one process more than there are cores and hands out
    jobs one at a time, longest first. The OS time-slices the extra process, so the cores stay busy until the
    last job is almost done. Where the split is even (Shapes3D's factors), the extra process only costs.

    `shared` arguments travel once per chunk, not once per job.
    """
    cores = int(os.environ.get("BENCH_THREADS") or os.cpu_count() or 1)
    costs = costs if costs is not None else [1] * len(jobs)
    # A single-threaded grid worker (BENCH_THREADS=1) fits serially: the workers already share the cores.
    oversubscribe = oversubscribe and n_jobs is None  # an explicit n_jobs is taken as the most workers wanted
    n_jobs = min(len(jobs), n_jobs or (1 if cores == 1 else cores))
    if n_jobs == 1:
        return _run_chunk(fn, shared, jobs)
    chunks = balanced_chunks(costs, n_jobs)
    if oversubscribe and max(sum(costs[i] for i in c) for c in chunks) > 1.05 * sum(costs) / n_jobs:
        chunks, n_jobs = [[i] for i in sorted(range(len(jobs)), key=lambda i: -costs[i])], n_jobs + 1
    # The calling process takes the first chunk itself while the workers take the rest, in order: one worker
    # and one round trip fewer than a pool of n_jobs, which is most of the gain on a metric that takes 0.1 s.
    others = [_workers(n_jobs - 1).submit(_run_chunk, fn, shared, [jobs[i] for i in c]) for c in chunks[1:]]
    done = [_run_chunk(fn, shared, [jobs[i] for i in chunks[0]]), *(f.result() for f in others)]
    results = [None] * len(jobs)
    for chunk, values in zip(chunks, done):
        for i, value in zip(chunk, values):
            results[i] = value
    return results


def classes_per_factor(factors) -> list[int]:
    return (factors.max(axis=0) + 1).tolist()  # classes are indices
