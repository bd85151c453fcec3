"""Modularity and explicitness (Ridgeway and Mozer 2018), as disentanglement_lib.

Modularity: from the discretised MI matrix, 1 - (sum of squared MI of a code beyond its best factor) /
(best squared MI x (K - 1)), averaged over codes (0 for a code with no information). Explicitness: per factor
the one-vs-rest ROC AUC of a logistic regression on the standardised codes, averaged over factors.
"""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import label_binarize

from bench.metrics.checks import check_codes_factors
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
    classes = clf.classes_
    keep = np.isin(y_test, classes)
    return _auc(clf.predict_proba(train), y_train, classes), _auc(clf.predict_proba(test[keep]), y_test[keep], classes)


def modularity_explicitness(codes_train, factors_train, codes_test, factors_test, *, num_bins: int = 20,
                            n_jobs: int | None = None) -> dict:
    codes_train, factors_train = check_codes_factors(codes_train, factors_train, min_points=num_bins)
    codes_test, factors_test = check_codes_factors(codes_test, factors_test)
    mi = discrete_mutual_info(histogram_discretize(codes_train, num_bins), factors_train)
    mean, std = codes_train.mean(axis=0), codes_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    train, test = (codes_train - mean) / std, (codes_test - mean) / std
    jobs = [(train, factors_train[:, k], test, factors_test[:, k]) for k in range(factors_train.shape[1])]
    aucs = np.array(parallel_map(_explicitness, jobs, n_jobs))
    return {"modularity": modularity_from_mi(mi), "explicitness_train": float(aucs[:, 0].mean()),
            "explicitness_test": float(aucs[:, 1].mean())}
