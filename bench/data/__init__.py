"""Ground-truth datasets in disentanglement_lib's vocabulary: the registered specs, their cached images and the
noise control. Nothing here knows of models or training; `bench.variants` adds the learned variants on top."""

from bench.data import dsprites
from bench.data.dsprites import DSPRITES
from bench.data.ground_truth import DatasetSpec, GroundTruthData, StoredData
from bench.data.shapes3d import SHAPES3D
from bench.data.sources import data_root, load_base
from bench.errors import lookup

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
DATASETS: dict[str, DatasetSpec] = {spec.name: spec for spec in (
    DSPRITES, SHAPES3D, DSPRITES_SMALL, DSPRITES_MINI, DSPRITES_ELLIPSE, DSPRITES_HALFY)}


def selected(name: str | None = None) -> list[DatasetSpec]:
    """The spec of dataset `name`, or of every registered dataset when no name is given."""
    return [lookup(DATASETS, name, "dataset")] if name else list(DATASETS.values())


__all__ = ["DATASETS", "DatasetSpec", "GroundTruthData", "StoredData", "data_root", "load_base", "selected"]
