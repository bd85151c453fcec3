"""The ground-truth dataset interface (disentanglement_lib's `GroundTruthData` vocabulary) and its stored form."""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch

from bench.data.grid import FactorGrid
from bench.data.pairs import sample_pair_factors
from bench.errors import UserError


@dataclass(frozen=True)
class DatasetSpec:
    """Everything that defines one dataset: its grid, how to render it and how to read the original files."""

    name: str
    grid: FactorGrid
    observation_shape: tuple[int, int, int]  # (C, H, W)
    render_chunks: Callable[["DatasetSpec"], Iterator[np.ndarray]]  # ordered uint8 chunks (n, C, H, W)
    render_version: str  # bump whenever the renderer's pixels change: old caches are then rebuilt
    eps: float  # size of the perturbation of the noise and modified variants (docs/paper.md)
    original_files: tuple[str, ...] = ()  # file names looked for in the data root, first found wins
    read_original: Callable[[Path, "DatasetSpec"], Iterator[np.ndarray]] | None = None
    factor_values: tuple[np.ndarray, ...] = field(default=(), compare=False)  # for people; classes index them
    fixed_values: dict = field(default_factory=dict, compare=False)  # generative factors held constant
    paper_dataset: str = field(default="", compare=False)  # the paper's dataset it stands for in reports
    # The manipulation game's settings where this dataset's differ from the defaults (`ManipulationConfig`), as
    # (name, value) pairs: a target or a schedule chosen for it by measurement (docs/manipulation.md).
    manipulation: tuple[tuple[str, object], ...] = ()
    has_factors: ClassVar[bool] = True  # unlike the user-supplied datasets of `bench.data.unlabelled`

    def stands_for(self) -> str:
        """The paper's dataset whose model settings and numbers this one is read against."""
        if not self.paper_dataset:
            raise UserError(f"dataset {self.name} stands for none of the paper's datasets, so no model has paper "
                            "values for it; give its spec a paper_dataset")
        return self.paper_dataset


class GroundTruthData(ABC):
    """Factor grid plus images. Subclasses provide `images`; sampling is shared by all datasets and variants."""

    def __init__(self, spec: DatasetSpec, variant: str):
        self.spec, self.variant = spec, variant

    name = property(lambda self: self.spec.name)
    grid = property(lambda self: self.spec.grid)
    factor_names = property(lambda self: self.spec.grid.names)
    factor_sizes = property(lambda self: self.spec.grid.sizes)
    factors_num_values = factor_sizes  # disentanglement_lib's name
    num_factors = property(lambda self: self.spec.grid.num_factors)
    observation_shape = property(lambda self: self.spec.observation_shape)
    has_factors = True
    default_latent_dim = property(lambda self: self.spec.grid.num_factors)  # a latent per factor, as the study

    def __len__(self) -> int:
        return len(self.grid)

    def __repr__(self) -> str:
        return f"<{self.name}/{self.variant}: {len(self)} images, factors {dict(zip(self.factor_names, self.factor_sizes))}>"

    @abstractmethod
    def images(self, index) -> torch.Tensor:
        """Images at flat indices (N,), float32 (N, C, H, W) in [0, 1]."""

    def index_to_factors(self, index) -> np.ndarray:
        return self.grid.index_to_factors(index)

    def factors_to_index(self, factors) -> np.ndarray:
        return self.grid.factors_to_index(factors)

    def sample_factors(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return self.grid.sample_factors(n, rng)

    def sample_observations_from_factors(self, factors, rng: np.random.Generator) -> torch.Tensor:
        # Every factor vector names exactly one image, so rng is unused; kept for disentanglement_lib's signature.
        return self.images(self.factors_to_index(factors))

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, torch.Tensor]:
        factors = self.sample_factors(n, rng)
        return factors, self.images(self.factors_to_index(factors))

    def sample_pairs(self, n: int, rng: np.random.Generator):
        """(x_t, x_t1, f_t, f_t1) for temporal models; see `bench.data.pairs`."""
        f_t, f_t1 = sample_pair_factors(self.grid, n, rng)
        return self.images(self.factors_to_index(f_t)), self.images(self.factors_to_index(f_t1)), f_t, f_t1


class StoredData(GroundTruthData):
    """Images read from a uint8 array (N, C, H, W), usually a memory-mapped cache."""

    def __init__(self, spec: DatasetSpec, variant: str, array: np.ndarray, source: str):
        super().__init__(spec, variant)
        self.array, self.source = array, source

    def images(self, index) -> torch.Tensor:
        index = np.asarray(index, dtype=np.int64)
        return torch.from_numpy(self.array[index]).float().div_(255.0)
