"""The paper's claims as verdicts: each contrast of a hypothesis family tested on the runs, Holm-corrected over the
family, in words that say what was shown ("significant", "not shown equivalent within ±0.05"), never a bare "no".

Confirmatory: the profile declared its family before the runs (`bench.hypotheses`) and pairs its seeds, so a
contrast reads the per-seed differences; the paired t-test decides and the exact sign-flip test stands beside it.
Exploratory: no declared family; the report tests the paper's claims that the runs' arms allow, on unpaired runs
(Welch), corrected over the claims it tested. A contrast with fewer than MIN_RUNS runs a side is "not enough runs".
"""

from pathlib import Path

import numpy as np
import pandas as pd

from bench.errors import UserError
from bench.hypotheses import PCL_EQUIVALENT, Contrast, Family, vae_contrasts
from bench.models import MODELS
from bench.report import paired, significance
from bench.report.tables import write_table
from bench.suites import SUITES

MIN_RUNS = 3
KEY = ["dataset", "model", "claim"]


def declared_family(records: list[dict]) -> Family | None:
    """The hypotheses the records' profile declared; None for an exploratory or unregistered profile."""
    names = sorted({(r["suite"], r["profile"]) for r in records})
    families = [_hypotheses(*name) for name in names]
    if len(names) > 1 and any(families):
        raise UserError(f"the records mix profiles {', '.join('/'.join(n) for n in names)}; a confirmatory "
                        "report reads one profile's runs, so pass only those")
    return families[0]


def _hypotheses(suite: str, profile: str) -> Family | None:
    found = SUITES[suite].profiles.get(profile) if suite in SUITES else None
    return getattr(found, "hypotheses", None)


def exploratory_family(runs: pd.DataFrame) -> Family:
    """The claims the runs' models and arms allow: the VAE claims for each model with a posterior (the AE shares
    the VAEs' body but has none; PCL has no decoder), and PCL's equivalence."""
    claims = [c for name, cls in MODELS.items() if cls.has_posterior for c in vae_contrasts(name)]
    arms = {(m, v) for m, v in zip(runs.model, runs.variant)}
    return Family(tuple(c for c in (*claims, PCL_EQUIVALENT)
                        if (c.model, c.first) in arms and (c.model, c.second) in arms))


def answer(kind: str, p_holm: float, n: int, family: Family) -> str:
    if n < MIN_RUNS:
        return f"not enough runs (n={n})"
    shown = bool(p_holm < family.alpha)
    if kind == "greater":
        return "significant" if shown else "not significant"
    return f"{'' if shown else 'not shown '}equivalent within ±{family.margin:g}"


def confirmatory(runs: pd.DataFrame, family: Family) -> pd.DataFrame:
    """One row per dataset x contrast: n pairs, mean difference, its 95% CI, d_z, paired-t p (raw and Holm) and
    the sign-flip p, and the verdict."""
    return _tested(runs, family, _paired_row)


def _paired_row(dataset: str, c: Contrast, runs: pd.DataFrame, family: Family) -> dict:
    d = paired.differences(runs, c.model, c.first, c.second, family.metric)["d"].to_numpy()
    row = {**_names(dataset, c), "n": len(d), "mean difference": np.nan, "ci low": np.nan, "ci high": np.nan,
           "d_z": np.nan, "p": np.nan, "p sign-flip": np.nan}
    if len(d) < MIN_RUNS:
        return row
    low, high = significance.mean_ci(d)
    return {**row, "mean difference": d.mean(), "ci low": low, "ci high": high, "d_z": significance.cohens_dz(d),
            "p": significance.paired_t(d, c.kind, family.margin),
            "p sign-flip": significance.sign_flip(d, c.kind, family.margin)}


def exploratory(runs: pd.DataFrame, family: Family) -> pd.DataFrame:
    """One row per dataset x contrast on unpaired runs: each arm's mean, std and n, Cohen's d, Welch p (raw and
    Holm), and the verdict."""
    return _tested(runs, family, _welch_row)


def _welch_row(dataset: str, c: Contrast, runs: pd.DataFrame, family: Family) -> dict:
    arm = lambda v: runs[(runs.model == c.model) & (runs.variant == v)][family.metric].dropna()  # noqa: E731
    a, b = arm(c.first), arm(c.second)
    row = {**_names(dataset, c), "n": min(len(a), len(b)), "first mean": a.mean(), "first std": a.std(),
           "first n": len(a), "second mean": b.mean(), "second std": b.std(), "second n": len(b),
           "cohens d": np.nan, "p": np.nan}
    if row["n"] < MIN_RUNS:
        return row
    a, b = a.to_numpy(), b.to_numpy()
    return {**row, "cohens d": significance.cohens_d(a, b), "p": significance.welch(a, b, c.kind, family.margin)}


