"""The factor grid of a ground-truth dataset: sizes, names, and index <-> factor-class conversion."""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FactorGrid:
    """A full row-major grid of discrete factors; the last factor varies fastest."""

    names: tuple[str, ...]
    sizes: tuple[int, ...]
    categorical: tuple[bool, ...]  # factors that temporal pairs never change (object shape)

    def __post_init__(self):
        if not len(self.names) == len(self.sizes) == len(self.categorical):
            raise ValueError("names, sizes and categorical must have one entry per factor")

    @property
    def num_factors(self) -> int:
        return len(self.sizes)

    def __len__(self) -> int:
        return int(np.prod(self.sizes, dtype=np.int64))

    def index_to_factors(self, index) -> np.ndarray:
        """Flat indices (N,) -> factor classes (N, K)."""
        index = np.asarray(index, dtype=np.int64)
        return np.stack(np.unravel_index(index, self.sizes), axis=-1).astype(np.int64)

    def factors_to_index(self, factors) -> np.ndarray:
        """Factor classes (N, K) -> flat indices (N,)."""
        factors = np.asarray(factors, dtype=np.int64)
        if factors.shape[-1] != self.num_factors:
            raise ValueError(f"factors need {self.num_factors} columns, got shape {factors.shape}")
        return np.ravel_multi_index(tuple(np.moveaxis(factors, -1, 0)), self.sizes).astype(np.int64)

    def sample_factors(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n factor vectors drawn uniformly from the grid, as classes (n, K)."""
        return np.stack([rng.integers(0, s, size=n) for s in self.sizes], axis=1).astype(np.int64)
