"""Slow-VAE (Klindt et al. 2021), as bethgelab/slow_disentanglement: on temporal pairs,
2 * reconstruction + beta * KL(q || N(0, I)) + gamma * KL(q || Laplace transition prior with rate lambda),
the Laplace term taken in both directions of each pair."""

from dataclasses import dataclass

from bench.models.base import GaussianVAE, StepLosses
from bench.models.terms import kl_normal, laplace_cross_entropy, normal_entropy, sample_normal


@dataclass(frozen=True)
class Config:
    beta: float = 1.0
    gamma: float = 10.0
    rate: float = 6.0


class SlowVAE(GaussianVAE):
    Config = Config
    PAPER_VALUES = {"dsprites": Config(), "shapes3d": Config()}
    observations = 2
    regulariser = "gamma"

    def losses(self, pairs):
        x = pairs.flatten(0, 1)  # (2B, C, H, W), the two frames of pair i at rows 2i and 2i + 1
        mean, logvar = self.encode(x)
        recon = self.reconstruction(sample_normal(mean, logvar), x)
        kl = kl_normal(mean, logvar)
        m0, m1, lv0, lv1 = mean[0::2], mean[1::2], logvar[0::2], logvar[1::2]
        laplace = (laplace_cross_entropy(m0 - m1, lv0, self.config.rate)
                   + laplace_cross_entropy(m1 - m0, lv1, self.config.rate)).sum(dim=1).mean()
        kl_laplace = laplace - normal_entropy(logvar).sum(dim=1).mean()
        loss = 2 * recon + self.config.beta * kl + self.config.gamma * kl_laplace
        return StepLosses({"model": loss}, {"recon": recon, "kl": kl, "kl_laplace": kl_laplace})
