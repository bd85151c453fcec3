"""The report's pictures (PNG and PDF): reconstruction versus MIG, ours versus the paper, active units, and
latent traversals of each model x variant's median-MIG run."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
import torch  # noqa: E402

from bench.data.show import mosaic  # noqa: E402
from bench.report.tables import VARIANT_ORDER  # noqa: E402
from bench.suites import paper_value  # noqa: E402

PALETTE = {"original": "#1f77b4", "modified": "#d62728", "sham": "#ff7f0e", "noise": "#7f7f7f"}
PANELS_PER_ROW = 3


def save(fig, stem: Path) -> str:
    for suffix in (".png", ".pdf"):
        fig.savefig(stem.with_suffix(suffix), dpi=110, bbox_inches="tight")
    plt.close(fig)
    return stem.with_suffix(".png").name


def _multiple(model: str, dataset: str, value) -> float:
    """A line-search value as a multiple of the paper's, so one marker means the same for every model; NaN for a
    model without a regulariser."""
    paper = None if pd.isna(value) else paper_value(model, dataset)
    return float("nan") if paper is None else value / paper


def reconstruction_vs_mig(frame: pd.DataFrame, stem: Path) -> str | None:
    """One point per run, coloured by variant, marked by the line-search value, one panel per dataset x model in
    rows of PANELS_PER_ROW (PCL has no reconstruction); None when no run has both numbers."""
    data = frame.dropna(subset=["reconstruction", "mig"]).copy()
    if data.empty:
        return None
    multiples = [_multiple(m, d, v) for m, d, v in zip(data.model, data.dataset, data.value)]
    label = lambda x: "no regulariser" if pd.isna(x) else f"{x:g} x paper"  # noqa: E731
    data["strength"] = [label(x) for x in multiples]
    order = list(dict.fromkeys(label(x) for x in sorted(multiples, key=lambda x: (pd.isna(x), np.nan_to_num(x)))))
    data["panel"] = [f"{d}: {m}" for d, m in zip(data.dataset, data.model)]
    grid = sns.relplot(data=data, x="reconstruction", y="mig", hue="variant", style="strength", col="panel",
                       col_wrap=min(PANELS_PER_ROW, data.panel.nunique()), kind="scatter", palette=PALETTE,
                       hue_order=[v for v in VARIANT_ORDER if v in set(data.variant)], style_order=order,
                       facet_kws={"sharex": False}, height=2.6, s=45)
    grid.set_titles("{col_name}")
    grid.set_axis_labels("reconstruction loss (nats / image)", "MIG")
    return save(grid.figure, stem)


def ours_vs_paper(beside: pd.DataFrame, stem: Path) -> str:
    """Per dataset x variant, one row per model: our MIG (mean ± std, coloured by variant) just above
    the paper's (open black squares), so every pair reads at once without labels in the plot area."""
    data = beside.dropna(subset=["paper_mean"])
    panels = list(data.groupby(["dataset", "variant"], sort=False))
    panels.sort(key=lambda kv: (kv[0][0], VARIANT_ORDER.index(kv[0][1])))
    models = sorted(set(data.model))
    columns = max(1, len(panels))
    fig, axes = plt.subplots(1, columns, figsize=(2.4 * columns + 1.0, 0.45 * len(models) + 1.2), sharey=True,
                             sharex=True, squeeze=False)
    y = {m: i for i, m in enumerate(models)}
    for ax, ((dataset, variant), rows) in zip(axes[0], panels):
        at = rows.model.map(y)
        ax.errorbar(rows.paper_mean, at - 0.15, xerr=rows.paper_std, fmt="s", mfc="white", color="black",
                    capsize=2, ms=4)
        ax.errorbar(rows.ours_mean, at + 0.15, xerr=rows.ours_std.fillna(0), fmt="o", color=PALETTE.get(variant),
                    capsize=2, ms=4)
        ax.set_title(f"{dataset}: {variant}", fontsize=9)
        ax.set_xlabel("MIG (mean ± std)")
        ax.grid(axis="x", lw=0.3)
    axes[0][0].set_yticks(range(len(models)), models)
    axes[0][0].set_ylim(-0.6, len(models) - 0.4)
    axes[0][0].invert_yaxis()
    fig.tight_layout()
    fig.legend(handles=[Line2D([], [], marker="o", ls="", color="dimgray", label="ours (colour: variant)"),
                        Line2D([], [], marker="s", ls="", mfc="white", color="black",
                               label="paper, Table 1 (for the dataset ours stands for)")],
               loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize=8, frameon=False)
    return save(fig, stem)


