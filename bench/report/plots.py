"""The report's pictures (PNG and PDF): reconstruction versus MIG, ours versus the paper, active units, and
latent traversals of each model x variant's median-MIG run."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from bench.report.tables import VARIANT_ORDER  # noqa: E402

PALETTE = {"original": "#1f77b4", "modified": "#d62728", "noise": "#7f7f7f"}


def save(fig, stem: Path) -> str:
    for suffix in (".png", ".pdf"):
        fig.savefig(stem.with_suffix(suffix), dpi=110, bbox_inches="tight")
    plt.close(fig)
    return stem.with_suffix(".png").name


def _multiple(model: str, dataset: str, value) -> float:
    """A line-search value as a multiple of the paper's, so one marker means the same for every model; NaN for a
    model without a regulariser."""
    from bench.suites import paper_value
    paper = None if pd.isna(value) else paper_value(model, dataset)
    return float("nan") if paper is None else value / paper


def reconstruction_vs_mig(frame: pd.DataFrame, stem: Path) -> str:
    """One point per run, coloured by variant, marked by the line-search value, one panel per dataset x model
    (PCL has no reconstruction)."""
    data = frame.dropna(subset=["reconstruction", "mig"]).copy()
    multiples = [_multiple(m, d, v) for m, d, v in zip(data.model, data.dataset, data.value)]
    label = lambda x: "no regulariser" if pd.isna(x) else f"{x:g} x paper"  # noqa: E731
    data["strength"] = [label(x) for x in multiples]
    order = list(dict.fromkeys(label(x) for x in sorted(multiples, key=lambda x: (pd.isna(x), np.nan_to_num(x)))))
    grid = sns.relplot(data=data, x="reconstruction", y="mig", hue="variant", style="strength", col="model",
                       row="dataset", kind="scatter", palette=PALETTE, hue_order=[v for v in VARIANT_ORDER
                                                                                  if v in set(data.variant)],
                       style_order=order, facet_kws={"sharex": False}, height=2.6, s=45)
    grid.set_titles("{row_name}: {col_name}")
    grid.set_axis_labels("reconstruction loss (nats / image)", "MIG")
    return save(grid.figure, stem)


def ours_vs_paper(beside: pd.DataFrame, stem: Path) -> str:
    data = beside.dropna(subset=["paper_mean"])
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    for variant, rows in data.groupby("variant"):
        ax.errorbar(rows.paper_mean, rows.ours_mean, xerr=rows.paper_std, yerr=rows.ours_std.fillna(0), fmt="o",
                    color=PALETTE.get(variant), label=variant, alpha=0.8, capsize=2)
        for _, r in rows.iterrows():
            ax.annotate(f"{r['model']}/{r['dataset'][:3]}", (r.paper_mean, r.ours_mean), fontsize=6, alpha=0.7)
    top = max(0.8, float(np.nanmax([data.paper_mean.max(), data.ours_mean.max()])) + 0.1) if len(data) else 0.8
    ax.plot([0, top], [0, top], "k--", lw=0.8)
    ax.set(xlabel="paper MIG (Table 1)", ylabel="our MIG", xlim=(0, top), ylim=(0, top))
    ax.legend(fontsize=8)
    return save(fig, stem)


def active_units(frame: pd.DataFrame, stem: Path) -> str:
    data = frame.dropna(subset=["active_units"])
    grid = sns.catplot(data=data, x="model", y="active_units", hue="variant", col="dataset", kind="strip",
                       palette=PALETTE, dodge=True, height=3, aspect=1.4)
    grid.set_axis_labels("", "active units (E[sigma^2] < 0.8)")
    return save(grid.figure, stem)


def traversal(model, data, stem: Path, title: str, steps: int = 7, bases: int = 2) -> str:
    """Decoder outputs as each latent sweeps from -2 to 2 around a few base images' codes."""
    import torch
    from bench.data.show import mosaic
    rng = np.random.default_rng(0)
    _, images = data.sample(bases, rng)
    with torch.no_grad():
        codes = model.represent(images)
        rows = []
        for base in codes:
            for j in range(len(base)):
                z = base.repeat(steps, 1)
                z[:, j] = torch.linspace(-2, 2, steps)
                rows.append(torch.sigmoid(model.decoder(z)))
    picture = mosaic(torch.cat(rows).numpy(), steps)
    fig, ax = plt.subplots(figsize=(steps * 0.7, len(rows) * 0.7 + 0.4))
    ax.imshow(picture.squeeze(-1) if picture.shape[-1] == 1 else picture, cmap="gray", vmin=0, vmax=1)
    ax.set_title(title, fontsize=8)
    ax.axis("off")
    return save(fig, stem)
