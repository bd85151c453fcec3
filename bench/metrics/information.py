"""Discrete information measures as disentanglement_lib computes them, vectorised over all (code, factor) pairs.

Codes are discretised per dimension into equal-width histogram bins (np.histogram edges, then np.digitize
against all but the last edge, giving bins 1..num_bins). Mutual information is in nats, with the same formula as
sklearn.metrics.mutual_info_score, from contingency tables built with one bincount per factor.
"""

import numpy as np


def histogram_edges(codes: np.ndarray, num_bins: int) -> np.ndarray:
    """Per-dimension bin edges (num_bins + 1, D), the floats np.histogram(codes[:, d], num_bins) uses."""
    lo, hi = codes.min(axis=0), codes.max(axis=0)
    flat = lo == hi
    lo, hi = np.where(flat, lo - 0.5, lo), np.where(flat, hi + 0.5, hi)
    return np.linspace(lo, hi, num_bins + 1, endpoint=True, axis=0)


def histogram_discretize(codes: np.ndarray, num_bins: int = 20) -> np.ndarray:
    """(N, D) float -> (N, D) int bins in 1..num_bins, equal to np.digitize(x, np.histogram(x, num_bins)[1][:-1])
    per dimension: a floor estimate, corrected by one step against the exact edges where rounding misplaced it."""
    edges = histogram_edges(codes, num_bins)
    lo, width = edges[0], edges[-1] - edges[0]
    idx = np.clip(np.floor((codes - lo) / width * num_bins).astype(np.int64), 0, num_bins - 1)
    cols = np.arange(codes.shape[1])
    idx -= codes < edges[idx, cols]
    idx += (codes >= edges[idx + 1, cols]) & (idx < num_bins - 1)  # the last bin is closed, as in digitize
    return idx + 1


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
    cells = bins + (np.arange(dims) * num_bins)[None, :]  # (code dim, bin) as one index
    for k in range(factors.shape[1]):
        y = factors[:, k]
        classes = int(y.max()) + 1  # classes are indices; empty ones add nothing to the MI
        flat = (cells * classes + y[:, None]).ravel()
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
