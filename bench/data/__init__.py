"""Ground-truth datasets: `get(name, variant, root)` returns a dataset in disentanglement_lib's vocabulary."""

from bench.data.dsprites import DSPRITES
from bench.data.ground_truth import DatasetSpec, GroundTruthData
from bench.data.shapes3d import SHAPES3D
from bench.data.sources import data_root, load_base
from bench.data.variants import VARIANTS
from bench.errors import lookup

DATASETS: dict[str, DatasetSpec] = {spec.name: spec for spec in (DSPRITES, SHAPES3D)}


def get(name: str, variant: str = "original", root=None) -> GroundTruthData:
    """Dataset `name` in `variant`, building its image cache under the data root on first use."""
    spec = lookup(DATASETS, name, "dataset")
    make_variant = lookup(VARIANTS, variant, "variant")
    root = data_root(root)
    return make_variant(load_base(spec, root), root)


__all__ = ["DATASETS", "VARIANTS", "GroundTruthData", "DatasetSpec", "get", "data_root"]
