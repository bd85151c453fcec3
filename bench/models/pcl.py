"""Permutation-contrastive learning (Hyvarinen and Morioka 2017): logistic regression that tells real temporal
pairs from pairs whose partner is shuffled across the batch. No decoder; the representation is h(x).

logit(a, b) = -sum_i |w1_i h_i(a) + w2_i h_i(b) + b_i| + c * sum_i h_i(a)^2 + m, with (w1, w2, b) starting at
(1, -1, 0) as in the transcribed protocol (docs/paper.md), where h is the conv encoder with a batch-normalised
output; bethgelab's code has no normalisation and fixes c = 1, we learn c from 1.
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from bench.models.base import Model, StepLosses
from bench.models.nets import Encoder


@dataclass(frozen=True)
class Config:
    pass


class PCL(Model):
    Config = Config
    PAPER_VALUES = {"dsprites": Config(), "shapes3d": Config()}  # nothing to set
    observations = 2
    has_decoder = False
    regulariser = None

    def __init__(self, config: Config, observation_shape, latent_dim):
        super().__init__(config)
        channels, size, _ = observation_shape
        self.encoder = Encoder(channels, size, latent_dim, heads=1)
        self.norm = nn.BatchNorm1d(latent_dim, affine=False)
        self.w1 = nn.Parameter(torch.ones(latent_dim))
        self.w2 = nn.Parameter(-torch.ones(latent_dim))
        self.b = nn.Parameter(torch.zeros(latent_dim))
        self.c = nn.Parameter(torch.ones(()))
        self.m = nn.Parameter(torch.zeros(()))

    def represent(self, x):
        return self.norm(self.encoder(x)[0])

    def logit(self, h_a, h_b):
        return -(self.w1 * h_a + self.w2 * h_b + self.b).abs().sum(dim=1) + self.c * h_a.pow(2).sum(dim=1) + self.m

    def losses(self, pairs):
        h = self.represent(pairs.flatten(0, 1))
        h_a, h_b = h[0::2], h[1::2]
        logits = torch.cat([self.logit(h_a, h_b), self.logit(h_a, h_b[torch.randperm(len(h_b))])])
        labels = torch.cat([torch.ones(len(h_a)), torch.zeros(len(h_a))])
        loss = F.binary_cross_entropy_with_logits(logits, labels)
        accuracy = ((logits > 0).float() == labels).float().mean()
        return StepLosses({"model": loss}, {"logistic": loss, "accuracy": accuracy})