def section(runs: pd.DataFrame, family: Family | None, tables: Path) -> str:
    """The verdicts' section of index.md; its table also goes to tables/verdicts.{md,tex,csv}, numbers in the CSV."""
    if family is None:
        family = exploratory_family(runs)
        if not family.contrasts:
            return "## Exploratory verdicts\n\nNo claim can be tested: no model has both arms of one.\n"
        table = exploratory(runs, family)
        return (f"## Exploratory verdicts\n\nNot pre-registered: the paper's claims that these runs' arms allow, "
                f"on unpaired runs (one-sided Welch test; for an equivalence, two one-sided Welch tests within "
                f"±{family.margin:g}), Holm-corrected over the {len(table)} claims tested here; a verdict reads the "
                f"Holm p at α = {family.alpha:g}.\n\n"
                + write_table(table, tables / "verdicts", "Verdicts (exploratory)", shown_exploratory(table)))
    table = confirmatory(runs, family)
    return (f"## Confirmatory verdicts\n\nThe pre-registered family of {len(table)} contrasts on {family.metric}, "
            f"each on the per-seed differences of paired runs: a one-sided {family.primary_test}-test (for an "
            f"equivalence, two one-sided tests within ±{family.margin:g}) decides at α = {family.alpha:g} after "
            "Holm's correction over the whole family; the exact sign-flip test stands beside it, uncorrected.\n\n"
            + write_table(table, tables / "verdicts", "Verdicts (confirmatory)", shown_confirmatory(table)))


def _names(dataset: str, c: Contrast) -> dict:
    return {"dataset": dataset, "model": c.model, "claim": c.claim, "first": c.first, "second": c.second,
            "kind": c.kind}


def _tested(runs: pd.DataFrame, family: Family, row) -> pd.DataFrame:
    """`row` of each dataset x contrast, Holm over all of them, then each row's verdict in words."""
    table = pd.DataFrame([row(dataset, c, group, family) for dataset, group in runs.groupby("dataset", sort=True)
                          for c in family.contrasts])
    table.insert(table.columns.get_loc("p") + 1, "p holm", significance.holm(table["p"]))
    table["verdict"] = [answer(k, p, n, family) for k, p, n in zip(table["kind"], table["p holm"], table["n"])]
    return table.drop(columns="kind").set_index(KEY)


def shown_confirmatory(table: pd.DataFrame) -> pd.DataFrame:
    """The confirmatory table as a reader sees it: the CI as one interval, p-values to 3 significant digits."""
    return pd.DataFrame({"contrast": table["first"] + " - " + table["second"], "n": table["n"],
                         "mean difference": table["mean difference"].map(_number),
                         "95% CI": [_interval(lo, hi) for lo, hi in zip(table["ci low"], table["ci high"])],
                         "d_z": table["d_z"].map(lambda x: _number(x, ".2f")), "paired t p": table["p"].map(_p),
                         "Holm p": table["p holm"].map(_p), "sign-flip p": table["p sign-flip"].map(_p),
                         "verdict": table["verdict"]}, index=table.index)


def shown_exploratory(table: pd.DataFrame) -> pd.DataFrame:
    """The exploratory table as a reader sees it: each arm as mean ± std (n), Welch p raw and Holm."""
    arm = lambda side, names: [f"{name} {m:.3f} ± {_number(s)} (n={n})" for name, m, s, n in  # noqa: E731
                               zip(names, table[f"{side} mean"], table[f"{side} std"], table[f"{side} n"])]
    evidence = [f"{a} vs {b}, Cohen's d = {_number(d, '.2f')}"
                for a, b, d in zip(arm("first", table["first"]), arm("second", table["second"]), table["cohens d"])]
    return pd.DataFrame({"verdict": table["verdict"], "Welch p": table["p"].map(_p),
                         "Holm p": table["p holm"].map(_p), "evidence": evidence}, index=table.index)


def _number(x: float, spec: str = ".3f") -> str:
    return "-" if pd.isna(x) else format(x, spec)


def _p(x: float) -> str:
    return _number(x, ".3g")


def _interval(low: float, high: float) -> str:
    return "-" if pd.isna(low) else f"[{low:.3f}, {high:.3f}]"
