"""Mutual Information Gap (Chen et al. 2018), as disentanglement_lib: 20 equal-width bins per code dimension,
MI normalised by each factor's entropy, the mean over factors of the gap between the top two codes.

A limit of the definition, kept rather than fixed: with 20 bins a code cannot hold all the information of a
factor with more than 20 values (dSprites' orientation 40, positions 32), so even a perfect code scores < 1 on
those factors.
"""

import numpy as np

from bench.metrics.checks import MetricInputError, check_codes_factors
from bench.metrics.information import discrete_entropy, discrete_mutual_info, histogram_discretize


def mig(codes, factors, *, num_bins: int = 20) -> dict:
    codes, factors = check_codes_factors(codes, factors, min_points=num_bins)
    if codes.shape[1] < 2:
        raise MetricInputError("MIG needs at least 2 code dimensions (it is a gap between the top two)")
    mi = discrete_mutual_info(histogram_discretize(codes, num_bins), factors)
    entropy = discrete_entropy(factors)
    top = np.sort(mi, axis=0)[::-1]
    per_factor = (top[0] - top[1]) / entropy
    return {"mig": float(per_factor.mean()), "mig_per_factor": per_factor.tolist(),
            "mutual_information": mi.tolist()}
