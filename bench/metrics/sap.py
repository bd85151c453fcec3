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
from bench.metrics.parallel import classes_per_factor as _classes, map_factors


def _factor_scores(codes_train, y_train, codes_test, y_test, C):
    scores = np.empty(codes_train.shape[1])
    for d in range(codes_train.shape[1]):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # as in disentanglement_lib, which ignores it too
            clf = LinearSVC(C=C, class_weight="balanced").fit(codes_train[:, d:d + 1], y_train)
        scores[d] = np.mean(clf.predict(codes_test[:, d:d + 1]) == y_test)
    return scores


def sap(codes_train, factors_train, codes_test, factors_test, *, C: float = 0.01, n_jobs: int | None = None) -> dict:
    codes_train, factors_train = check_codes_factors(codes_train, factors_train)
    codes_test, factors_test = check_codes_factors(codes_test, factors_test)
    jobs = [(codes_train, factors_train[:, k], codes_test, factors_test[:, k], C)
            for k in range(factors_train.shape[1])]
    matrix = np.stack(map_factors(_factor_scores, jobs, n_jobs, costs=_classes(factors_train), backend="threading"), axis=1)  # (codes, factors)
    top = np.sort(matrix, axis=0)
    return {"sap": float(np.mean(top[-1] - top[-2])), "sap_matrix": matrix.tolist()}
