"""Dataset variants: wrappers of a base dataset that share its factor grid and change only its images.

A variant is a function (base, root, build) -> GroundTruthData registered in `VARIANTS`: the original images,
the pixel-noise control, the study's structure-preserving "modified" images, and the "sham" control: the same
learned game with a target basis that is the factor basis itself (`bench.manipulation`). A learned variant has
independent builds, named `modified@2`: the same game played from another seed. Plain `modified` is build 0.
"""

from pathlib import Path

import numpy as np
import torch

from bench.data.ground_truth import GroundTruthData, StoredData
from bench.errors import UserError, lookup
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


def original(base: StoredData, root: Path, build: int | None) -> GroundTruthData:
    return base


def noise(base: StoredData, root: Path, build: int | None) -> GroundTruthData:
    return NoiseData(base, seed_hash("noise", base.name))


def learned(arm: str):
    """A variant made by the manipulation game in `arm`'s setting (`bench.manipulation.ARMS`)."""
    def make(base: StoredData, root: Path, build: int | None) -> GroundTruthData:
        from bench.manipulation import load_arm  # it trains models, which import this package
        return load_arm(base, root, arm, build)
    return make


def learned_identity(arm: str):
    def of(build: int | None) -> dict:
        from bench.manipulation import arm_config, identity
        return identity(arm_config(arm, build))
    return of


VARIANTS = {"original": original, "modified": learned("modified"), "sham": learned("sham"), "noise": noise}
# Variants whose images depend on settings beyond their name: those settings enter every run's identity. Only
# these have builds.
IDENTITIES = {"modified": learned_identity("modified"), "sham": learned_identity("sham")}
BUILD = "@"


def variant_name(arm: str, build: int | None) -> str:
    return arm if build is None else f"{arm}{BUILD}{build}"


def parse_variant(variant: str) -> tuple[str, int | None]:
    """`modified@2` -> ("modified", 2); `noise` -> ("noise", None). Checks the arm and the build."""
    arm, separator, build = variant.partition(BUILD)
    lookup(VARIANTS, arm, "variant")
    if not separator:
        return arm, None
    if arm not in IDENTITIES or not build.isdigit():
        raise UserError(f"variant {variant!r}: only {', '.join(IDENTITIES)} take a build, as a whole number "
                        f"after {BUILD!r} (e.g. modified{BUILD}2)")
    return arm, int(build)


def make_variant(base: StoredData, variant: str, root: Path) -> GroundTruthData:
    arm, build = parse_variant(variant)
    return VARIANTS[arm](base, root, build)


def identity(variant: str) -> dict | None:
    arm, build = parse_variant(variant)
    return IDENTITIES[arm](build) if arm in IDENTITIES else None
