"""FactorVAE score (Kim and Mnih 2018), as disentanglement_lib: codes scaled by their global standard deviation
(estimated on 10,000 points, dims with standard deviation < 0.05 pruned); each vote fixes one random factor over
a batch of 64 and votes (factor, code dim of least scaled variance); a majority-vote classifier's accuracy.
Defaults encode (10,000 + 5,000) x 64 + 10,000 images: opt-in in suites.

`factor_vae_active_dims` is the number of dims kept; disentanglement_lib reports the length of its boolean mask,
which is every dim.
"""

import numpy as np

from bench.metrics.checks import finite_codes


def _votes(sample_codes, sample_factors_fixed, num_factors, global_var, active, n, batch, rng):
    votes = np.zeros((num_factors, int(active.sum())), dtype=np.int64)
    for _ in range(n):
        k = int(rng.integers(num_factors))
        codes = sample_codes(sample_factors_fixed(k, batch, rng))
        local = np.var(codes, axis=0, ddof=1)
        votes[k, np.argmin(local[active] / global_var[active])] += 1
    return votes


def factor_vae_score(sample_codes, sample_factors, num_factors: int, rng: np.random.Generator, *,
                     batch_size: int = 64, num_train: int = 10_000, num_eval: int = 5_000,
                     num_variance_estimate: int = 10_000, prune_threshold: float = 0.05) -> dict:
    """`sample_codes(factors) -> codes (n, D)`; `sample_factors(n, rng) -> classes (n, K)`. `prune_threshold`
    is on the standard deviation, as disentanglement_lib's `prune_dims.threshold`."""
    sample_codes = finite_codes(sample_codes)
    global_var = np.var(sample_codes(sample_factors(num_variance_estimate, rng)), axis=0, ddof=1)
    active = np.sqrt(global_var) >= prune_threshold
    if not active.any():
        return {"factor_vae_train": 0.0, "factor_vae_eval": 0.0, "factor_vae_active_dims": 0}

    def fixed(k, n, rng):
        f = sample_factors(n, rng)
        f[:, k] = f[0, k]
        return f

    train = _votes(sample_codes, fixed, num_factors, global_var, active, num_train, batch_size, rng)
    classifier = np.argmax(train, axis=0)
    cols = np.arange(train.shape[1])
    evaluation = _votes(sample_codes, fixed, num_factors, global_var, active, num_eval, batch_size, rng)
    return {"factor_vae_train": float(train[classifier, cols].sum() / train.sum()),
            "factor_vae_eval": float(evaluation[classifier, cols].sum() / evaluation.sum()),
            "factor_vae_active_dims": int(active.sum())}
