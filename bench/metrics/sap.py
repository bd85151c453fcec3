"""Separated Attribute Predictability (Kumar et al. 2018), as disentanglement_lib with discrete factors: for each
(code dimension, factor) the test accuracy of LinearSVC(C=0.01, class_weight="balanced") on that one dimension;
the mean over factors of the gap between the two best dimensions. With `continuous_factors` (disentanglement_lib's
`continuous_factors=True`; the study uses the discrete form) the score of a pair is instead the squared correlation
of code and factor on the training points, 0 for a code of variance <= 1e-12; the test points go unused.

A limit of the definition: a 1-D linear classifier can only cut a code into ordered intervals one-vs-rest, so a
perfect code of a factor with many values still scores far below 1.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC

from bench.metrics.checks import check_codes_factors
from bench.metrics.parallel import classes_per_factor as _classes, parallel_map


def _accuracy(codes_train, factors_train, codes_test, factors_test, C, d, k) -> float:
    """Test accuracy of the 1-D classifier of code dimension d for factor k."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # as in disentanglement_lib, which ignores it too
        clf = LinearSVC(C=C, class_weight="balanced").fit(codes_train[:, d:d + 1], factors_train[:, k])
    return float(np.mean(clf.predict(codes_test[:, d:d + 1]) == factors_test[:, k]))


def _squared_correlations(codes, factors) -> np.ndarray:
    """(codes, factors) matrix of cov^2 / (var_code var_factor), in float64 and with ddof=1 as np.cov computes it."""
    c, y = codes - codes.mean(axis=0, dtype=np.float64), factors - factors.mean(axis=0)
    n = len(codes) - 1
    var_c, var_y = np.sum(c**2, axis=0) / n, np.sum(y**2, axis=0) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.square(c.T @ y / n) / np.outer(var_c, var_y)
    return np.where((var_c > 1e-12)[:, None], ratio, 0.0)


def _accuracies(codes_train, factors_train, codes_test, factors_test, C, n_jobs) -> np.ndarray:
    dims, factors = codes_train.shape[1], factors_train.shape[1]
    pairs = [(d, k) for d in range(dims) for k in range(factors)]
    # One job per pair, not per factor: a 40-class factor would otherwise hold one worker while the other idles.
    # Processes, not threads: about a third of each fit is Python that holds the GIL. The arrays travel once per
    # worker, not once per pair.
    classes = _classes(factors_train)
    scores = parallel_map(_accuracy, pairs, n_jobs, costs=[classes[k] for _, k in pairs],
                          shared=(codes_train, factors_train, codes_test, factors_test, C))
    return np.array(scores).reshape(dims, factors)  # (codes, factors)


def sap(codes_train, factors_train, codes_test, factors_test, *, C: float = 0.01, continuous_factors: bool = False,
        n_jobs: int | None = None) -> dict:
    codes_train, factors_train = check_codes_factors(codes_train, factors_train)
    codes_test, factors_test = check_codes_factors(codes_test, factors_test)
    matrix = (_squared_correlations(codes_train, factors_train) if continuous_factors
              else _accuracies(codes_train, factors_train, codes_test, factors_test, C, n_jobs))
    top = np.sort(matrix, axis=0)
    return {"sap": float(np.mean(top[-1] - top[-2])), "sap_matrix": matrix.tolist()}
