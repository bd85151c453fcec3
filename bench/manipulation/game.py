"""The learned structure-preserving manipulation: a perturbation generator m_psi(w) played against two references.

What the paper says (docs/paper.md): x' = clip(x + eps * m(w), 0, 1) with |m(w)|_inf <= 1, w the image's
ground-truth factors, and m learned so that an entangled reference model fits the modified data better than a
disentangled one. What it leaves open: the references, m's architecture and the schedule. What we chose, and why:

- References. Both have a perfect "encoder": the disentangled one codes an image by its standardised factors
  w, the entangled one by R w, with R a fixed rotation (`rotations.py`: by default 45 degrees in the plane of
  the two factors whose precisions are most alike, the only alignment a perturbation of size eps can turn;
  `mixing="all"` mixes every factor, docs/manipulation.md). Each adds learned diagonal Gaussian noise with one
  scale per latent and decodes with the VAE's own decoder, under the beta-VAE loss (Bernoulli reconstruction
  plus beta times the noise's KL). A diagonal posterior is what makes a basis matter: with the same noise in
  every direction a rotation changes nothing. Learned per-latent scales let the noise differ per latent, as in
  a VAE (the advice of the early measurement in docs/paper.md).
- The game. Each reference minimises its own loss; m minimises L_entangled - L_disentangled. Alternating
  single steps on one batch, as in FactorVAE's discriminator game, so the references are always fitted to the
  current m and only patterns that the VAE's own decoder learns within the budget get selected.
  `reference_steps` > 1 lets the references take that many steps per step of m (two time scales, as a WGAN's
  critic takes n_critic): m then plays against references nearer their best response to it. Why it exists: on
  full Shapes3D the alternating game drove its own references' gap to -100 nats/img while fresh references
  trained on the result preferred the factor basis even more than on the original images
  (docs/manipulation.md), the mark of a leader that exploits its followers' lag.
- m_psi. An MLP from w to a coarse map per channel (`map_size`, 8 x 8 by default), upsampled bilinearly to the
  image and bounded by tanh. The low resolution keeps the pattern smooth in space, and the MLP keeps it smooth in
  w: the early measurement's fast stripes (docs/paper.md) were never learned by a decoder, so the VAE saw them
  as noise. Its last layer's weights start at zero and its
  bias at 0.5, so training starts from a uniform faint lift (0.46 eps) of the dark pixels, where a plain clip
  passes gradients: on binary dSprites a negative m on the background is clipped away, so starting there would
  leave most pixels without a gradient. Tried first: zero start with the clip's gradient passed straight
  through; the gradient then pointed at changes the clip removed, and m drifted to -1 (a dimmer sprite).
"""

from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from bench.data.grid import FactorGrid
from bench.models.base import Model, StepLosses, Turns
from bench.models.nets import Decoder
from bench.models.terms import bernoulli_reconstruction

# Settings added after builds were cached -> the value every earlier build played with (`to_dict`).
ADDED = {"reference_steps": 1}
START = 0.5  # m starts at tanh(0.5) = 0.46 everywhere: a faint, unclipped lift of dark pixels


@dataclass(frozen=True)
class ManipulationConfig:
    """Everything that changes the learned perturbation; its hash names the cached modified images."""

    steps: int = 20_000
    batch_size: int = 64
    lr: float = 1e-3  # the references'
    perturbation_lr: float = 1e-3
    beta: float = 8.0  # the references' KL weight: beta-VAE's on dSprites
    hidden: int = 128
    map_size: int = 8  # m's resolution before upsampling (16 x 16 did worse: docs/manipulation.md)
    mixing: str = "closest-pair"  # which factors the entangled reference mixes: rotations.MIXINGS
    seed: int = 0
    reference_steps: int = 1  # the references' steps per step of m

    def to_dict(self) -> dict:
        """The settings, less those added after builds were cached, where they hold the value every earlier build
        played with: so an earlier build keeps its cache key, and its runs their ids."""
        return {k: v for k, v in asdict(self).items() if not (k in ADDED and v == ADDED[k])}


