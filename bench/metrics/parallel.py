"""Per-factor work in parallel: factors are independent, so each gets its own process (classifiers hold the GIL)."""

import os

from joblib import Parallel, delayed


def map_factors(fn, args_per_factor, n_jobs: int | None = None, costs=None) -> list:
    """[fn(*args) for args in args_per_factor], in parallel; results keep the input order.

    Jobs start longest first (by `costs`, e.g. a factor's number of classes), so a 40-class factor does not
    start last and leave the other worker idle.
    """
    n_jobs = n_jobs or min(len(args_per_factor), os.cpu_count() or 1)
    if n_jobs == 1:
        return [fn(*args) for args in args_per_factor]
    order = sorted(range(len(args_per_factor)), key=lambda i: -(costs[i] if costs is not None else 0))
    done = Parallel(n_jobs=n_jobs)(delayed(fn)(*args_per_factor[i]) for i in order)
    results = [None] * len(order)
    for i, result in zip(order, done):
        results[i] = result
    return results


def classes_per_factor(factors) -> list[int]:
    return [len(set(factors[:, k].tolist())) for k in range(factors.shape[1])]
