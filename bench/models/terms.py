"""Loss terms shared by the models, with disentanglement_lib's convention: sums over pixels and latents,
means over the batch, so beta means what the paper's beta means."""

import math

import torch
import torch.nn.functional as F

LOG_2PI = math.log(2 * math.pi)


def bernoulli_reconstruction(logits, x):
    """Sigmoid cross-entropy summed over pixels, averaged over images."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]


def kl_normal(mean, logvar):
    """KL(N(mean, exp(logvar)) || N(0, I)) summed over latents, averaged over the batch."""
    return 0.5 * (mean.pow(2) + logvar.exp() - logvar - 1).sum(dim=1).mean()


def sample_normal(mean, logvar):
    return mean + torch.randn_like(mean) * (0.5 * logvar).exp()


def gaussian_log_density(z, mean, logvar):
    return -0.5 * (LOG_2PI + logvar + (z - mean).pow(2) * (-logvar).exp())


def total_correlation(z, mean, logvar):
    """Minibatch estimate of TC(q(z)) = E[log q(z) - sum_j log q(z_j)], the batch standing in for the data.

    q(z_i) is the mixture of the batch's posteriors at z_i. disentanglement_lib drops the (D - 1) log B
    constant; it does not change gradients, and keeping it makes the value an estimate of the TC itself.
    """
    log_q = gaussian_log_density(z[:, None, :], mean[None], logvar[None])  # (B, B, D): z_i under q(.|x_j)
    batch, dims = z.shape
    log_qz = torch.logsumexp(log_q.sum(dim=2), dim=1) - math.log(batch)
    log_qz_marginals = (torch.logsumexp(log_q, dim=1) - math.log(batch)).sum(dim=1)
    return (log_qz - log_qz_marginals).mean()


def laplace_cross_entropy(mean, logvar, rate):
    """E_{z ~ N(mean, var)}[-log Laplace(z; 0, 1/rate)] per element, in closed form (uses E|z|)."""
    sigma = (0.5 * logvar).exp()
    abs_mean = sigma * math.sqrt(2 / math.pi) * torch.exp(-mean.pow(2) / (2 * sigma.pow(2))) \
        + mean * torch.erf(mean / (sigma * math.sqrt(2)))
    return -math.log(rate / 2) + rate * abs_mean


def normal_entropy(logvar):
    return 0.5 * (logvar + LOG_2PI + 1)
