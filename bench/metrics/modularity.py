"""Modularity and explicitness (Ridgeway and Mozer 2018), as disentanglement_lib.

Modularity: from the discretised MI matrix, 1 - (sum of squared MI of a code beyond its best factor) /
(best squared MI x (K - 1)), averaged over codes (0 for a code with no information). Explicitness: per factor
the one-vs-rest ROC AUC of a logistic regression on the standardised codes, averaged over factors.

Two edge cases differ from disentanglement_lib. A constant code dimension is standardised with std 1 (it stays 0
and adds nothing) where disentanglement_lib divides by zero and fails: a collapsed latent is common, and the other
dimensions still have an explicitness. A factor value drawn in only one of train and test is a one-line error
(disentanglement_lib raises, or silently misaligns the AUC's columns when both sets have as many values).
"""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import label_binarize

from bench.metrics.checks import MetricInputError, check_codes_factors
from bench.metrics.information import discrete_mutual_info, histogram_discretize
from bench.metrics.parallel import parallel_map


def modularity_from_mi(mi: np.ndarray) -> float:
    squared = np.square(mi)
    best = squared.max(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = 1.0 - (squared.sum(axis=1) - best) / (best * (squared.shape[1] - 1.0))
    score[best == 0.0] = 0.0
    return float(np.mean(score))


def _auc(x, y, classes):
    return roc_auc_score(label_binarize(y, classes=classes) if len(classes) > 2 else y,
                         x if len(classes) > 2 else x[:, 1])


def _explicitness(train, y_train, test, y_test):
    clf = LogisticRegression().fit(train, y_train)
    return _auc(clf.predict_proba(train), y_train, clf.classes_), _auc(clf.predict_proba(test), y_test, clf.classes_)


def _check_same_values(factors_train, factors_test):
    """A value missing from test has no positives, so its one-vs-rest AUC is undefined; one missing from train
    has no column in the classifier's output."""
    for k in range(factors_train.shape[1]):
        only = np.setxor1d(factors_train[:, k], factors_test[:, k])
        if only.size:
            raise MetricInputError(f"factor {k} takes value(s) {only.tolist()} in only one of train and test points, "
                                   "so explicitness is undefined; draw more points (num_train, num_test)")


def modularity_explicitness(codes_train, factors_train, codes_test, factors_test, *, num_bins: int = 20,
                            n_jobs: int | None = None) -> dict:
    codes_train, factors_train = check_codes_factors(codes_train, factors_train, min_points=num_bins)
    codes_test, factors_test = check_codes_factors(codes_test, factors_test)
    _check_same_values(factors_train, factors_test)
    mi = discrete_mutual_info(histogram_discretize(codes_train, num_bins), factors_train)
    mean, std = codes_train.mean(axis=0), codes_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)  # a constant dim stays 0 (see the top)
    train, test = (codes_train - mean) / std, (codes_test - mean) / std
    jobs = [(train, factors_train[:, k], test, factors_test[:, k]) for k in range(factors_train.shape[1])]
    aucs = np.array(parallel_map(_explicitness, jobs, n_jobs))
    return {"modularity": modularity_from_mi(mi), "explicitness_train": float(aucs[:, 0].mean()),
            "explicitness_test": float(aucs[:, 1].mean())}
