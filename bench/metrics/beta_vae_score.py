"""BetaVAE score (Higgins et al. 2017), as disentanglement_lib: each point fixes one random factor across two
batches of 64, and its feature is the mean |z1 - z2|; a logistic regression predicts the fixed factor.
Defaults encode (10,000 + 5,000) x 128 images: opt-in in suites.
"""

import numpy as np
from sklearn.linear_model import LogisticRegression

from bench.metrics.checks import finite_codes


def _points(sample_codes, sample_factors, num_factors, n, batch, rng):
    labels = np.empty(n, dtype=np.int64)
    features = []
    for i in range(n):
        k = int(rng.integers(num_factors))
        f1, f2 = sample_factors(batch, rng), sample_factors(batch, rng)
        f2[:, k] = f1[:, k]
        features.append(np.mean(np.abs(sample_codes(f1) - sample_codes(f2)), axis=0))
        labels[i] = k
    return np.stack(features), labels


def beta_vae_score(sample_codes, sample_factors, num_factors: int, rng: np.random.Generator, *,
                   batch_size: int = 64, num_train: int = 10_000, num_eval: int = 5_000) -> dict:
    sample_codes = finite_codes(sample_codes)
    x_train, y_train = _points(sample_codes, sample_factors, num_factors, num_train, batch_size, rng)
    x_eval, y_eval = _points(sample_codes, sample_factors, num_factors, num_eval, batch_size, rng)
    model = LogisticRegression(random_state=int(rng.integers(2**31))).fit(x_train, y_train)
    return {"beta_vae_train": float(np.mean(model.predict(x_train) == y_train)),
            "beta_vae_eval": float(np.mean(model.predict(x_eval) == y_eval))}
