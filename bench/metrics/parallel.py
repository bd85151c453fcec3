"""Per-factor work in parallel: the factors of a metric are independent fits."""

import os

from joblib import Parallel, delayed


def map_factors(fn, args_per_factor, n_jobs: int | None = None, costs=None, backend: str = "loky") -> list:
    """[fn(*args) for args in args_per_factor], in parallel; results keep the input order.

    Jobs start longest first (by `costs`, e.g. a factor's number of classes), so a 40-class factor does not
    start last and leave the other worker idle. "threading" suits fits that release the GIL and are too short
    to pay for starting processes (liblinear); "loky" processes suit long fits that hold it in part (boosting).
    """
    # A single-threaded grid worker (BENCH_THREADS=1) fits its factors serially: the workers share the cores.
    n_jobs = n_jobs or min(len(args_per_factor), int(os.environ.get("BENCH_THREADS") or os.cpu_count() or 1))
    if n_jobs == 1:
        return [fn(*args) for args in args_per_factor]
    order = sorted(range(len(args_per_factor)), key=lambda i: -(costs[i] if costs is not None else 0))
    done = Parallel(n_jobs=n_jobs, backend=backend)(delayed(fn)(*args_per_factor[i]) for i in order)
    results = [None] * len(order)
    for i, result in zip(order, done):
        results[i] = result
    return results


def classes_per_factor(factors) -> list[int]:
    return (factors.max(axis=0) + 1).tolist()  # classes are indices
