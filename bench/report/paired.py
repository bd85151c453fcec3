"""Runs paired by seed index across arms: seed k of every arm of a paired profile starts from the same weights and
draws the same batches, so a contrast reads the per-seed differences, and a learned arm's differences can be
split by the build of its images."""

import pandas as pd

from bench.errors import UserError


def differences(runs: pd.DataFrame, model: str, first: str, second: str, metric: str) -> pd.DataFrame:
    """Per seed index: d = first - second of `metric`, and the build of the second arm's run (of the first's where
    the second has none). A seed missing in either arm drops out."""
    a, b = _arm(runs, model, first, metric), _arm(runs, model, second, metric)
    pairs = a.add_suffix("_first").join(b.add_suffix("_second"), how="inner").dropna(
        subset=[f"{metric}_first", f"{metric}_second"])
    return pd.DataFrame({"d": pairs[f"{metric}_first"] - pairs[f"{metric}_second"],
                         "build": pairs["build_second"].fillna(pairs["build_first"])})


def _arm(runs: pd.DataFrame, model: str, arm: str, metric: str) -> pd.DataFrame:
    rows = runs[(runs.model == model) & (runs.variant == arm)].set_index("seed_index")[[metric, "build"]]
    if rows.index.has_duplicates:
        raise UserError(f"{model} on {arm} has several runs of one seed index; a paired report needs one run per "
                        "seed and arm (report one profile's records)")
    return rows


def by_build(runs: pd.DataFrame, metric: str,
             contrasts=(("original", "modified"), ("original", "sham"))) -> pd.DataFrame:
    """Mean paired difference per dataset x model x contrast x build (and over all builds, build "all"), so a
    reader sees whether an effect rests on one lucky build. Long table: mean, std, n."""
    rows = []
    for (dataset, model), group in runs.groupby(["dataset", "model"], sort=True):
        for first, second in contrasts:
            d = differences(group, model, first, second, metric)
            parts = [(f"build {int(b)}", x) for b, x in d.groupby("build", sort=True)["d"]] + [("all", d["d"])]
            rows += [{"dataset": dataset, "model": model, "contrast": f"{first} - {second}", "build": name,
                      "mean": x.mean(), "std": x.std(ddof=1), "n": len(x)} for name, x in parts if len(x)]
    return pd.DataFrame(rows, columns=["dataset", "model", "contrast", "build", "mean", "std", "n"])


def shown_by_build(table: pd.DataFrame) -> pd.DataFrame:
    """`by_build` as a reader sees it: rows dataset x model x contrast, a column per build, cells 'mean (n)'."""
    cells = table.assign(cell=[f"{m:.3f} ({n})" for m, n in zip(table["mean"], table["n"])])
    wide = cells.pivot(index=["dataset", "model", "contrast"], columns="build", values="cell")
    order = sorted(wide.columns, key=lambda b: float("inf") if b == "all" else int(b.split()[-1]))
    return wide[order].fillna("-")
