"""The dataset variants a run trains on: a ground-truth dataset as it is, with pixel noise, or with the study's
learned manipulation (`modified`) or its sham control, each wrapping the base dataset and sharing its grid.

This layer composes `bench.data` (original, noise) with `bench.manipulation` (the learned arms, which train
models), so that the data layer needs neither. A learned arm has independent builds, named `modified@2`: the same
game played from another seed. Plain `modified` is the default build.
"""

from bench.data import DATASETS, data_root, load_base
from bench.data.ground_truth import DatasetSpec, GroundTruthData, StoredData
from bench.data.noise import with_noise
from bench.data.sources import base_store
from bench.errors import UserError, lookup
from bench.manipulation import ARMS, BUILD, arm_config, load_arm, variant_name
from bench.manipulation import identity as manipulation_identity
from bench.manipulation.build import arm_built


def original(base: StoredData, root, build: int | None) -> GroundTruthData:
    return base


def noise(base: StoredData, root, build: int | None) -> GroundTruthData:
    return with_noise(base)


def learned(arm: str):
    """A variant made by the manipulation game in `arm`'s setting (`bench.manipulation.ARMS`)."""
    def make(base: StoredData, root, build: int | None) -> GroundTruthData:
        return load_arm(base, root, arm, build)
    return make


def learned_identity(arm: str):
    def of(spec: DatasetSpec, build: int | None) -> dict:
        return manipulation_identity(arm_config(spec, arm, build))
    return of


VARIANTS = {"original": original, **{arm: learned(arm) for arm in ARMS}, "noise": noise}
# Variants whose images depend on settings beyond their name: those settings enter every run's identity. Only
# these have builds.
IDENTITIES = {arm: learned_identity(arm) for arm in ARMS}


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


def identity(dataset: str, variant: str) -> dict | None:
    """What, beyond its name, makes a variant of `dataset` what it is; None for a variant its name fixes."""
    arm, build = parse_variant(variant)
    return IDENTITIES[arm](lookup(DATASETS, dataset, "dataset"), build) if arm in IDENTITIES else None


def is_built(name: str, variant: str = "original", root=None) -> bool:
    """Whether dataset `name` in `variant` is in the image cache (a learned variant: its base and its build), so
    that `get` would only read it. Looks and builds nothing, as a plan or a refusal to build must."""
    spec = lookup(DATASETS, name, "dataset")
    arm, build = parse_variant(variant)
    root = data_root(root)
    return base_store(spec, root).is_valid() and (arm not in IDENTITIES or arm_built(spec, root, arm, build))


def get(name: str, variant: str = "original", root=None) -> GroundTruthData:
    """Dataset `name` in `variant`, building its image cache (for a learned variant, its game first) on first use."""
    spec = lookup(DATASETS, name, "dataset")
    arm, build = parse_variant(variant)  # a bad name fails before any rendering
    root = data_root(root)
    return VARIANTS[arm](load_base(spec, root), root, build)


__all__ = ["IDENTITIES", "VARIANTS", "get", "identity", "is_built", "parse_variant", "variant_name"]
