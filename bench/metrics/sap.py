"""Separated Attribute Predictability (Kumar et al. 2018), as disentanglement_lib with discrete factors: for each
(code dimension, factor) the test accuracy of LinearSVC(C=0.01, class_weight="balanced") on that one dimension;
the mean over factors of the gap between the two best dimensions.

A limit of the definition: a 1-D linear classifier can only cut a code into ordered intervals one-vs-rest, so a
perfect code of a factor with many values still scores far below 1.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC

from bench.metrics.checks import check_codes_factors
from bench.metrics.parallel import classes_per_factor as _classes, parallel_map


def _accuracy(code_train, y_train, code_test, y_test, C) -> float:
    """Test accuracy of the 1-D classifier of one (code dimension, factor) pair."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # as in disentanglement_lib, which ignores it too
        clf = LinearSVC(C=C, class_weight="balanced").fit(code_train[:, None], y_train)
    return float(np.mean(clf.predict(code_test[:, None]) == y_test))


def sap(codes_train, factors_train, codes_test, factors_test, *, C: float = 0.01, n_jobs: int | None = None) -> dict:
    codes_train, factors_train = check_codes_factors(codes_train, factors_train)
    codes_test, factors_test = check_codes_factors(codes_test, factors_test)
    dims, factors = codes_train.shape[1], factors_train.shape[1]
    pairs = [(d, k) for d in range(dims) for k in range(factors)]
    jobs = [(codes_train[:, d], factors_train[:, k], codes_test[:, d], factors_test[:, k], C) for d, k in pairs]
    # One job per pair, not per factor: a 40-class factor would otherwise hold one thread while the other idles.
    classes = _classes(factors_train)
    scores = parallel_map(_accuracy, jobs, n_jobs, costs=[classes[k] for _, k in pairs], backend="threading")
    matrix = np.array(scores).reshape(dims, factors)  # (codes, factors)
    top = np.sort(matrix, axis=0)
    return {"sap": float(np.mean(top[-1] - top[-2])), "sap_matrix": matrix.tolist()}
