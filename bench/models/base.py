"""The contract every model meets, so that one training loop and one evaluation serve them all.

A model says how many observations a training example has (1 image, or 2 for a temporal pair), which
parameter groups it optimises (each with its own Adam settings), and computes, from a batch, one objective per
group plus named loss terms for logs. The loop never asks which model it is training. A model registered for
the study also declares its settings, the paper's values of them and the one a line search scales
(`Model.CONTRACT`); `bench.models.registry` refuses a class that lacks one.
"""

from dataclasses import dataclass

import torch
from torch import nn

from bench.errors import UserError
from bench.models.nets import Decoder, Encoder
from bench.models.terms import bernoulli_reconstruction


@dataclass
class StepLosses:
    objectives: dict[str, torch.Tensor]  # parameter group -> loss it minimises
    terms: dict[str, torch.Tensor]  # named parts, for logs and checks (detached or not)


class Turns(nn.Module):
    """A schedule for a group that steps less often than the others (InfoWGAN-GP's generator, the manipulation's
    m): calling it says whether this is a training step on which that group steps too, the n-th, 2n-th, ... call
    in training mode with gradients on. The calls are counted in a buffer, so that a resumed run keeps the
    schedule; any other call (an evaluation, under no_grad or in eval mode) neither counts nor takes a turn."""

    def __init__(self, every: int, setting: str):
        super().__init__()
        if every < 1:
            raise UserError(f"{setting} must be a whole number of at least 1, not {every}")
        self.every = every
        # Kept in checkpoints only where a group skips steps: a checkpoint written before a model had a schedule
        # (every step, the old behaviour) still loads.
        self.register_buffer("count", torch.zeros((), dtype=torch.long), persistent=every > 1)

    def forward(self) -> bool:
        if not (self.training and torch.is_grad_enabled()):
            return False
        self.count += 1
        return int(self.count) % self.every == 0


class Model(nn.Module):
    observations = 1  # a batch is (B, C, H, W); 2 means pairs, (B, 2, C, H, W)
    has_decoder = True
    has_posterior = False  # an encoder variance, which active units and polarisation read

    # The contract of a registered model, declared by each (no defaults, so a missing part is noticed):
    Config: type  # a frozen dataclass of the objective's settings, e.g. beta
    PAPER_VALUES: dict  # the paper's Config per dataset of the paper ("dsprites", "shapes3d")
    regulariser: str | None  # the Config field a line search scales; None for a model with no regulariser
    CONTRACT = ("Config", "PAPER_VALUES", "regulariser")
    # None, or a method (images, generator) -> named values that the loop logs to probes.csv as it logs losses:
    # a quantity a study follows over training that the loss does not hold (FactorVAE's true TC).
    probe = None

    def __init__(self, config):
        super().__init__()
        self.config = config

    def param_groups(self) -> dict[str, tuple[list[nn.Parameter], dict]]:
        return {"model": (list(self.parameters()), {})}

    def losses(self, x: torch.Tensor) -> StepLosses:
        raise NotImplementedError

    def represent(self, x: torch.Tensor) -> torch.Tensor:
        """The code that metrics read (the encoder mean for VAEs)."""
        raise NotImplementedError

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Bernoulli logits of the reconstruction of x from its code."""
        raise NotImplementedError(f"{type(self).__name__} has no decoder, so it has no reconstruction")


class GaussianVAE(Model):
    """Encoder with mean and log-variance heads, and a decoder: the body every VAE here shares."""

    has_posterior = True
    heads = 2  # mean and log-variance

    def __init__(self, config, observation_shape, latent_dim: int):
        super().__init__(config)
        channels, size, _ = observation_shape
        self.encoder = Encoder(channels, size, latent_dim, heads=self.heads)
        self.decoder = Decoder(channels, size, latent_dim)

    def encode(self, x):
        return self.encoder(x)

    def represent(self, x):
        return self.encode(x)[0]

    def reconstruct(self, x):
        return self.decoder(self.represent(x))

    def reconstruction(self, z, x):
        return bernoulli_reconstruction(self.decoder(z), x)
