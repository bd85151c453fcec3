"""InfoWGAN-GP (Kim and Mnih 2018, Section 6): InfoGAN (Chen et al. 2016) trained with the Wasserstein critic and
gradient penalty of Gulrajani et al. (2017), the GAN that the FactorVAE paper compares with and finds to
disentangle poorly on dSprites.

A generator draws an image from a structured code c (one dimension per factor, as the VAEs' latents) and
unstructured noise z, both standard normal; a critic scores images; a head Q on the critic's features predicts c
with a unit-variance Gaussian, and both players maximise InfoGAN's bound on I(c; G(c, z)). The code a metric reads
is Q's prediction. The generator, with z at its mean 0, is the model's decoder: it draws traversals, and its image of
Q's code of x is the reconstruction, which nothing trains. The critic steps every step and the generator every
`n_critic`-th, counted in a buffer that checkpoints keep.
"""

from dataclasses import dataclass

import torch
from torch import nn

from bench.models.base import Model, StepLosses, Turns
from bench.models.nets import Decoder, Encoder
from bench.models.terms import bernoulli_reconstruction, gaussian_log_density, normal_entropy

ADAM = {"betas": (0.5, 0.9)}  # as in Gulrajani et al.'s MNIST code (their Algorithm 1 says 0, 0.9)


@dataclass(frozen=True)
class Config:
    info_weight: float = 1.0  # InfoGAN's lambda on the information bound, in both players' objectives
    noise_dim: int = 10  # unstructured noise z beside the code
    gp_weight: float = 10.0  # Gulrajani et al.'s lambda
    n_critic: int = 5  # critic steps per generator step


class Generator(nn.Module):
    """(code, noise) -> Bernoulli logits of an image, through the VAEs' decoder. Without noise it draws with the
    noise at its mean 0, so that code -> image is a decoder like the VAEs' (traversals, the decoder Jacobian)."""

    def __init__(self, channels: int, size: int, code_dim: int, noise_dim: int):
        super().__init__()
        self.noise_dim = noise_dim
        self.net = Decoder(channels, size, code_dim + noise_dim)

    def forward(self, code, noise=None):
        if noise is None:
            noise = code.new_zeros(len(code), self.noise_dim)
        return self.net(torch.cat([code, noise], dim=1))


def gradient_penalty(score, real, fake):
    """Gulrajani et al.'s E[(||grad_x score(x)|| - 1)^2] at points x drawn uniformly on the segments between real
    and fake images (the norm over all of an image's pixels). It builds its own graph, so that it can be computed
    and trained through even where the caller disabled gradients."""
    alpha = torch.rand(len(real), *[1] * (real.dim() - 1), device=real.device)
    with torch.enable_grad():
        x = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
        (grad,) = torch.autograd.grad(score(x).sum(), x, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()


def information_bound(code, predicted):
    """InfoGAN's lower bound on I(c; G(c, z)), H(c) + E log Q(c | G(c, z)), with Q a unit-variance Gaussian about
    `predicted` and c standard normal: summed over the code's dimensions, averaged over the batch (nats)."""
    zero = torch.zeros_like(predicted)
    return (gaussian_log_density(code, predicted, zero) + normal_entropy(zero)).sum(dim=1).mean()


class InfoWGANGP(Model):
    Config = Config
    # Neither paper gives a chosen setting: Kim and Mnih searched lambda in 0-1 and 5-160 noise variables on
    # dSprites and ran no GAN on 3D Shapes; see README, "Models and training".
    PAPER_VALUES = {"dsprites": Config(), "shapes3d": Config()}
    regulariser = "info_weight"

    def __init__(self, config: Config, observation_shape, latent_dim: int):
        super().__init__(config)
        channels, size, _ = observation_shape
        self.code_dim = latent_dim
        self.generator = Generator(channels, size, latent_dim, config.noise_dim)
        # One linear head on the VAEs' encoder body (ReLU, no batch norm): the score, then Q's prediction of c.
        self.critic = Encoder(channels, size, 1 + latent_dim, heads=1)
        self.generator_turn = Turns(config.n_critic, "n_critic")  # the generator steps every n_critic-th step

    @property
    def decoder(self):
        return self.generator

    def param_groups(self):
        return {"critic": (list(self.critic.parameters()), ADAM),
                "generator": (list(self.generator.parameters()), ADAM)}

    def score(self, x):
        return self.critic(x)[0][:, 0]

    def represent(self, x):
        return self.critic(x)[0][:, 1:]

    def reconstruct(self, x):
        return self.generator(self.represent(x))

    def losses(self, x):
        code = torch.randn(len(x), self.code_dim, device=x.device)
        fake = torch.sigmoid(self.generator(code, torch.randn(len(x), self.config.noise_dim, device=x.device)))
        real_out, fake_out = self.critic(torch.cat([x, fake]))[0].split(len(x))
        wasserstein = real_out[:, 0].mean() - fake_out[:, 0].mean()  # the critic's estimate of W(data, generator)
        penalty = gradient_penalty(self.score, x, fake)
        info = information_bound(code, fake_out[:, 1:])
        objectives = {"critic": -wasserstein + self.config.gp_weight * penalty - self.config.info_weight * info}
        if self.generator_turn():
            objectives["generator"] = -fake_out[:, 0].mean() - self.config.info_weight * info
        with torch.no_grad():  # watched, never trained: how much of x the code and the generator redraw
            recon = bernoulli_reconstruction(self.generator(real_out[:, 1:]), x)
        return StepLosses(objectives, {"wasserstein": wasserstein, "gradient_penalty": penalty, "information": info,
                                       "recon": recon})
