"""The paper's claims as verdicts with their statistics, only where the runs allow them.

1. Each VAE's MIG drops on modified data: one-sided Welch t-test, original > modified, with Cohen's d.
2. PCL's MIG is unchanged: two-sided Welch test not significant and the means within 0.05.
3. Noise hurts less than the modification: one-sided Welch test, noise > modified, for each VAE.
With fewer than MIN_RUNS runs on a side the verdict is "not enough runs".
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

VAES = ("beta_vae", "factor_vae", "beta_tcvae", "slow_vae")
MIN_RUNS, ALPHA, UNCHANGED = 3, 0.05, 0.05


@dataclass(frozen=True)
class Verdict:
    claim: str
    dataset: str
    model: str
    answer: str  # "yes", "no" or "not enough runs"
    evidence: str


def cohens_d(a: np.ndarray, b: np.ndarray) -> float:
    pooled = np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
    return float((a.mean() - b.mean()) / pooled) if pooled > 0 else float("inf") * np.sign(a.mean() - b.mean())


def welch(a, b, alternative: str):
    a, b = np.asarray(a, float), np.asarray(b, float)
    result = stats.ttest_ind(a, b, equal_var=False, alternative=alternative)
    return float(result.statistic), float(result.pvalue), cohens_d(a, b)


def _describe(name, x) -> str:
    return f"{name} {np.mean(x):.3f} ± {np.std(x, ddof=1):.3f} (n={len(x)})"


def _compare(claim, dataset, model, a, b, names, alternative, decide) -> Verdict:
    if min(len(a), len(b)) < MIN_RUNS:
        return Verdict(claim, dataset, model, "not enough runs",
                       f"{len(a)} {names[0]} and {len(b)} {names[1]} runs; at least {MIN_RUNS} each are needed")
    t, p, d = welch(a, b, alternative)
    sided = "one-sided" if alternative != "two-sided" else "two-sided"
    evidence = (f"{_describe(names[0], a)} vs {_describe(names[1], b)}: Welch t = {t:.2f}, {sided} p = {p:.3g}, "
                f"Cohen's d = {d:.2f}")
    return Verdict(claim, dataset, model, "yes" if decide(p, np.mean(a) - np.mean(b)) else "no", evidence)


def verdicts(frame: pd.DataFrame) -> list[Verdict]:
    out = []
    for dataset, runs in frame.groupby("dataset", sort=True):
        mig = lambda model, variant: runs[(runs.model == model) & (runs.variant == variant)]["mig"].dropna().to_numpy()  # noqa: E731
        for model in [m for m in VAES if m in set(runs.model)]:
            out.append(_compare("MIG drops on modified data", dataset, model, mig(model, "original"),
                                mig(model, "modified"), ("original", "modified"), "greater",
                                lambda p, diff: p < ALPHA))
            out.append(_compare("noise hurts less than the modification", dataset, model, mig(model, "noise"),
                                mig(model, "modified"), ("noise", "modified"), "greater",
                                lambda p, diff: p < ALPHA))
        if "pcl" in set(runs.model):
            out.append(_compare("PCL's MIG is unchanged on modified data", dataset, "pcl", mig("pcl", "original"),
                                mig("pcl", "modified"), ("original", "modified"), "two-sided",
                                lambda p, diff: p >= ALPHA and abs(diff) <= UNCHANGED))
    return out


def markdown(items: list[Verdict]) -> str:
    lines = ["| dataset | model | claim | verdict | evidence |", "|---|---|---|---|---|"]
    lines += [f"| {v.dataset} | {v.model} | {v.claim} | **{v.answer}** | {v.evidence} |" for v in items]
    return "\n".join(lines) + "\n"
