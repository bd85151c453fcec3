"""DCI (Eastwood and Williams 2018), as disentanglement_lib: one GradientBoostingClassifier (sklearn defaults)
per factor gives the importance matrix R (codes x factors); disentanglement weighs each code's 1 - entropy of its
row, completeness each factor's 1 - entropy of its column, informativeness is the classifiers' accuracy.

disentanglement_lib leaves the classifier unseeded (sklearn permutes features at every split), so its DCI varies
slightly run to run; we pass random_state=0 so the same codes give the same score.
"""

import numpy as np
import scipy.stats
from sklearn.ensemble import GradientBoostingClassifier

from bench.metrics.checks import check_codes_factors
from bench.metrics.parallel import classes_per_factor as _classes, parallel_map


def _fit_factor(codes_train, y_train, codes_test, y_test, seed):
    model = GradientBoostingClassifier(random_state=seed).fit(codes_train, y_train)
    return (np.abs(model.feature_importances_), np.mean(model.predict(codes_train) == y_train),
            np.mean(model.predict(codes_test) == y_test))


def _weighted_one_minus_entropy(matrix: np.ndarray) -> float:
    """sum_i rho_i (1 - H_K(row_i)), rows weighted by their share of the total importance."""
    per_row = 1.0 - scipy.stats.entropy(matrix.T + 1e-11, base=matrix.shape[1])
    if matrix.sum() == 0.0:
        matrix = np.ones_like(matrix)
    weights = matrix.sum(axis=1) / matrix.sum()
    return float(np.sum(per_row * weights))


def importance_scores(importance: np.ndarray) -> dict:
    return {"dci_disentanglement": _weighted_one_minus_entropy(importance),
            "dci_completeness": _weighted_one_minus_entropy(importance.T)}


def dci(codes_train, factors_train, codes_test, factors_test, *, seed: int = 0, n_jobs: int | None = None) -> dict:
    codes_train, factors_train = check_codes_factors(codes_train, factors_train)
    codes_test, factors_test = check_codes_factors(codes_test, factors_test)
    jobs = [(codes_train, factors_train[:, k], codes_test, factors_test[:, k], seed)
            for k in range(factors_train.shape[1])]
    results = parallel_map(_fit_factor, jobs, n_jobs, costs=_classes(factors_train), oversubscribe=True)
    importance = np.stack([r[0] for r in results], axis=1)  # (codes, factors)
    return {**importance_scores(importance),
            "dci_informativeness_train": float(np.mean([r[1] for r in results])),
            "dci_informativeness_test": float(np.mean([r[2] for r in results])),
            "dci_importance": importance.tolist()}
