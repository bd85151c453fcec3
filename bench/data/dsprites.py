"""dSprites (deepmind/dsprites-dataset): the procedural rendering and the readers of the original files."""

import zipfile
from pathlib import Path

import h5py
import numpy as np

from bench.data import dsprites_render
from bench.data.ground_truth import DatasetSpec
from bench.data.grid import FactorGrid
from bench.data.originals import (check_classes, h5_dataset, load_npz_array, npz_keys, reading, require,
                                  stream_npz_array)
from bench.data.ordered import ordered_map

ORIGINAL_NPZ = "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
ORIGINAL_HDF5 = "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.hdf5"
CHUNK = 4096


NAMES = ("shape", "scale", "orientation", "posX", "posY")


def factor_values(num_positions=32, num_orientations=40, shapes=(0, 1, 2), posy_positions=None):
    """Values of (shape, scale, orientation, posX, posY); orientation includes 2 pi, as in the original.

    `posy_positions` keeps only the first positions of posY at the same spacing, so posY spans less of the
    canvas than posX.
    """
    positions = np.linspace(0.0, 1.0, num_positions)
    return (np.asarray(shapes), np.linspace(0.5, 1.0, 6), np.linspace(0.0, 2 * np.pi, num_orientations),
            positions, positions[:posy_positions])


def render_classes(spec: DatasetSpec, factors: np.ndarray) -> np.ndarray:
    """Factor classes (n, K) -> uint8 images (n, 1, H, W) with values 0 / 255."""
    values = {name: v[factors[:, k]] for k, (name, v) in enumerate(zip(spec.grid.names, spec.factor_values))}
    values.update({name: np.full(len(factors), v) for name, v in spec.fixed_values.items()})
    masks = dsprites_render.render(*(values[name] for name in NAMES), size=spec.observation_shape[-1])
    return masks[:, None] * np.uint8(255)


def render_chunks(spec: DatasetSpec):
    starts = range(0, len(spec.grid), CHUNK)
    stop = len(spec.grid)
    classes_of = lambda s: spec.grid.index_to_factors(np.arange(s, min(s + CHUNK, stop)))  # noqa: E731
    return ordered_map(lambda s: render_classes(spec, classes_of(s)), starts)


def read_original(path: Path, spec: DatasetSpec):
    """Ordered uint8 chunks (n, 1, 64, 64) from the original .npz or .hdf5, validated first."""
    reader = _read_npz if path.suffix == ".npz" else _read_hdf5
    with reading(path):
        yield from reader(path, spec)


def _read_npz(path: Path, spec: DatasetSpec):
    with zipfile.ZipFile(path) as archive:
        missing = {"imgs", "latents_classes"} - npz_keys(archive)
        require(path, not missing, f"missing arrays {sorted(missing)}")
        # Column 0 is colour, which has a single value; disentanglement_lib drops it too.
        classes = load_npz_array(path, archive, "latents_classes")
        check_classes(path, "latents_classes", classes, spec.grid, skip_columns=1)
        shape = (len(spec.grid), *spec.observation_shape[1:])
        for block in stream_npz_array(path, archive, "imgs", shape, np.uint8, CHUNK):
            yield _binary_to_cache(path, block)


def _read_hdf5(path: Path, spec: DatasetSpec):
    with h5py.File(path, "r") as f:
        missing = [k for k in ("imgs", "latents/classes") if k not in f]
        require(path, not missing, f"missing datasets {missing}")
        check_classes(path, "latents/classes", h5_dataset(path, f, "latents/classes")[()], spec.grid, skip_columns=1)
        imgs = h5_dataset(path, f, "imgs")
        shape = (len(spec.grid), *spec.observation_shape[1:])
        require(path, imgs.shape == shape, f"'imgs' has shape {imgs.shape}, expected {shape}")
        require(path, imgs.dtype == np.uint8, f"'imgs' has dtype {imgs.dtype}, expected uint8")
        for start in range(0, shape[0], CHUNK):
            yield _binary_to_cache(path, imgs[start:start + CHUNK])


def _binary_to_cache(path: Path, block: np.ndarray) -> np.ndarray:
    require(path, block.max(initial=0) <= 1, "'imgs' has values above 1; the original stores 0/1 masks")
    return block[:, None] * np.uint8(255)


def make_spec(name="dsprites", size=64, num_positions=32, num_orientations=40, shapes=(0, 1, 2),
              posy_positions=None) -> DatasetSpec:
    """dSprites or a smaller configuration of the same renderer; a factor with one value leaves the grid."""
    values = factor_values(num_positions, num_orientations, shapes, posy_positions)
    kept = [k for k, v in enumerate(values) if len(v) > 1]
    original = (size == 64 and num_positions == 32 and num_orientations == 40 and len(shapes) == 3
                and posy_positions is None)
    return DatasetSpec(
        name=name,
        grid=FactorGrid(tuple(NAMES[k] for k in kept), tuple(len(values[k]) for k in kept),
                        categorical=tuple(NAMES[k] == "shape" for k in kept)),
        observation_shape=(1, size, size),
        render_chunks=render_chunks,
        render_version="dsprites-1",
        eps=0.1,
        original_files=(ORIGINAL_NPZ, ORIGINAL_HDF5) if original else (),
        read_original=read_original if original else None,
        factor_values=tuple(values[k] for k in kept),
        fixed_values={NAMES[k]: float(values[k][0]) for k in range(len(NAMES)) if k not in kept},
        paper_dataset="dsprites",  # every configuration of the renderer is read against the paper's dSprites
    )


DSPRITES = make_spec()
