import numpy as np

from bench.data.grid import FactorGrid
from bench.data.pairs import laplace_probs, sample_pair_factors

GRID = FactorGrid(("shape", "a", "b"), (3, 8, 5), (True, False, False))


def test_categorical_factors_fixed_and_pairs_never_identical(rng):
    f_t, f_t1 = sample_pair_factors(GRID, 20_000, rng)
    np.testing.assert_array_equal(f_t[:, 0], f_t1[:, 0])
    assert not (f_t == f_t1).all(axis=1).any()
    assert ((f_t1 >= 0) & (f_t1 < np.array(GRID.sizes))).all()


def test_step_distribution_is_the_truncated_laplace(rng):
    f_t, f_t1 = sample_pair_factors(GRID, 400_000, rng)
    b_start = 2
    q = laplace_probs(np.array([b_start]), 5, rate=1.0)[0, b_start]  # b stays in the first draw
    for a_start in (0, 3):
        rows = (f_t[:, 1] == a_start) & (f_t[:, 2] == b_start) & (f_t1[:, 2] != b_start)
        empirical = np.bincount(f_t1[rows, 1], minlength=8) / rows.sum()
        p_a = laplace_probs(np.array([a_start]), 8, rate=1.0)[0]
        # b moved either in its own draw, or in the redraw (picked 1 of 2 movable factors) after nothing moved.
        joint = p_a * (1 - q)
        joint[a_start] += p_a[a_start] * q / 2
        np.testing.assert_allclose(empirical, joint / joint.sum(), atol=0.015)
        assert p_a[a_start] == p_a.max()  # centred on the current value, truncated at the edge


def test_laplace_scale_is_log_size_over_rate():
    p = laplace_probs(np.array([4]), 10, rate=2.0)[0]
    np.testing.assert_allclose(p[5] / p[4], np.exp(-2.0 / np.log(10)))


def test_dataset_pairs_look_up_their_own_images(tmp_path, tiny_dsprites_spec, rng):
    from bench.data.sources import load_base
    ds = load_base(tiny_dsprites_spec, tmp_path)
    x_t, x_t1, f_t, f_t1 = ds.sample_pairs(16, rng)
    assert x_t.shape == (16, 1, 64, 64)
    np.testing.assert_array_equal(x_t1.numpy(), ds.images(ds.factors_to_index(f_t1)).numpy())
