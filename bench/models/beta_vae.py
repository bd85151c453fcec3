"""beta-VAE (Higgins et al. 2017): reconstruction + beta * KL."""

from dataclasses import dataclass

from bench.models.base import GaussianVAE, StepLosses
from bench.models.terms import kl_normal, sample_normal


@dataclass(frozen=True)
class Config:
    beta: float = 8.0


class BetaVAE(GaussianVAE):
    Config = Config
    PAPER_VALUES = {"dsprites": Config(beta=8.0), "shapes3d": Config(beta=32.0)}
    regulariser = "beta"

    def losses(self, x):
        mean, logvar = self.encode(x)
        recon = self.reconstruction(sample_normal(mean, logvar), x)
        kl = kl_normal(mean, logvar)
        return StepLosses({"model": recon + self.config.beta * kl}, {"recon": recon, "kl": kl})