def standardise(grid: FactorGrid, classes: np.ndarray) -> np.ndarray:
    """Factor classes -> zero-mean, unit-variance coordinates over the grid (each factor is uniform)."""
    sizes = np.asarray(grid.sizes, dtype=np.float64)
    return ((classes - (sizes - 1) / 2) / np.sqrt((sizes**2 - 1) / 12)).astype(np.float32)


class Perturbation(nn.Module):
    """m_psi: standardised factors (B, K) -> a smooth perturbation (B, C, H, W) in [-1, 1]."""

    def __init__(self, num_factors: int, observation_shape, hidden: int, map_size: int):
        super().__init__()
        self.channels, self.size, self.map_size = observation_shape[0], observation_shape[-1], map_size
        self.net = nn.Sequential(nn.Linear(num_factors, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                                 nn.Linear(hidden, self.channels * map_size**2))
        nn.init.zeros_(self.net[-1].weight)
        nn.init.constant_(self.net[-1].bias, START)

    def forward(self, w):
        coarse = self.net(w).view(-1, self.channels, self.map_size, self.map_size)
        return torch.tanh(F.interpolate(coarse, size=self.size, mode="bilinear", align_corners=False))


def perturb(x, m, eps: float):
    """clip(x + eps m, 0, 1)."""
    return (x + eps * m).clamp(0.0, 1.0)


class Reference(nn.Module):
    """A VAE whose encoder mean is fixed to `rotation @ w`: learned per-latent noise and the VAE's decoder."""

    def __init__(self, rotation: np.ndarray, observation_shape, beta: float):
        super().__init__()
        self.register_buffer("rotation", torch.from_numpy(rotation))
        self.log_sigma = nn.Parameter(torch.full((len(rotation),), -1.0))
        self.decoder = Decoder(observation_shape[0], observation_shape[-1], len(rotation))
        self.beta = beta

    def loss(self, w, x, noise):
        code = w @ self.rotation.T
        z = code + noise * self.log_sigma.exp()
        # The code's own KL part, |code|^2 / 2, is the same for both references (a rotation keeps the norm).
        kl = 0.5 * (torch.expm1(2 * self.log_sigma) - 2 * self.log_sigma).sum()
        return bernoulli_reconstruction(self.decoder(z), x) + self.beta * kl


class ReferencePair(Model):
    """The disentangled and the entangled reference, each trained on its own loss; a batch is (w, x)."""

    has_decoder = False

    def __init__(self, config: ManipulationConfig, rotation: np.ndarray, observation_shape):
        super().__init__(config)
        self.disentangled = Reference(np.eye(len(rotation), dtype=np.float32), observation_shape, config.beta)
        self.entangled = Reference(rotation, observation_shape, config.beta)

    def param_groups(self):
        return {name: (list(getattr(self, name).parameters()), {}) for name in ("disentangled", "entangled")}

    def losses(self, batch) -> StepLosses:
        w, x = batch
        return self.judge(w, x)

    def judge(self, w, x) -> StepLosses:
        noise = torch.randn_like(w)  # common to both, so their gap is not blurred by independent draws
        loss_d, loss_e = self.disentangled.loss(w, x, noise), self.entangled.loss(w, x, noise)
        return StepLosses(objectives={"disentangled": loss_d, "entangled": loss_e},
                          terms={"loss_disentangled": loss_d, "loss_entangled": loss_e, "gap": loss_e - loss_d})


class ManipulationGame(ReferencePair):
    """The references plus m_psi, which minimises L_entangled - L_disentangled on the data it modifies."""

    def __init__(self, config: ManipulationConfig, rotation: np.ndarray, observation_shape, eps: float):
        super().__init__(config, rotation, observation_shape)
        self.eps = eps
        self.perturbation = Perturbation(len(rotation), observation_shape, config.hidden, config.map_size)
        self.perturbation_turn = Turns(config.reference_steps, "reference_steps")

    def param_groups(self):
        return {"perturbation": (list(self.perturbation.parameters()), {"lr": self.config.perturbation_lr}),
                **super().param_groups()}

    def losses(self, batch) -> StepLosses:
        w, x = batch
        losses = self.judge(w, perturb(x, self.perturbation(w), self.eps))
        if self.perturbation_turn():
            losses.objectives["perturbation"] = losses.terms["gap"]
        return losses
