"""FactorVAE (Kim and Mnih 2018): reconstruction + KL + gamma * TC, the TC read from a discriminator that
tells codes from dimension-wise shuffled codes. The discriminator has its own Adam (betas 0.5, 0.9)."""

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from bench.models.base import GaussianVAE, StepLosses
from bench.models.terms import kl_normal, sample_normal, total_correlation


@dataclass(frozen=True)
class Config:
    gamma: float = 35.0


def shuffle_dims(z):
    """Permute each latent dimension independently across the batch: samples of prod_j q(z_j)."""
    return torch.stack([col[torch.randperm(len(col))] for col in z.unbind(dim=1)], dim=1)


def discriminator(latent_dim, width=1000, depth=6):
    layers, d_in = [], latent_dim
    for _ in range(depth):
        layers += [nn.Linear(d_in, width), nn.LeakyReLU(0.2)]
        d_in = width
    return nn.Sequential(*layers, nn.Linear(d_in, 2))


class FactorVAE(GaussianVAE):
    Config = Config
    PAPER_VALUES = {"dsprites": Config(gamma=35.0), "shapes3d": Config(gamma=7.0)}
    regulariser = "gamma"

    def __init__(self, config: Config, observation_shape, latent_dim):
        super().__init__(config, observation_shape, latent_dim)
        self.discriminator = discriminator(latent_dim)

    def param_groups(self):
        vae = list(self.encoder.parameters()) + list(self.decoder.parameters())
        return {"vae": (vae, {}), "discriminator": (list(self.discriminator.parameters()), {"betas": (0.5, 0.9)})}

    def probe(self, x, generator):
        """The discriminator's TC estimate beside a direct one, on the same codes of `x` (Kim & Mnih 2018, Fig. 7):
        the TC of the aggregate posterior of `x`'s images, by Monte Carlo over the mixture of their posteriors."""
        mean, logvar = self.encode(x)
        z = mean + torch.randn(mean.shape, generator=generator, device=mean.device) * (0.5 * logvar).exp()
        logits = self.discriminator(z)
        return {"tc_discriminator": (logits[:, 0] - logits[:, 1]).mean(),
                "tc_aggregate": total_correlation(z, mean, logvar)}

    def losses(self, x):
        mean, logvar = self.encode(x)
        z = sample_normal(mean, logvar)
        recon = self.reconstruction(z, x)
        kl = kl_normal(mean, logvar)
        logits = self.discriminator(z)
        tc = (logits[:, 0] - logits[:, 1]).mean()  # log D(z) / (1 - D(z)), class 0 = "joint"
        z_joint, z_shuffled = z.detach(), shuffle_dims(z.detach())
        disc = 0.5 * (F.cross_entropy(self.discriminator(z_joint), torch.zeros(len(z), dtype=torch.long))
                      + F.cross_entropy(self.discriminator(z_shuffled), torch.ones(len(z), dtype=torch.long)))
        return StepLosses({"vae": recon + kl + self.config.gamma * tc, "discriminator": disc},
                          {"recon": recon, "kl": kl, "tc": tc, "discriminator": disc})
