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
