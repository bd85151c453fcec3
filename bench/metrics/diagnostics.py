"""Diagnostics from Rolinek, Zietlow and Martius (CVPR 2019), the theory behind the study.

- Active units: latent j is active when E_x[sigma_j^2(x)] < 0.8; a run with fewer active units than factors is
  over-pruned (it cannot represent every factor).
- Polarisation: dKL = |KL - KL_active| / KL, the share of the KL that inactive units carry.
- Distance to orthogonality of the decoder Jacobian J at mu(x): with J = U S V^T, ||V - P(V)||_F where P(V) is
  the nearest signed permutation matrix (a maximum-weight assignment on |V|). 0 means the decoder's local
  principal directions are the latent axes.
"""

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

ACTIVE_VARIANCE = 0.8


def active_units(logvar: np.ndarray, num_factors: int, threshold: float = ACTIVE_VARIANCE) -> dict:
    """From encoder log-variances (N, D) of a VAE."""
    variance = np.exp(logvar).mean(axis=0)
    active = variance < threshold
    return {"active_units": int(active.sum()), "over_pruned": bool(active.sum() < num_factors),
            "mean_posterior_variance": variance.tolist()}


def polarisation(mean: np.ndarray, logvar: np.ndarray, threshold: float = ACTIVE_VARIANCE) -> dict:
    kl = 0.5 * (mean**2 + np.exp(logvar) - logvar - 1)  # (N, D)
    active = np.exp(logvar).mean(axis=0) < threshold
    total = kl.sum(axis=1).mean()
    return {"polarisation_dkl": float(abs(total - kl[:, active].sum(axis=1).mean()) / total) if total > 0 else 0.0}


def nearest_signed_permutation(v: np.ndarray) -> np.ndarray:
    rows, cols = linear_sum_assignment(-np.abs(v))
    p = np.zeros_like(v)
    p[rows, cols] = np.sign(v[rows, cols])
    return p


def distance_to_orthogonality(decoder, codes: np.ndarray) -> dict:
    """Mean and std over points of ||V - P(V)||_F for the decoder Jacobian at each code (N, D)."""
    distances = []
    for z in torch.as_tensor(codes, dtype=torch.float32):
        jacobian = torch.autograd.functional.jacobian(lambda c: decoder(c[None]).flatten(), z)  # (pixels, D)
        v = torch.linalg.svd(jacobian, full_matrices=False).Vh.T.numpy()
        distances.append(float(np.linalg.norm(v - nearest_signed_permutation(v))))
    return {"dto_mean": float(np.mean(distances)), "dto_std": float(np.std(distances))}
