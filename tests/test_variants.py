import numpy as np
import torch

from bench.data.sources import load_base
from bench.variants import VARIANTS


def test_noise_is_bounded_by_eps_and_clipped(tmp_path, tiny_dsprites_spec):
    base = load_base(tiny_dsprites_spec, tmp_path)
    noisy = VARIANTS["noise"](base, tmp_path, None)
    idx = np.arange(len(base))
    x, y = base.images(idx), noisy.images(idx)
    eps = tiny_dsprites_spec.eps
    assert (y - x).abs().max() <= eps + 1e-6
    assert (y - x).abs().max() > 0.9 * eps
    assert y.min() >= 0 and y.max() <= 1
    assert noisy.factor_sizes == base.factor_sizes and noisy.variant == "noise"


def test_noise_is_repeatable_per_image_whatever_the_batch(tmp_path, tiny_dsprites_spec):
    base = load_base(tiny_dsprites_spec, tmp_path)
    noisy = VARIANTS["noise"](base, tmp_path, None)
    alone = noisy.images([7])
    in_batch = noisy.images([3, 7, 11])[1:2]
    torch.testing.assert_close(alone, in_batch, rtol=0, atol=0)
    assert not np.array_equal(noisy.noise([3])[0], noisy.noise([7])[0])


def test_noise_is_zero_mean_uniform(tmp_path, tiny_dsprites_spec):
    noisy = VARIANTS["noise"](load_base(tiny_dsprites_spec, tmp_path), tmp_path, None)
    n = noisy.noise(np.arange(50)).ravel()
    assert abs(n.mean()) < 0.01 and abs(n.var() - 1 / 3) < 0.01  # U(-1, 1)
