"""The loss estimators against closed forms and brute-force estimates on small cases."""

import math

import numpy as np
import torch

from bench.models.terms import (gaussian_log_density, kl_normal, laplace_cross_entropy, normal_entropy,
                                total_correlation)


def test_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mean, logvar = torch.randn(7, 4, generator=g), torch.randn(7, 4, generator=g)
    q = torch.distributions.Normal(mean, (0.5 * logvar).exp())
    p = torch.distributions.Normal(torch.zeros(4), torch.ones(4))
    expected = torch.distributions.kl_divergence(q, p).sum(dim=1).mean()
    torch.testing.assert_close(kl_normal(mean, logvar), expected)


def test_gaussian_log_density_matches_torch():
    z, mean, logvar = torch.tensor([0.3]), torch.tensor([-0.2]), torch.tensor([0.4])
    expected = torch.distributions.Normal(mean, (0.5 * logvar).exp()).log_prob(z)
    torch.testing.assert_close(gaussian_log_density(z, mean, logvar), expected)


def _brute_force_tc(mean, logvar, samples=200_000, seed=0):
    """Monte Carlo TC of the mixture q(z) = 1/K sum_k N(mean_k, var_k), with exact mixture densities."""
    rng = np.random.default_rng(seed)
    mean, std = mean.numpy(), np.exp(0.5 * logvar.numpy())
    comp = rng.integers(0, len(mean), samples)
    z = mean[comp] + std[comp] * rng.standard_normal((samples, mean.shape[1]))
    log_comp = -0.5 * (np.log(2 * np.pi) + 2 * np.log(std[None]) + ((z[:, None] - mean[None]) / std[None]) ** 2)
    lse = lambda a, axis: np.log(np.exp(a - a.max(axis, keepdims=True)).sum(axis)) + a.max(axis)  # noqa: E731
    log_qz = lse(log_comp.sum(axis=2), 1) - np.log(len(mean))
    log_marg = (lse(log_comp, 1) - np.log(len(mean))).sum(axis=1)
    return float((log_qz - log_marg).mean())


def test_total_correlation_estimate_matches_brute_force():
    # Two posteriors far apart along the diagonal: a strongly dependent aggregate posterior.
    mean = torch.tensor([[-2.0, -2.0], [2.0, 2.0], [-2.0, -2.0], [2.0, 2.0]])
    logvar = torch.full_like(mean, math.log(0.25))
    torch.manual_seed(0)
    estimates = []
    for _ in range(4000):
        z = mean + torch.randn_like(mean) * (0.5 * logvar).exp()
        estimates.append(float(total_correlation(z, mean, logvar)))
    assert abs(np.mean(estimates) - _brute_force_tc(mean, logvar)) < 0.02
    assert np.mean(estimates) > 0.5  # close to log 2 for two well-separated modes


def test_total_correlation_is_zero_for_factorised_posteriors():
    mean = torch.zeros(64, 3)
    logvar = torch.zeros(64, 3)
    z = torch.randn(64, 3, generator=torch.Generator().manual_seed(0))
    assert abs(float(total_correlation(z, mean, logvar))) < 1e-5


def test_laplace_cross_entropy_matches_monte_carlo():
    mean, logvar, rate = torch.tensor([0.7, -0.3, 0.0]), torch.tensor([-1.0, 0.5, 0.0]), 6.0
    z = mean + torch.randn(400_000, 3, generator=torch.Generator().manual_seed(0)) * (0.5 * logvar).exp()
    mc = (-math.log(rate / 2) + rate * z.abs()).mean(dim=0)
    torch.testing.assert_close(laplace_cross_entropy(mean, logvar, rate), mc, rtol=5e-3, atol=5e-3)


def test_normal_entropy_closed_form():
    logvar = torch.tensor([0.0, math.log(4.0)])
    expected = torch.distributions.Normal(0.0, (0.5 * logvar).exp()).entropy()
    torch.testing.assert_close(normal_entropy(logvar), expected)