def active_units(frame: pd.DataFrame, stem: Path) -> str:
    data = frame.dropna(subset=["active_units"])
    grid = sns.catplot(data=data, x="model", y="active_units", hue="variant", col="dataset", kind="strip",
                       palette=PALETTE, hue_order=[v for v in VARIANT_ORDER if v in set(data.variant)], dodge=True,
                       height=3, aspect=1.4)
    grid.set_axis_labels("", "active units (E[sigma^2] < 0.8)")
    for ax in grid.axes.flat:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # a count of latents
    return save(grid.figure, stem)


def traversal(model, data, stem: Path, title: str, steps: int = 7, bases: int = 2) -> str:
    """Decoder outputs as each latent z_j sweeps from -2 to 2 with the others at a base image's code: one panel
    per base image, a row per latent, a column per value."""
    _, images = data.sample(bases, np.random.default_rng(0))
    values = np.linspace(-2, 2, steps)
    with torch.no_grad():
        codes = model.represent(images)
        latents = codes.shape[1]
        z = codes[:, None, None, :].repeat(1, latents, steps, 1)  # base x swept latent x value x code
        z[:, torch.arange(latents), :, torch.arange(latents)] = torch.as_tensor(values, dtype=z.dtype)
        pictures = torch.sigmoid(model.decoder(z.flatten(0, 2))).unflatten(0, (len(codes), -1)).numpy()
    fig, axes = plt.subplots(len(codes), 1, squeeze=False,
                             figsize=(steps * 0.7 + 0.6, len(codes) * (0.7 * latents + 0.5)))
    for b, (ax, picture) in enumerate(zip(axes[:, 0], pictures)):
        _show_grid(ax, mosaic(picture, steps), latents, values)
        ax.set_title(f"{title}, base image {b + 1}", fontsize=8)
    axes[-1, 0].set_xlabel("value of the swept latent", fontsize=7)
    fig.tight_layout()
    return save(fig, stem)


def _show_grid(ax, picture: np.ndarray, rows: int, values: np.ndarray):
    """A mosaic of `rows` x len(values) images, its rows named z0, z1, ... and its columns by the latent's value."""
    ax.imshow(picture.squeeze(-1) if picture.shape[-1] == 1 else picture, cmap="gray", vmin=0, vmax=1)
    height, width = picture.shape[0] / rows, picture.shape[1] / len(values)
    ax.set_yticks((np.arange(rows) + 0.5) * height, [f"z{j}" for j in range(rows)], fontsize=7)
    ax.set_xticks((np.arange(len(values)) + 0.5) * width, [f"{v:.2g}" for v in values], fontsize=7)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)


def loss_curves(steps: list[int], terms: dict[str, list[float]], stem: Path, title: str) -> str:
    """One panel per loss term, its value against the training step."""
    rows = -(-len(terms) // PANELS_PER_ROW)
    columns = min(len(terms), PANELS_PER_ROW)
    fig, axes = plt.subplots(rows, columns, squeeze=False, figsize=(3.2 * columns, 2.4 * rows))
    for ax, (name, values) in zip(axes.flat, terms.items()):
        ax.plot(steps, values, lw=1)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.flat[len(terms):]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return save(fig, stem)
