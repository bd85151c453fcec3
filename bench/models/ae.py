"""Deterministic autoencoder: reconstruction only, the paper's non-variational baseline."""

from dataclasses import dataclass

from bench.models.base import GaussianVAE, StepLosses


@dataclass(frozen=True)
class Config:
    pass


class AE(GaussianVAE):
    Config = Config
    PAPER_VALUES = {"dsprites": Config(), "shapes3d": Config()}  # nothing to set
    regulariser = None
    has_posterior = False
    heads = 1  # the code itself

    def losses(self, x):
        (z,) = self.encode(x)
        recon = self.reconstruction(z, x)
        return StepLosses({"model": recon}, {"recon": recon})
