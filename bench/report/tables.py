"""Tables of metrics as mean +- std (n) per dataset x model x variant, and ours beside the paper's Table 1."""

from importlib import resources

import numpy as np
import pandas as pd

from bench.data import DATASETS
from bench.metrics import tabled

VARIANT_ORDER = ("original", "modified", "sham", "noise")  # the sham control beside what it controls


def paper_table() -> pd.DataFrame:
    with resources.files("bench.report").joinpath("paper_mig.csv").open() as f:
        return pd.read_csv(f)


def chosen_runs(frame: pd.DataFrame, choices: dict | None) -> pd.DataFrame:
    """The runs at each (model, dataset)'s chosen line-search value (all runs when no choice is known)."""
    if not choices:
        return frame
    chosen = frame.apply(lambda r: _same(r["value"], choices.get((r["model"], r["dataset"]), r["value"])), axis=1)
    return frame[chosen]


def _same(a, b) -> bool:
    return (pd.isna(a) and pd.isna(b)) or a == b  # None (no regulariser) counts as NaN


def summary(frame: pd.DataFrame, metrics=None) -> pd.DataFrame:
    """Long table: dataset, model, variant, metric, mean, std, n; of `metrics` (default: every tabled one)."""
    present = [m for m in (metrics or tabled()) if m in frame and frame[m].notna().any()]
    long = frame.melt(id_vars=["dataset", "model", "variant"], value_vars=present, var_name="metric",
                      value_name="score").dropna()
    out = long.groupby(["dataset", "model", "variant", "metric"], sort=True)["score"].agg(["mean", "std", "count"])
    return out.rename(columns={"count": "n"}).reset_index()


def numeric(stats: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One metric's mean, std and n per dataset x model x variant, as numbers (what the CSV holds)."""
    sub = stats[stats["metric"] == metric].drop(columns="metric")
    return _in_variant_order(sub).set_index(["dataset", "model", "variant"])


def formatted(stats: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Wide table for one metric: rows dataset x model, columns variants, cells 'mean +- std (n)'."""
    sub = stats[stats["metric"] == metric].copy()
    sub["cell"] = [f"{m:.3f} ± {0.0 if pd.isna(s) else s:.3f} ({n})" for m, s, n in zip(sub["mean"], sub["std"], sub["n"])]
    wide = sub.pivot(index=["dataset", "model"], columns="variant", values="cell")
    return wide[[v for v in VARIANT_ORDER if v in wide.columns]].fillna("-")


def mig_per_factor(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean MIG of each factor per dataset x model x variant: which factor a variant breaks."""
    rows = []
    for (dataset, model, variant), runs in frame.dropna(subset=["mig_per_factor"]).groupby(
            ["dataset", "model", "variant"]):
        means = np.mean(np.stack(runs["mig_per_factor"].tolist()), axis=0)
        rows.append({"dataset": dataset, "model": model, "variant": variant, "n": len(runs),
                     **dict(zip(_factor_names(dataset, len(means)), means))})
    if not rows:  # records without per-factor terms (hand-written ones, as in the golden tests)
        return pd.DataFrame()
    return _in_variant_order(pd.DataFrame(rows)).set_index(["dataset", "model", "variant"])


def _in_variant_order(table: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by dataset and model, then the variants in VARIANT_ORDER."""
    rank = table["variant"].map({v: i for i, v in enumerate(VARIANT_ORDER)})
    return table.assign(_rank=rank).sort_values(["dataset", "model", "_rank"]).drop(columns="_rank")


def _spec(dataset: str):
    """The registered dataset's spec, or None for a name that records carry but this code does not know."""
    return DATASETS.get(dataset)


def _factor_names(dataset: str, count: int) -> list[str]:
    spec = _spec(dataset)
    return list(spec.grid.names) if spec is not None else [f"factor {k}" for k in range(count)]


def paper_dataset(name: str) -> str:
    """The paper's dataset that `name` stands for (a miniature of dSprites is read against dSprites)."""
    spec = _spec(name)
    return spec.paper_dataset if spec is not None and spec.paper_dataset else name


def beside_paper(stats: pd.DataFrame) -> pd.DataFrame:
    """MIG per cell: ours (mean, std, n) beside the paper's (mean, std) for the dataset ours stands for."""
    ours = stats[stats["metric"] == "mig"][["dataset", "model", "variant", "mean", "std", "n"]].copy()
    ours["paper_dataset"] = ours["dataset"].map(paper_dataset)
    paper = paper_table().rename(columns={"dataset": "paper_dataset", "mig_mean": "paper_mean",
                                          "mig_std": "paper_std"})
    both = ours.merge(paper[["paper_dataset", "model", "variant", "paper_mean", "paper_std"]],
                      on=["paper_dataset", "model", "variant"], how="left")
    return _in_variant_order(both).rename(columns={"mean": "ours_mean", "std": "ours_std"})


def _rows(table: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    flat = table.reset_index()
    return [str(c) for c in flat.columns], [[_cell(v) for v in row] for row in flat.itertuples(index=False)]


def _cell(value) -> str:
    if isinstance(value, float):
        return "-" if pd.isna(value) else f"{value:.3f}"
    return str(value)


def markdown(table: pd.DataFrame) -> str:
    header, rows = _rows(table)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows]) + "\n"


def latex(table: pd.DataFrame) -> str:
    header, rows = _rows(table)
    esc = lambda s: s.replace("±", r"$\pm$").replace("_", r"\_")  # noqa: E731
    body = [" & ".join(esc(c) for c in r) + r" \\" for r in rows]
    return "\n".join([r"\begin{tabular}{" + "l" * len(header) + "}", r"\hline",
                      " & ".join(esc(h) for h in header) + r" \\", r"\hline", *body, r"\hline",
                      r"\end{tabular}"]) + "\n"


def write_table(table: pd.DataFrame, stem, title: str, shown: pd.DataFrame | None = None) -> str:
    """Write `table` as CSV, numbers a reader can compute with, and `shown` (the same rows formatted for reading;
    `table` itself by default) as Markdown and LaTeX; return the Markdown with its title."""
    shown = table if shown is None else shown
    text = f"### {title}\n\n{markdown(shown)}"
    stem.with_suffix(".md").write_text(text)
    stem.with_suffix(".tex").write_text(latex(shown))
    table.to_csv(stem.with_suffix(".csv"))
    return text
