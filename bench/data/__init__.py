"""Ground-truth datasets in disentanglement_lib's vocabulary: the registered specs, their cached images and the
noise control; and the datasets without factors made from a user's files (`unlabelled`). Nothing here knows of
models or training; `bench.variants` adds the learned variants on top."""

from bench.data import dsprites, shapes3d
from bench.data.dsprites import DSPRITES
from bench.data.ground_truth import DatasetSpec, GroundTruthData, StoredData
from bench.data.shapes3d import SHAPES3D
from bench.data.sources import data_root, load_base
from bench.data.unlabelled import CELEBA, CHAIRS3D, FACES3D, UnlabelledData, UnlabelledSpec
from bench.errors import UserError, lookup, unused_name

# dsprites_small: the same renderer at 32 x 32 with 8 positions and 4 orientations (4,608 images), for smoke runs.
DSPRITES_SMALL = dsprites.make_spec("dsprites_small", size=32, num_positions=8, num_orientations=4)
# dsprites_mini: squares at one orientation, 32 x 32: scale 6 x posX 32 x posY 32 (6,144 images). A candidate
# miniature for the CPU-sized reproduction, keeping the mechanism (position factors, the same renderer).
DSPRITES_MINI = dsprites.make_spec("dsprites_mini", size=32, num_positions=32, num_orientations=1, shapes=(0,))
# Two ways to give posX and posY distinct image variance, which a square on the full canvas does not: an
# ellipse at one orientation (measured, rejected), and squares with posY over half the canvas (16 of the 32
# positions), the quick profile's data (docs/quick-profile.md).
DSPRITES_ELLIPSE = dsprites.make_spec("dsprites_ellipse", size=32, num_positions=32, num_orientations=1,
                                      shapes=(1,))
DSPRITES_HALFY = dsprites.make_spec("dsprites_halfy", size=32, num_positions=32, num_orientations=1, shapes=(0,),
                                    posy_positions=16)
# Shapes3D miniatures at 32 x 32, candidates for a CPU-sized Shapes3D run (docs/quick-profile.md): fewer values per
# factor (`shapes3d.evenly`), every factor kept. The three hues stay, because they are what
# makes Shapes3D easy for a VAE. 10,000 and 2,304 images.
SHAPES3D_MINI = shapes3d.make_spec("shapes3d_mini", size=32, factor_values=shapes3d.evenly(hues=5, scales=4,
                                                                                        orientations=5))
SHAPES3D_MICRO = shapes3d.make_spec("shapes3d_micro", size=32, factor_values=shapes3d.evenly(hues=4, scales=3,
                                                                                          orientations=3))
# FactorVAE's datasets without ground-truth factors, from the user's files only (bench/data/unlabelled.py).
DATASETS: dict[str, DatasetSpec | UnlabelledSpec] = {spec.name: spec for spec in (
    DSPRITES, SHAPES3D, DSPRITES_SMALL, DSPRITES_MINI, DSPRITES_ELLIPSE, DSPRITES_HALFY, SHAPES3D_MINI, SHAPES3D_MICRO,
    CELEBA, CHAIRS3D, FACES3D)}


def register(spec: DatasetSpec | UnlabelledSpec) -> DatasetSpec | UnlabelledSpec:
    """Add a user's dataset (a plugin, docs/extending.md): a renderer's spec (`dsprites.make_spec`,
    `shapes3d.make_spec`) or a spec of their own files."""
    if not isinstance(spec, (DatasetSpec, UnlabelledSpec)):
        raise UserError(f"a dataset must be a DatasetSpec or an UnlabelledSpec, not {type(spec).__name__}")
    unused_name(DATASETS, spec.name, spec, "dataset")
    DATASETS[spec.name] = spec
    return spec


def selected(name: str | None = None, user_files: bool = False) -> list[DatasetSpec | UnlabelledSpec]:
    """The spec of dataset `name`; with no name, of every dataset bench can make itself (the ground-truth ones),
    and with `user_files` also of those made only from a user's files."""
    if name:
        return [lookup(DATASETS, name, "dataset")]
    return [spec for spec in DATASETS.values() if spec.has_factors or user_files]


__all__ = ["DATASETS", "DatasetSpec", "GroundTruthData", "StoredData", "UnlabelledData", "UnlabelledSpec",
           "data_root", "load_base", "register", "selected"]
