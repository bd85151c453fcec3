"""Deterministic autoencoder: reconstruction only, the paper's non-variational baseline."""

from dataclasses import dataclass

from bench.models.base import GaussianVAE, StepLosses


@dataclass(frozen=True)
class Config:
    pass


class AE(GaussianVAE):
    Config = Config
    PAPER_VALUES = {}
    regulariser = None
    has_posterior = False  # one head: the code itself

    def __init__(self, config: Config, observation_shape, latent_dim):
        super().__init__(observation_shape, latent_dim, heads=1)
        self.config = config

    def losses(self, x):
        (z,) = self.encode(x)
        recon = self.reconstruction(z, x)
        return StepLosses({"model": recon}, {"recon": recon})
