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


def _accuracy(codes_train, factors_train, codes_test, factors_test, C, d, k) -> float:
    """Test accuracy of the 1-D classifier of code dimension d for factor k."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # as in disentanglement_lib, which ignores it too
        clf = LinearSVC(C=C, class_weight="balanced").fit(codes_train[:, d:d + 1], factors_train[:, k])
    return float(np.mean(clf.predict(codes_test[:, d:d + 1]) == factors_test[:, k]))


def sap(codes_train, factors_train, codes_test, factors_test, *, C: float = 0.01, n_jobs: int | None = None) -> dict:
    codes_train, factors_train = check_codes_factors(codes_train, factors_train)
    codes_test, factors_test = check_codes_factors(codes_test, factors_test)
    dims, factors = codes_train.shape[1], factors_train.shape[1]
    pairs = [(d, k) for d in range(dims) for k in range(factors)]
    # One job per pair, not per factor: a 40-class factor would otherwise hold one worker while the other idles.
    # Processes, not threads: about a third of each fit is Python that holds the GIL. The arrays travel once per
    # worker, not once per pair.
    classes = _classes(factors_train)
    scores = parallel_map(_accuracy, pairs, n_jobs, costs=[classes[k] for _, k in pairs],
                          shared=(codes_train, factors_train, codes_test, factors_test, C))
    matrix = np.array(scores).reshape(dims, factors)  # (codes, factors)
    top = np.sort(matrix, axis=0)
    return {"sap": float(np.mean(top[-1] - top[-2])), "sap_matrix": matrix.tolist()}
