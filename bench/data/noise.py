"""The pixel-noise control: a variant that wraps a base dataset, shares its factor grid and adds bounded noise."""

import numpy as np
import torch

from bench.data.ground_truth import GroundTruthData
from bench.seeding import seed_hash


class NoiseData(GroundTruthData):
    """i.i.d. uniform noise in [-eps, eps] per pixel, clipped to [0, 1].

    The noise of image i is drawn from a Philox stream keyed by (seed, i), so it is fixed per image without
    storing a copy of the dataset, and does not depend on which other images are in the batch.
    """

    def __init__(self, base: GroundTruthData, seed: int):
        super().__init__(base.spec, "noise")
        self.base, self.seed, self.eps = base, seed, base.spec.eps

    def noise(self, index) -> np.ndarray:
        index = np.asarray(index, dtype=np.int64)
        n_pixels = int(np.prod(self.observation_shape))
        out = np.empty((len(index), n_pixels), dtype=np.float32)
        for row, i in enumerate(index):
            stream = np.random.Generator(np.random.Philox(key=(self.seed << 64) | int(i)))
            out[row] = stream.random(n_pixels, dtype=np.float32)
        return (2.0 * out - 1.0).reshape(len(index), *self.observation_shape)

    def images(self, index) -> torch.Tensor:
        x = self.base.images(index)
        return x.add_(torch.from_numpy(self.noise(index)), alpha=self.eps).clamp_(0.0, 1.0)


def with_noise(base: GroundTruthData) -> NoiseData:
    """The noise control of `base`, its seed named by the dataset, so every run on it sees the same noise."""
    return NoiseData(base, seed_hash("noise", base.name))
