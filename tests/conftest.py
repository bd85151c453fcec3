"""Small synthetic datasets that tests build in a temporary data root (never the full grids)."""

import numpy as np
import pytest

from bench.data import dsprites, shapes3d


@pytest.fixture(scope="session")
def tiny_dsprites_spec():
    """All shapes and scales, 2 orientations, 3 x 3 positions: 324 images, rendered like the full set."""
    return dsprites.make_spec("tiny_dsprites", num_positions=3, num_orientations=2)


@pytest.fixture(scope="session")
def tiny_shapes3d_spec():
    hues = np.array([0.0, 0.5])
    values = (hues, hues, hues, np.array([0.75, 1.25]), np.arange(4), np.array([-30.0, 0.0, 30.0]))
    return shapes3d.make_spec("tiny_shapes3d", factor_values=values)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def small_dsprites(tmp_path_factory):
    """A 32 x 32 dSprites grid (324 images) for fast training tests."""
    from bench.data.sources import load_base
    spec = dsprites.make_spec("small_dsprites", size=32, num_positions=3, num_orientations=2)
    return load_base(spec, tmp_path_factory.mktemp("data"))


def trained_run(tmp_path_factory, model: str):
    """A finished 10-step run of `model` on dsprites_small, trained as `bench train` does: (run dir, data root)."""
    from bench.launch import train_alone
    root = tmp_path_factory.mktemp(model)
    _, run = train_alone(model, "dsprites_small", steps=10, out=root / "run", progress=False, data_root=root / "data")
    return run, root / "data"
