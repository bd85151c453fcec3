"""Shapes3D (deepmind/3d-shapes): a ray-cast look-alike, and the reader of the original `3dshapes.h5`."""

from pathlib import Path

import h5py
import numpy as np

from bench.data import shapes3d_render as r3d
from bench.data.ground_truth import DatasetSpec
from bench.data.grid import FactorGrid
from bench.data.originals import check_classes, h5_dataset, reading, require
from bench.data.ordered import ordered_map

ORIGINAL_H5 = "3dshapes.h5"
FACTOR_VALUES = (np.linspace(0.0, 0.9, 10), np.linspace(0.0, 0.9, 10), np.linspace(0.0, 0.9, 10),
                 np.linspace(0.75, 1.25, 8), np.arange(4), np.linspace(-30.0, 30.0, 15))
HUE_FACTORS = 3  # floor, wall and object hue come first in the grid; geometry factors follow


def evenly(hues: int, scales: int, orientations: int) -> tuple[np.ndarray, ...]:
    """Factor values for a miniature: hues evenly spaced round the colour circle, as the full set's ten are (so
    the last is as far from the first as from its other neighbour), scales and orientations evenly spaced over
    the full ranges, and all four shapes (categories, not a range to thin out)."""
    _, _, _, scale, shape, orientation = FACTOR_VALUES

    def spaced(values, n):
        return np.linspace(values[0], values[-1], n)

    return (*[np.arange(hues) / hues] * HUE_FACTORS, spaced(scale, scales), shape, spaced(orientation, orientations))


def _geometry_maps(spec: DatasetSpec) -> list[r3d.GeometryMap]:
    """One map per (scale, shape, orientation), in grid order."""
    scales, shapes, orientations = spec.factor_values[HUE_FACTORS:]
    keys = [(sc, int(sh), o) for sc in scales for sh in shapes for o in orientations]
    size = spec.observation_shape[-1]
    return list(ordered_map(lambda key: r3d.render_geometry(*key, size=size), keys))


def _surface_stack(maps, surface: int, rgb: np.ndarray) -> np.ndarray:
    """(hues, maps, 3, H, W) contribution of one surface."""
    return np.stack([r3d.surface_layers(g, surface, rgb) for g in maps], axis=1).astype(np.float32)


def render_chunks(spec: DatasetSpec):
    """Ordered blocks, one per (floor hue, wall hue): (object hues x geometry maps) images each."""
    maps = _geometry_maps(spec)
    rgb = r3d.hue_rgb(spec.factor_values[0])
    floor, wall, obj = (_surface_stack(maps, r3d.SURFACES.index(s), rgb) for s in ("floor", "wall", "object"))
    sky = np.stack([g.coverage[0][None] * r3d.SKY_RGB[:, None, None] for g in maps]).astype(np.float32)
    backdrop = lambda fh, wh: sky + floor[fh] + wall[wh]  # noqa: E731

    def block(hues):
        images = backdrop(*hues)[None] + obj
        return np.rint(np.clip(images, 0.0, 1.0) * 255).astype(np.uint8).reshape(-1, *spec.observation_shape)

    n_hues = len(rgb)
    return ordered_map(block, ((fh, wh) for fh in range(n_hues) for wh in range(n_hues)))


def read_original(path: Path, spec: DatasetSpec):
    """Ordered uint8 chunks (n, 3, 64, 64) from `3dshapes.h5`, read in slices (the file is gzip-chunked)."""
    with reading(path), h5py.File(path, "r") as f:
        missing = [k for k in ("images", "labels") if k not in f]
        require(path, not missing, f"missing datasets {missing}")
        images, labels = h5_dataset(path, f, "images"), h5_dataset(path, f, "labels")[()]
        expected = (len(spec.grid), *spec.observation_shape[1:], spec.observation_shape[0])
        require(path, images.shape == expected, f"'images' has shape {images.shape}, expected {expected}")
        require(path, images.dtype == np.uint8, f"'images' has dtype {images.dtype}, expected uint8")
        require(path, labels.ndim == 2, f"'labels' has shape {labels.shape}, expected {(len(spec.grid), 6)}")
        # Label values are floats; their rank within each column is the factor class.
        classes = np.stack([np.unique(col, return_inverse=True)[1] for col in labels.T], axis=1)
        check_classes(path, "labels", classes, spec.grid)
        step = (images.chunks or (1000,))[0] * 10
        for start in range(0, len(images), step):
            yield np.ascontiguousarray(images[start:start + step].transpose(0, 3, 1, 2))


def make_spec(name="shapes3d", factor_values=FACTOR_VALUES, size: int = 64) -> DatasetSpec:
    """Shapes3D, or a miniature of the same renderer: fewer values per factor and/or smaller images (the camera
    keeps its field of view). Only the full set at 64 x 64 can be read from the original file."""
    original = size == 64 and all(len(v) == len(f) and np.allclose(v, f) for v, f in zip(factor_values, FACTOR_VALUES))
    return DatasetSpec(
        name=name,
        grid=FactorGrid(("floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation"),
                        tuple(len(v) for v in factor_values),
                        categorical=(False, False, False, False, True, False)),
        observation_shape=(3, size, size),
        render_chunks=render_chunks,
        render_version="shapes3d-1",
        eps=0.175,
        original_files=(ORIGINAL_H5,) if original else (),
        read_original=read_original if original else None,
        factor_values=factor_values,
        paper_dataset="shapes3d",
    )


SHAPES3D = make_spec()
