import numpy as np
import pytest

from bench.data import DATASETS
from bench.data.grid import FactorGrid


@pytest.mark.parametrize("name", sorted(n for n, spec in DATASETS.items() if spec.has_factors))
def test_index_factor_round_trip_on_every_index(name):
    grid = DATASETS[name].grid
    index = np.arange(len(grid))
    factors = grid.index_to_factors(index)
    assert factors.shape == (len(grid), grid.num_factors)
    assert (factors.max(axis=0) == np.array(grid.sizes) - 1).all()
    np.testing.assert_array_equal(grid.factors_to_index(factors), index)


def test_grid_sizes_match_the_originals():
    assert DATASETS["dsprites"].grid.sizes == (3, 6, 40, 32, 32)
    assert len(DATASETS["dsprites"].grid) == 737_280
    assert DATASETS["shapes3d"].grid.sizes == (10, 10, 10, 8, 4, 15)
    assert len(DATASETS["shapes3d"].grid) == 480_000


def test_last_factor_varies_fastest():
    grid = FactorGrid(("a", "b"), (2, 3), (False, False))
    np.testing.assert_array_equal(grid.index_to_factors([0, 1, 3]), [[0, 0], [0, 1], [1, 0]])


def test_sample_factors_in_range_and_seeded(rng):
    grid = DATASETS["shapes3d"].grid
    a = grid.sample_factors(1000, np.random.default_rng(1))
    b = grid.sample_factors(1000, np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    assert ((a >= 0) & (a < np.array(grid.sizes))).all()
