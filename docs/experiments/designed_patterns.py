"""Tries 8 and 9 of docs/manipulation.md: hand-designed perturbations, to learn what a learned m would need.

Not part of the package: an experiment script whose numbers the docs quote. It perturbs a dataset (default
`dsprites_halfy`) with a brightness wave whose phase follows one direction u in the standardised factor
space, then asks either the manipulation game's references (try 8) or real beta-VAE runs (try 9) what they
make of it.

    python docs/experiments/designed_patterns.py references --direction entangled square:0.5 bright:0.5
    python docs/experiments/designed_patterns.py vae --direction positions --seeds 5 square:0.5 bright:0.5

A pattern is KIND:FREQUENCY, the frequency in cycles per standard deviation of u. `bright` lifts the background
by eps * (1 + sin) / 2, `square` by eps where sin > 0; the sprite (value 1) is unchanged by the clip.
The beta-VAE runs use the seeds of `bench experiment manipulation-check`'s original runs, so they pair with them.
"""

import argparse
import json
from dataclasses import replace

import numpy as np
import torch

from bench import variants
from bench.data.ground_truth import StoredData
from bench.experiments.manipulation_check import METRICS
from bench.manipulation.diagnose import judge, train_references
from bench.manipulation.game import ManipulationConfig, standardise
from bench.manipulation.rotations import MIXINGS, entangling_rotation, haar_mixing
from bench.metrics import evaluate
from bench.seeding import seed_hash
from bench.suites import Cell, Profile, paper_value, train_config
from bench.train import train

WAVES = {"bright": lambda phase: 0.5 + 0.5 * np.sin(phase), "square": lambda phase: (np.sin(phase) > 0) * 1.0}


# u per image, from the standardised factors of the miniatures (scale x posX x posY): the entangled reference's
# first latent, or the diagonal of one factor plane.
DIRECTIONS = {
    "entangled": lambda w: w @ haar_mixing(w.shape[1], ManipulationConfig().seed)[0],
    "positions": lambda w: (w[:, 1] + w[:, 2]) / np.sqrt(2),
    "scale-posy": lambda w: (w[:, 0] + w[:, 2]) / np.sqrt(2),
}


def perturbed(base: StoredData, pattern: str, direction_name: str) -> StoredData:
    kind, frequency = pattern.split(":")
    w = standardise(base.grid, base.grid.index_to_factors(np.arange(len(base))))
    lift = WAVES[kind](2 * np.pi * float(frequency) * DIRECTIONS[direction_name](w)).astype(np.float64)
    x = np.clip(base.array.astype(np.float32) / 255 + base.spec.eps * lift[:, None, None, None], 0, 1)
    # The variant's name seeds the references: it is the pattern alone, as in the runs the docs quote.
    return StoredData(base.spec, pattern, np.trunc(x * 255 + 1e-4).astype(np.uint8), "designed")


def references(base: StoredData, patterns: list[str], direction_name: str, steps: int, mixing: str):
    config = replace(ManipulationConfig(), steps=steps)
    rotation = entangling_rotation(base, mixing, config.seed)
    held_out = base.sample_factors(512, np.random.default_rng(seed_hash("held-out", 0)))
    original = train_references(base, config, rotation)
    for variant in [base] + [perturbed(base, p, direction_name) for p in patterns]:
        pair = original if variant is base else train_references(variant, config, rotation)
        sigmas = {name: getattr(pair, name).log_sigma.exp().tolist() for name in ("disentangled", "entangled")}
        print(json.dumps({"variant": variant.variant, **judge(pair, variant, base, original, held_out),
                          "sigma": sigmas}), flush=True)


def vae(base: StoredData, patterns: list[str], direction_name: str, seeds: int, steps: int):
    torch.set_num_threads(1)  # as the runner does, so seeds pair with manipulation-check's runs
    profile = Profile(f"steps-{steps}", datasets=(base.name,), variants=("original",), models=("beta_vae",),
                      multipliers=(1.0,), seeds=seeds, steps=steps, metrics=METRICS)
    for pattern in patterns:
        variant = perturbed(base, pattern, direction_name)
        for s in range(seeds):
            cell = Cell(model="beta_vae", dataset=base.name, variant="original",
                        value=paper_value("beta_vae", base.name), seed_index=s)
            trainer = train(train_config("manipulation-check", profile, cell), variant, None, progress=False)
            metrics = evaluate(trainer.model, variant, METRICS, "cpu")["metrics"]
            print(json.dumps({"variant": variant.variant, "seed": s, "mig": metrics["mig"],
                              "mig_per_factor": metrics["mig_per_factor"]}), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("judge", choices=("references", "vae"))
    parser.add_argument("patterns", nargs="+", help="KIND:FREQUENCY, KIND one of " + ", ".join(WAVES))
    parser.add_argument("--dataset", default="dsprites_halfy")
    parser.add_argument("--direction", choices=tuple(DIRECTIONS), default="entangled")
    parser.add_argument("--mixing", choices=tuple(MIXINGS), default="all",
                        help="the references' entangled basis (tries 8 and 9: all)")
    parser.add_argument("--steps", type=int, help="default: 3000 reference steps, 5000 beta-VAE steps")
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    base = variants.get(args.dataset)
    if args.judge == "references":
        references(base, args.patterns, args.direction, args.steps or 3000, args.mixing)
    else:
        vae(base, args.patterns, args.direction, args.seeds, args.steps or 5000)


if __name__ == "__main__":
    main()
