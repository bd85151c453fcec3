"""Dataset variants: wrappers of a base dataset that share its factor grid and change only its images.

A variant is a function (base, root) -> GroundTruthData registered in `VARIANTS`: the original images, the
pixel-noise control, and the study's structure-preserving "modified" images (`bench.manipulation`).
"""

from pathlib import Path

import numpy as np
import torch

from bench.data.ground_truth import GroundTruthData, StoredData
from bench.seeding import seed_hash


class NoiseData(GroundTruthData):
    """The pixel-noise control: i.i.d. uniform noise in [-eps, eps] per pixel, clipped to [0, 1].

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


def original(base: StoredData, root: Path) -> GroundTruthData:
    return base


def noise(base: StoredData, root: Path) -> GroundTruthData:
    return NoiseData(base, seed_hash("noise", base.name))


def modified(base: StoredData, root: Path) -> GroundTruthData:
    from bench.manipulation import load_modified  # it trains models, which import this package
    return load_modified(base, root)


def modified_identity() -> dict:
    from bench.manipulation import identity
    return identity()


VARIANTS = {"original": original, "modified": modified, "noise": noise}
# Variants whose images depend on settings beyond their name: those settings enter every run's identity.
IDENTITIES = {"modified": modified_identity}


def identity(variant: str) -> dict | None:
    return IDENTITIES[variant]() if variant in IDENTITIES else None
