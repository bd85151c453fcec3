"""Discrete information measures as disentanglement_lib computes them, vectorised over all (code, factor) pairs.

Codes are discretised per dimension into equal-width histogram bins (np.histogram edges, then np.digitize
against all but the last edge, giving bins 1..num_bins). Mutual information is in nats, with the same formula as
sklearn.metrics.mutual_info_score, from contingency tables built with one bincount per factor.
"""

import numpy as np


def histogram_edges(x: np.ndarray, num_bins: int) -> np.ndarray:
    """The bin edges np.histogram(x, num_bins) uses, without counting (identical floats)."""
    lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    return np.linspace(lo, hi, num_bins + 1, endpoint=True)


def histogram_discretize(codes: np.ndarray, num_bins: int = 20) -> np.ndarray:
    """(N, D) float -> (N, D) int bins in 1..num_bins, per dimension over its own range."""
    out = np.empty(codes.shape, dtype=np.int64)
    for d in range(codes.shape[1]):
        # np.digitize(x, edges[:-1]) is searchsorted(..., side="right") on sorted edges.
        out[:, d] = np.searchsorted(histogram_edges(codes[:, d], num_bins)[:-1], codes[:, d], side="right")
    return out


def _mi_from_counts(counts: np.ndarray) -> np.ndarray:
    """Mutual information of each contingency table in a stack (..., A, B) of counts."""
    n = counts.sum(axis=(-2, -1), keepdims=True)
    pa = counts.sum(axis=-1, keepdims=True)
    pb = counts.sum(axis=-2, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(counts > 0, counts / n * np.log(counts * n / (pa * pb)), 0.0)
    return np.clip(terms.sum(axis=(-2, -1)), 0.0, None)


def discrete_mutual_info(bins: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """MI matrix (D codes, K factors) between discretised codes (N, D) and factor classes (N, K)."""
    n, dims = bins.shape
    num_bins = int(bins.max()) + 1
    out = np.empty((dims, factors.shape[1]))
    offsets = (np.arange(dims) * num_bins)[None, :]
    for k in range(factors.shape[1]):
        y = factors[:, k]
        classes = int(y.max()) + 1  # classes are indices; empty ones add nothing to the MI
        flat = ((bins + offsets) * classes + y[:, None]).ravel()
        counts = np.bincount(flat, minlength=dims * num_bins * classes).reshape(dims, num_bins, classes)
        out[:, k] = _mi_from_counts(counts.astype(np.float64))
    return out


def discrete_entropy(factors: np.ndarray) -> np.ndarray:
    """Entropy (nats) of each factor's empirical class distribution, (K,)."""
    out = np.empty(factors.shape[1])
    for k in range(factors.shape[1]):
        counts = np.bincount(factors[:, k])
        p = counts[counts > 0] / len(factors)
        out[k] = -(p * np.log(p)).sum()
    return out
