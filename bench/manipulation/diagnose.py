"""Does a variant's variance structure still line up with the factor axes? Checks that need no VAE.

1. Factor directions (data side, model free, docs/paper.md). At grid points w, d_k = x(w + e_k) - x(w), per
   standard deviation of factor k and blurred (`rotations.factor_directions`). Their mean Gram matrix G says how
   orthogonal (cosines) and how distinct (norms) the per-factor changes are. Its off-diagonal share is reported
   in the factor basis and in the entangled reference's basis (R G R^T): to first order, the basis with the
   smaller share is the one a diagonal posterior fits better. Only to first order: the default manipulation
   turns the references' verdict (2) while its Gram matrix stays diagonal (docs/manipulation.md).
   Trap (docs/paper.md): per-image noise raises the cosines too, because both differences share the base image. So
   the Gram matrix alone cannot tell learnable structure from noise; 2 and 3 can.
2. The two reference losses (the game's references trained on the variant's images for a short budget):
   a positive gap (entangled minus disentangled) means the factor basis fits better.
3. Learnability: the share (R^2) of the variant's change from the original, on held-out images, that the
   disentangled decoder trained on the variant reproduces beyond the one trained on the original. A
   deterministic pattern a decoder learns approaches 1. The clipped noise control stays below 0.375 even when
   learned perfectly: only its mean per pixel, which clipping makes nonzero, is predictable.
"""

from dataclasses import replace

import numpy as np
import torch

from bench.data.ground_truth import GroundTruthData
from bench.manipulation.game import ManipulationConfig, ReferencePair, standardise
from bench.manipulation.rotations import entangling_rotation, factor_directions
from bench.seeding import seed_hash
from bench.train import Trainer, fit


def off_diagonal_share(gram: np.ndarray) -> float:
    """Share of G's squared mass off the diagonal: 0 for orthogonal directions."""
    return float(1 - (np.diag(gram) ** 2).sum() / (gram**2).sum())


def gram_summary(data: GroundTruthData, rotation: np.ndarray, points: int, seed: int) -> dict:
    d = factor_directions(data, points, np.random.default_rng(seed))
    gram = np.einsum("nkp,nlp->kl", d, d) / len(d)
    norms = np.sqrt(np.diag(gram))
    scale = np.outer(norms, norms)
    # A factor whose step changes no pixel (dSprites' orientation 0 and 2 pi) has no direction: cosine 0.
    cosines = np.divide(gram, scale, out=np.zeros_like(gram), where=scale > 0)
    return {"norms": norms.round(3).tolist(), "cosines": cosines.round(3).tolist(),
            "off_diagonal_factor_basis": off_diagonal_share(gram),
            "off_diagonal_entangled_basis": off_diagonal_share(rotation @ gram @ rotation.T)}


def train_references(data: GroundTruthData, config: ManipulationConfig, rotation: np.ndarray) -> ReferencePair:
    """Both references, the entangled one coding by `rotation`, trained on `data`'s images for `config.steps`."""
    grid = data.grid
    torch.manual_seed(seed_hash("references", data.name, data.variant, config.seed))
    pair = ReferencePair(config, rotation, data.observation_shape)
    trainer = Trainer.around(config, pair)

    def draw():
        classes = grid.sample_factors(config.batch_size, trainer.data_rng)
        return torch.from_numpy(standardise(grid, classes)), data.images(grid.factors_to_index(classes))

    fit(trainer, draw, progress=True, desc=f"references on {data.name}/{data.variant}")
    return pair


@torch.no_grad()
def judge(pair: ReferencePair, data: GroundTruthData, original: GroundTruthData, original_pair: ReferencePair,
          classes: np.ndarray) -> dict:
    """Held-out reference losses, and the learnability: the share of the variant's change from the original
    (R^2) that the difference of the two disentangled decoders reproduces."""
    index = data.factors_to_index(classes)
    w, x, x0 = torch.from_numpy(standardise(data.grid, classes)), data.images(index), original.images(index)
    terms = pair.judge(w, x).terms
    changed = x - x0
    learned = torch.sigmoid(pair.disentangled.decoder(w)) - torch.sigmoid(original_pair.disentangled.decoder(w))
    learnability = float(1 - (changed - learned).pow(2).sum() / changed.pow(2).sum()) if changed.any() else None
    return {"loss_disentangled": float(terms["loss_disentangled"]), "loss_entangled": float(terms["loss_entangled"]),
            "gap": float(terms["gap"]), "learnability": learnability}


def diagnose(variants: dict[str, GroundTruthData], config: ManipulationConfig, *, steps: int, points: int = 512,
             held_out: int = 512, seed: int = 0) -> dict:
    """Per variant: the factor-direction Gram summary, the reference losses after `steps` steps and the
    learnability of its change."""
    original = variants["original"]
    rotation = entangling_rotation(original, config.mixing, config.seed)
    short = replace(config, steps=steps)
    pairs = {name: train_references(data, short, rotation) for name, data in variants.items()}
    classes = original.sample_factors(held_out, np.random.default_rng(seed_hash("held-out", seed)))
    return {name: {**gram_summary(data, rotation, points, seed),
                   **judge(pairs[name], data, original, pairs["original"], classes)}
            for name, data in variants.items()}


def format_diagnosis(result: dict) -> str:
    """One block per variant: the cosines and norms of the factor directions, then the references' verdict."""
    lines = []
    for name, r in result.items():
        lines.append(f"{name}:")
        lines.append("  factor-direction norms (per std): " + " ".join(f"{v:.2f}" for v in r["norms"]))
        lines += ["  cosines: " + " ".join(f"{v:+.2f}" for v in row) for row in r["cosines"]]
        lines.append(f"  off-diagonal share: factor basis {r['off_diagonal_factor_basis']:.3f}, "
                     f"entangled basis {r['off_diagonal_entangled_basis']:.3f}")
        learn = "n/a" if r["learnability"] is None else f"{r['learnability']:.2f}"
        lines.append(f"  reference losses: disentangled {r['loss_disentangled']:.1f}, entangled "
                     f"{r['loss_entangled']:.1f}, gap (ent - dis) {r['gap']:+.2f} nats/img: the "
                     f"{'factor' if r['gap'] > 0 else 'entangled'} basis fits better; learnability {learn}")
    return "\n".join(lines)
