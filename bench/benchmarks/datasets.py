"""`bench benchmark datasets`: rendering and random-batch read throughput, each against a plain baseline.

Rendering is timed over the whole grid (the targets are about whole datasets) against rendering the same
images one at a time, the straightforward way. Reads are random batches of 64 from the cache against a
torch DataLoader that fetches and converts image by image.
"""

import time

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from bench.benchmarks.report import header, rate, row
from bench.data import DATASETS, dsprites, selected, shapes3d, shapes3d_render
from bench.data.shapes3d import HUE_FACTORS
from bench.variants import get

BATCH = 64


def _render_all(spec) -> float:
    start = time.perf_counter()
    for _ in spec.render_chunks(spec):
        pass
    return len(spec.grid) / (time.perf_counter() - start)


def _dsprites_one(spec, f):
    return dsprites.render_classes(spec, f[None])


def _shapes3d_one(spec, f):
    sc, sh, o = (spec.factor_values[k][f[k]] for k in range(HUE_FACTORS, spec.grid.num_factors))
    geometry = shapes3d_render.render_geometry(sc, int(sh), o, size=spec.observation_shape[-1])
    rgb = shapes3d_render.hue_rgb([spec.factor_values[k][f[k]] for k in range(HUE_FACTORS)])
    return sum(shapes3d_render.surface_layers(geometry, s, rgb[s - 1:s]) for s in (1, 2, 3))


# The straightforward way to render one image, per renderer: no work shared between images.
ONE_AT_A_TIME = {dsprites.render_chunks: (_dsprites_one, 2000), shapes3d.render_chunks: (_shapes3d_one, 60)}


def _one_at_a_time(spec, rng) -> float:
    """Images/s rendering single images with no sharing of work: the baseline."""
    render, n = ONE_AT_A_TIME[spec.render_chunks]
    factors = spec.grid.sample_factors(n, rng)
    start = time.perf_counter()
    for f in factors:
        render(spec, f)
    return n / (time.perf_counter() - start)


class _PerImage(Dataset):
    def __init__(self, array):
        self.array = array

    def __len__(self):
        return len(self.array)

    def __getitem__(self, i):
        return torch.from_numpy(np.array(self.array[i])).float() / 255.0


def _reads(ds, rng) -> tuple[float, float]:
    ours = rate(lambda: ds.images(rng.integers(0, len(ds), BATCH)), BATCH)
    loader = iter(DataLoader(_PerImage(ds.array), batch_size=BATCH, shuffle=True,
                             generator=torch.Generator().manual_seed(0)))
    baseline = rate(lambda: next(loader), BATCH)
    return ours, baseline


def run(dataset: str | None = None, data_root=None):
    """Rendering and read throughput of `dataset` (default: dSprites and Shapes3D), each against its baseline."""
    specs = selected(dataset) if dataset else [DATASETS["dsprites"], DATASETS["shapes3d"]]
    header("datasets: images/s")
    rng = np.random.default_rng(0)
    for spec in specs:
        name = spec.name
        ds = get(name, "original", data_root)  # builds the cache first if needed, outside the timings
        baseline = _one_at_a_time(spec, rng)
        ours = _render_all(spec)
        row(f"{name}: render the whole grid", ours, baseline, "img/s")
        print(f"{'':<44} whole grid in {len(spec.grid) / ours:.0f} s (one at a time: "
              f"{len(spec.grid) / baseline / 60:.0f} min)")
        ours, baseline = _reads(ds, rng)
        row(f"{name}: random batches of {BATCH} from cache", ours, baseline, "img/s")
        noisy = get(name, "noise", data_root)
        row(f"{name}/noise: random batches of {BATCH}", rate(lambda: noisy.images(rng.integers(0, len(ds), BATCH)),
                                                            BATCH), baseline, "img/s")
