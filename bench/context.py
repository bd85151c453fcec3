"""How runs execute: where they read data and write results, on what they train, and how many run at once."""

import os
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from bench.data import data_root


@dataclass(frozen=True)
class Context:
    """Everything about executing runs that does not change their results, so none of it enters a run's identity:
    the results and data roots, the device, the backend (local worker processes, or a dask cluster at
    `scheduler`), how many runs at once (`jobs`) and how often a run checkpoints."""

    results: Path = Path("results")
    data_root: Path | None = None  # None: $BENCH_DATA_ROOT, else ./datasets
    device: str = "cpu"
    jobs: int = 1
    backend: str = "local"
    scheduler: str | None = None
    checkpoint_every: int = 1000
    tensorboard: bool = False  # also log each run's losses as TensorBoard scalars (needs the tensorboard package)

    def resolved(self) -> "Context":
        """With absolute roots, so that workers elsewhere (a dask cluster on a shared disk) find the same folders."""
        return replace(self, results=Path(self.results).resolve(), data_root=data_root(self.data_root).resolve())


def one_gpu_each(device: str) -> bool:
    """Whether local workers each take a GPU of their own: `cuda` (or `auto` where CUDA is visible) names none."""
    return device == "cuda" or (device == "auto" and torch.cuda.is_available())


def resolve_jobs(jobs: int | None, device: str) -> int:
    """How many runs at once: `jobs` if given, else one worker per GPU on a GPU device and one per core on the
    CPU (every run trains single-threaded)."""
    if jobs is not None:
        return jobs
    if one_gpu_each(device):
        return max(1, torch.cuda.device_count())  # none: `--device cuda` is refused before any run
    return os.cpu_count() or 1
