"""Pictures of a dataset: random samples, and one traversal row per factor (where it has factors), so a person can
check the data."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from bench.data.ground_truth import GroundTruthData  # noqa: E402


def mosaic(images: np.ndarray, cols: int, gap: int = 2) -> np.ndarray:
    """Images (N, C, H, W) in [0, 1] -> one (rows*H, cols*W, C) picture with white gaps."""
    n, c, h, w = images.shape
    rows = -(-n // cols)
    out = np.ones((rows * (h + gap) - gap, cols * (w + gap) - gap, c), dtype=np.float32)
    for i, img in enumerate(images):
        r, k = divmod(i, cols)
        out[r * (h + gap):r * (h + gap) + h, k * (w + gap):k * (w + gap) + w] = img.transpose(1, 2, 0)
    return out


def traversal_factors(ds: GroundTruthData, base: np.ndarray, steps: int) -> np.ndarray:
    """For each factor, `steps` copies of `base` with that factor swept evenly over its values."""
    rows = []
    for k, size in enumerate(ds.factor_sizes):
        row = np.repeat(base[None], steps, axis=0)
        row[:, k] = np.round(np.linspace(0, size - 1, steps)).astype(np.int64)
        rows.append(row)
    return np.concatenate(rows)


def _imshow(ax, picture, title):
    ax.imshow(picture.squeeze(-1) if picture.shape[-1] == 1 else picture, cmap="gray", vmin=0, vmax=1,
              interpolation="nearest")
    ax.set_title(title, fontsize=10, loc="left")
    ax.set_xticks([])
    ax.set_yticks([])


def dataset_figure(ds: GroundTruthData, rng: np.random.Generator, samples: int = 24, steps: int = 8):
    """Figure with a grid of random samples above one traversal row per factor; a dataset without factors has
    only the samples (three times as many)."""
    if not ds.has_factors:
        return samples_figure(ds, rng, 3 * samples, steps)
    _, sample_images = ds.sample(samples, rng)
    base = ds.sample_factors(1, rng)[0]
    traversal = ds.images(ds.factors_to_index(traversal_factors(ds, base, steps))).numpy()
    h = ds.observation_shape[1]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(steps * 1.1, (samples // steps + ds.num_factors) * 1.1 + 0.8),
                                      gridspec_kw={"height_ratios": [samples // steps, ds.num_factors]})
    _imshow(top, mosaic(sample_images.numpy(), steps), f"{ds.name} / {ds.variant}: random samples")
    _imshow(bottom, mosaic(traversal, steps), "traversals: one factor swept per row")
    bottom.set_yticks([(h + 2) * k + h / 2 for k in range(ds.num_factors)], ds.factor_names)
    fig.tight_layout()
    return fig


def samples_figure(ds, rng: np.random.Generator, samples: int, columns: int):
    """Random samples of a dataset without factors, which has no factor to sweep."""
    _, images = ds.sample(samples, rng)
    fig, ax = plt.subplots(figsize=(columns * 1.1, samples // columns * 1.1 + 0.6))
    _imshow(ax, mosaic(images.numpy(), columns), f"{ds.name}: random samples (no ground-truth factors to traverse)")
    fig.tight_layout()
    return fig


def variants_figure(variants: dict[str, GroundTruthData], rng: np.random.Generator, samples: int = 8):
    """The same images in every variant, each followed by its change from the original magnified 1 / (2 eps)
    times around mid-grey, so a small change is visible and its sign readable (white: brighter)."""
    original = variants["original"]
    index = rng.integers(0, len(original), size=samples)
    x0 = original.images(index).numpy()
    rows = [("original", x0)]
    for name, data in variants.items():
        if name != "original":
            x = data.images(index).numpy()
            rows += [(name, x), (f"{name} - original, x{1 / (2 * original.spec.eps):.0f} around grey",
                                 0.5 + (x - x0) / (2 * original.spec.eps))]
    fig, axes = plt.subplots(len(rows), 1, figsize=(samples * 1.1, len(rows) * 1.35))
    for ax, (title, images) in zip(axes, rows):
        _imshow(ax, mosaic(np.clip(images, 0, 1), samples), title)
    fig.suptitle(f"{original.name}: the same images in each variant", fontsize=11)
    fig.tight_layout()
    return fig


def save(fig, out):
    fig.savefig(out, dpi=100)
    plt.close(fig)
