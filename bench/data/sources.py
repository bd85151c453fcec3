"""Where a dataset's images come from (a user's original file, or our renderer; for a dataset without factors,
only the user's files) and their cache."""

import os
from pathlib import Path

from bench.data import unlabelled
from bench.data.ground_truth import DatasetSpec, StoredData
from bench.data.store import ImageStore, cache_key
from bench.data.unlabelled import UnlabelledData, UnlabelledSpec

DATA_ROOT_ENV = "BENCH_DATA_ROOT"


def data_root(root=None) -> Path:
    """The data root: the argument, else $BENCH_DATA_ROOT, else ./datasets."""
    return Path(root or os.environ.get(DATA_ROOT_ENV) or "datasets")


def find_original(spec: DatasetSpec, root: Path) -> Path | None:
    """The user's original file for this dataset, if any (in the data root or its `<name>/` folder)."""
    for folder in (root, root / spec.name):
        for name in spec.original_files:
            if (folder / name).is_file():
                return folder / name
    return None


def source_params(spec: DatasetSpec, root: Path) -> dict:
    """What the cached images were made from; a change of any of it invalidates the cache."""
    original = find_original(spec, root)
    if original is None:
        return {"source": "rendered", "render_version": spec.render_version, "grid": list(spec.grid.sizes),
                "observation_shape": list(spec.observation_shape),
                "factor_values": [[float(x) for x in v] for v in spec.factor_values],
                "fixed_values": {k: float(v) for k, v in spec.fixed_values.items()}}
    stat = original.stat()
    return {"source": "original", "file": str(original.resolve()), "bytes": stat.st_size,
            "mtime_ns": stat.st_mtime_ns}


def base_store(spec: DatasetSpec | UnlabelledSpec, root: Path) -> ImageStore:
    """Where `spec`'s base images are cached (looking builds nothing)."""
    return _kind(STORES, spec)(spec, Path(root))


def describe_source(params: dict) -> str:
    return SOURCES[params["source"]](params)


def load_base(spec: DatasetSpec | UnlabelledSpec, root, rebuild: bool = False) -> StoredData | UnlabelledData:
    """The base images, building the cache first if it is missing, stale or (with rebuild) unverified."""
    return _kind(LOADERS, spec)(spec, root, rebuild)


def _kind(table: dict, spec):
    """The entry of `table` for `spec`'s kind (a plugin may subclass a spec)."""
    return next(entry for kind, entry in table.items() if isinstance(spec, kind))


def _ground_truth_store(spec: DatasetSpec, root: Path) -> ImageStore:
    params = source_params(spec, root)
    directory = root / spec.name / f"original-{cache_key(params)}"
    return ImageStore(directory, (len(spec.grid), *spec.observation_shape), params)


def _load_ground_truth(spec: DatasetSpec, root, rebuild: bool) -> StoredData:
    store = base_store(spec, Path(root))
    if rebuild or not store.is_valid():
        array = store.write(_chunks(spec, store.params), desc=f"{spec.name}: {_verb(store.params)}")
    else:
        array = store.open()
    return StoredData(spec, "original", array, describe_source(store.params))


# Each kind of dataset spec: where its cache lies and how its base images are made; each kind of source: how a
# reader is told of it.
STORES = {DatasetSpec: _ground_truth_store, UnlabelledSpec: unlabelled.image_store}
LOADERS = {DatasetSpec: _load_ground_truth, UnlabelledSpec: unlabelled.load}
SOURCES = {"user files": unlabelled.describe_source, "original": lambda p: f"original file {p['file']}",
           "rendered": lambda p: f"rendered by bench ({p['render_version']})"}


def _chunks(spec: DatasetSpec, params: dict):
    if params["source"] == "original":
        return spec.read_original(Path(params["file"]), spec)
    return spec.render_chunks(spec)


def _verb(params: dict) -> str:
    return "importing original" if params["source"] == "original" else "rendering"
