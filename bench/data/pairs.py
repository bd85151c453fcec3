"""Temporal pairs for Slow-VAE and PCL: the transition of bethgelab/slow_disentanglement (docs/datasets.md).

Each non-categorical factor steps by a discrete Laplace centred on its current value with scale
log(n_k) / rate, truncated to the grid and renormalised (no wrap-around). If no factor moved, one
non-categorical factor is redrawn from the same Laplace with the current value excluded.
"""

import numpy as np

from bench.data.grid import FactorGrid


def laplace_probs(current: np.ndarray, size: int, rate: float, exclude_current=False) -> np.ndarray:
    """Rows of transition probabilities (n, size) for factor values `current` (n,)."""
    scale = np.log(size) / rate
    dist = np.abs(np.arange(size)[None, :] - current[:, None])
    weights = np.exp(-dist / scale)
    if exclude_current:
        weights[dist == 0] = 0.0
    return weights / weights.sum(axis=1, keepdims=True)


def _draw(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    u = rng.random(len(probs))[:, None]
    return np.minimum((probs.cumsum(axis=1) < u).sum(axis=1), probs.shape[1] - 1)


def sample_pair_factors(grid: FactorGrid, n: int, rng: np.random.Generator, rate: float = 1.0):
    """(f_t, f_t1), each (n, K) factor classes; categorical factors are equal, and f_t1 != f_t."""
    f_t = grid.sample_factors(n, rng)
    f_t1 = f_t.copy()
    movable = [k for k, (size, cat) in enumerate(zip(grid.sizes, grid.categorical)) if not cat and size > 1]
    if not movable:
        raise ValueError("temporal pairs need at least one non-categorical factor with more than one value")
    for k in movable:
        f_t1[:, k] = _draw(laplace_probs(f_t[:, k], grid.sizes[k], rate), rng)
    stuck = np.flatnonzero((f_t1 == f_t).all(axis=1))
    chosen = np.asarray(movable)[rng.integers(0, len(movable), size=len(stuck))]
    for k in movable:
        rows = stuck[chosen == k]
        f_t1[rows, k] = _draw(laplace_probs(f_t[rows, k], grid.sizes[k], rate, exclude_current=True), rng)
    return f_t, f_t1
