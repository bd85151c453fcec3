"""Input checks shared by the metrics: a bad input is a one-line error, never a silently wrong number."""

import numpy as np

from bench.errors import UserError


class MetricInputError(UserError):
    pass


def require_finite(codes: np.ndarray) -> np.ndarray:
    if not np.isfinite(codes).all():
        raise MetricInputError("codes contain NaN or inf (a diverged model?); metrics are undefined for them")
    return codes


def finite_codes(sample_codes):
    """`sample_codes` checked on every batch it encodes: the sampled scores encode thousands of batches, and one
    NaN row would only tip a vote or two, so checking one batch lets a silently wrong score through."""
    return lambda factors: require_finite(sample_codes(factors))


def check_codes_factors(codes, factors, min_points: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """codes (N, D) float, factors (N, K) integer classes; returns them as arrays. Float codes keep their dtype:
    disentanglement_lib bins in the input's dtype, and a float32 bin edge is not the float64 one."""
    codes, factors = np.asarray(codes), np.asarray(factors)
    codes = codes.astype(np.result_type(codes.dtype, np.float32), copy=False)  # integers: a float that holds them
    if codes.ndim != 2 or factors.ndim != 2:
        raise MetricInputError(f"codes and factors must be 2-D (points x dims), got {codes.shape} and {factors.shape}")
    if len(codes) != len(factors):
        raise MetricInputError(f"codes have {len(codes)} points but factors have {len(factors)}; pass matching arrays")
    require_finite(codes)
    if len(codes) < min_points:
        raise MetricInputError(f"{len(codes)} points are too few; this metric needs at least {min_points}")
    if not np.issubdtype(factors.dtype, np.integer) or (factors < 0).any():
        raise MetricInputError("factors must be non-negative integer class indices (dataset.sample_factors gives them)")
    single = np.flatnonzero(factors.min(axis=0) == factors.max(axis=0)).tolist()
    if single:
        raise MetricInputError(f"factor(s) {single} take a single value in these points; they carry no information, "
                               "so drop them or sample more points")
    return codes, factors
