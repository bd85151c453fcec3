"""The figures of a sweep study's report (`bench.report.trade_off`): disentanglement against reconstruction per
swept value, and the two TC estimates over training."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from bench.report.plots import save  # noqa: E402

LABELS = {"factor_vae_eval": "FactorVAE score", "mig": "MIG"}


def trade_off(frame: pd.DataFrame, metrics: list[str], stem: Path) -> str:
    """One panel per metric: reconstruction on x, the metric on y; each run a faint point, each model x value its
    mean ± std in both directions, labelled with the value."""
    fig, axes = plt.subplots(1, len(metrics), figsize=(5.2 * len(metrics), 4.2), squeeze=False)
    colours = dict(zip(sorted(frame.model.unique()), plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    for ax, metric in zip(axes[0], metrics):
        runs = frame.dropna(subset=["reconstruction", metric])
        for model, group in runs.groupby("model"):
            ax.scatter(group.reconstruction, group[metric], s=12, alpha=0.3, color=colours[model])
            stats = group.groupby("value", dropna=False).agg(
                x=("reconstruction", "mean"), dx=("reconstruction", "std"), y=(metric, "mean"), dy=(metric, "std"))
            ax.errorbar(stats.x, stats.y, xerr=stats.dx.fillna(0), yerr=stats.dy.fillna(0), fmt="o", ms=5,
                        capsize=2, color=colours[model], label=model)
            for value, row in stats.iterrows():
                if not pd.isna(value):
                    ax.annotate(f"{value:g}", (row.x, row.y), textcoords="offset points", xytext=(4, 4), fontsize=7)
        ax.set_xlabel("reconstruction loss (nats / image)")
        ax.set_ylabel(LABELS.get(metric, metric))
        ax.legend(fontsize=8)
    return save(fig, stem)


def tc_over_training(curves: pd.DataFrame, stem: Path) -> str:
    """FactorVAE's TC over training, one colour per gamma: the aggregate posterior's (solid) and the
    discriminator's estimate (dashed), each the mean over seeds."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    runs = curves[curves.model == "factor_vae"]
    values = sorted(runs.value.unique())
    cmap = plt.get_cmap("viridis", max(len(values), 2))
    for k, value in enumerate(values):
        mean = runs[runs.value == value].groupby("step")[["tc_aggregate", "tc_discriminator"]].mean()
        ax.plot(mean.index, mean.tc_aggregate, color=cmap(k), marker=".", label=f"gamma {value:g}")
        ax.plot(mean.index, mean.tc_discriminator, color=cmap(k), marker=".", linestyle="--")
    ax.set_xlabel("training step")
    ax.set_ylabel("total correlation (nats)")
    ax.set_title("direct estimate of the true TC (solid), the discriminator's (dashed)", fontsize=9)
    ax.legend(fontsize=8)
    return save(fig, stem)
