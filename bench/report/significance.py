"""The tests behind the verdicts, on plain arrays: paired t and exact sign-flip tests of per-seed differences,
Welch's test of unpaired runs, both one-sided or as two one-sided tests of equivalence (TOST), and Holm's
step-down correction over a family."""

import numpy as np
from scipy import stats


def sides(kind: str, margin: float) -> list[tuple[float, str]]:
    """The one-sided tests a claim needs, as (shift, alternative) on a mean difference: "greater" is one test
    against 0; "equivalent" is TOST, mean > -margin and mean < margin, and holds only if both reject."""
    if kind == "greater":
        return [(0.0, "greater")]
    if kind == "equivalent":
        return [(-margin, "greater"), (margin, "less")]
    raise ValueError(f"unknown contrast kind {kind!r}")


def paired_t(d: np.ndarray, kind: str, margin: float) -> float:
    """One-sample t-test of the differences, which is scipy's ttest_rel of the two arms; TOST takes the larger p."""
    return max(float(stats.ttest_1samp(d, shift, alternative=alt).pvalue) for shift, alt in sides(kind, margin))


def sign_flip(d: np.ndarray, kind: str, margin: float) -> float:
    """The exact permutation analogue of `paired_t`: under no effect each difference's sign is a fair coin."""
    return max(sign_flip_p(d - shift, alt) for shift, alt in sides(kind, margin))


def sign_flip_p(d: np.ndarray, alternative: str = "greater") -> float:
    """Fraction of all 2^n sign patterns of d whose sum is >= the observed sum (<= for "less"). The sums are
    built by doubling, 2^n numbers in memory (fine up to n ~ 24)."""
    sums = np.zeros(1)
    for x in np.asarray(d, float):
        sums = np.concatenate([sums + x, sums - x])
    observed = float(np.sum(d))
    # The observed pattern and its ties must count, though the doubling adds in another order.
    slack = 1e-12 * max(1.0, float(np.abs(d).sum()))
    hits = sums >= observed - slack if alternative == "greater" else sums <= observed + slack
    return float(hits.mean())


def welch(a: np.ndarray, b: np.ndarray, kind: str, margin: float) -> float:
    """Welch's unequal-variance t-test of mean(a) - mean(b); TOST takes the larger p."""
    return max(float(stats.ttest_ind(a, b + shift, equal_var=False, alternative=alt).pvalue)
               for shift, alt in sides(kind, margin))


def mean_ci(d: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The t-based confidence interval of the mean of d."""
    half = stats.t.ppf((1 + level) / 2, len(d) - 1) * np.std(d, ddof=1) / np.sqrt(len(d))
    return float(np.mean(d) - half), float(np.mean(d) + half)


def cohens_dz(d: np.ndarray) -> float:
    """Paired effect size: mean difference over the differences' standard deviation."""
    return _ratio(np.mean(d), np.std(d, ddof=1))


def cohens_d(a: np.ndarray, b: np.ndarray) -> float:
    """Unpaired effect size: mean difference over the pooled standard deviation."""
    return _ratio(np.mean(a) - np.mean(b), np.sqrt((np.var(a, ddof=1) + np.var(b, ddof=1)) / 2))


def _ratio(difference: float, spread: float) -> float:
    if spread > 0:
        return float(difference / spread)
    return float(np.sign(difference) * np.inf) if difference else float("nan")


def holm(p) -> np.ndarray:
    """Holm's step-down adjusted p-values. A missing p (NaN: a contrast without enough runs) stays missing but
    still counts in the family's size, as declared, so dropping a contrast never loosens the others."""
    p = np.asarray(p, float)
    filled = np.nan_to_num(p, nan=1.0)
    order = np.argsort(filled, kind="stable")
    steps = (len(p) - np.arange(len(p))) * filled[order]
    adjusted = np.empty_like(filled)
    adjusted[order] = np.minimum(1.0, np.maximum.accumulate(steps))
    return np.where(np.isnan(p), np.nan, adjusted)
