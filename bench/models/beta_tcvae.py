"""beta-TCVAE (Chen et al. 2018), as disentanglement_lib: reconstruction + KL + (beta - 1) * TC."""

from dataclasses import dataclass

from bench.models.base import GaussianVAE, StepLosses
from bench.models.terms import kl_normal, sample_normal, total_correlation


@dataclass(frozen=True)
class Config:
    beta: float = 6.0


class BetaTCVAE(GaussianVAE):
    Config = Config
    PAPER_VALUES = {"dsprites": Config(beta=6.0), "shapes3d": Config(beta=32.0)}
    regulariser = "beta"

    def losses(self, x):
        mean, logvar = self.encode(x)
        z = sample_normal(mean, logvar)
        recon = self.reconstruction(z, x)
        kl = kl_normal(mean, logvar)
        tc = total_correlation(z, mean, logvar)
        loss = recon + kl + (self.config.beta - 1.0) * tc
        return StepLosses({"model": loss}, {"recon": recon, "kl": kl, "tc": tc})
