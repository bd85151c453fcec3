"""Training the manipulation (resumable) and materialising the modified images into the dataset cache.

The modified images are stored as uint8, like every other cache. The perturbation is rounded towards zero to
whole 1/255 steps, so the stored image never moves further than eps from the original.
"""

import json
from dataclasses import fields
from pathlib import Path

import numpy as np
import torch

from bench.atomic import atomic_write_text
from bench.data.ground_truth import DatasetSpec, StoredData
from bench.data.sources import base_store
from bench.data.store import ImageStore, cache_key
from bench.errors import UserError, lookup
from bench.manipulation.game import ManipulationConfig, ManipulationGame, standardise
from bench.manipulation.guarantees import GuaranteeCheck
from bench.manipulation.rotations import entangling_rotation
from bench.seeding import seed_hash
from bench.train import Trainer, fit

VERSION = 1  # bump when the game or the materialisation changes: old modified caches are then rebuilt
REPORT = "report.json"
CHUNK = 4096


# The learned variants: the manipulation, and the sham control. The sham plays the same game against an
# "entangled" reference that codes by the factors themselves, so m learns a pattern of the same size and
# smoothness with no target basis: if it hurt the VAEs as much, the targeted structure would not be the cause.
ARMS = {"modified": {}, "sham": {"mixing": "identity"}}
BUILD = "@"  # build b of a learned arm is the variant `arm@b` (`modified@2`); plain `modified` is the default build


def variant_name(arm: str, build: int | None) -> str:
    return arm if build is None else f"{arm}{BUILD}{build}"


def arm_config(spec: DatasetSpec, arm: str, build: int | None) -> ManipulationConfig:
    """The game's settings for `arm` on dataset `spec`: the defaults, overridden by the dataset's own
    (`DatasetSpec.manipulation`), then by the arm's (the sham's mixing); build b plays it from seed b (no build:
    the default seed)."""
    settings = {**dict(spec.manipulation), **lookup(ARMS, arm, "learned variant"),
                **({} if build is None else {"seed": build})}
    unknown = sorted(set(settings) - {f.name for f in fields(ManipulationConfig)})
    if unknown:
        raise UserError(f"dataset {spec.name}: unknown manipulation setting {', '.join(unknown)}; its spec's "
                        f"`manipulation` takes: {', '.join(f.name for f in fields(ManipulationConfig))}")
    return ManipulationConfig(**settings)


def identity(config: ManipulationConfig = ManipulationConfig()) -> dict:
    """What makes two modified variants of the same base differ: a run trained on one is not a run on the other."""
    return {"manipulation": config.to_dict(), "version": VERSION}


def learned_store(spec: DatasetSpec, root: Path, config: ManipulationConfig) -> ImageStore:
    """Where the images of the game in `config` on dataset `spec` are cached (looking builds nothing)."""
    params = {"base": base_store(spec, Path(root)).params, "eps": spec.eps, **identity(config)}
    return ImageStore(Path(root) / spec.name / f"modified-{cache_key(params)}", (len(spec.grid), *spec.observation_shape),
                      params)


def arm_built(spec: DatasetSpec, root: Path, arm: str, build: int | None) -> bool:
    """Whether build `build` of the learned variant `arm` of `spec` is in the cache; trains and writes nothing."""
    return learned_store(spec, root, arm_config(spec, arm, build)).is_valid()


def train_manipulation(base: StoredData, config: ManipulationConfig, directory: Path, *, device="cpu",
                       progress=True) -> ManipulationGame:
    """Play the game to `config.steps`, resuming from `directory`'s checkpoint."""
    spec = base.spec
    torch.manual_seed(seed_hash("manipulation", spec.name, config.seed))
    rotation = entangling_rotation(base, config.mixing, config.seed)
    game = ManipulationGame(config, rotation, spec.observation_shape, spec.eps).to(device)
    trainer = Trainer.around(config, game)

    def draw():
        classes = spec.grid.sample_factors(config.batch_size, trainer.data_rng)
        w = torch.from_numpy(standardise(spec.grid, classes))
        return w.to(device), base.images(spec.grid.factors_to_index(classes)).to(device)

    fit(trainer, draw, directory, device=device, checkpoint_every=500, progress=progress,
        desc=f"manipulation of {spec.name}")
    return game


@torch.no_grad()
def perturbation_u8(game: ManipulationGame, grid, classes: np.ndarray, eps: float) -> np.ndarray:
    """eps * m(w) in whole 1/255 steps, rounded towards zero: (n, C, H, W) int16."""
    device = next(game.parameters()).device
    m = game.perturbation(torch.from_numpy(standardise(grid, classes)).to(device)).cpu().numpy()
    return np.trunc(m * (255.0 * eps)).astype(np.int16)


def modified_chunks(base: StoredData, game: ManipulationGame, check: GuaranteeCheck):
    grid, n = base.spec.grid, len(base)
    for start in range(0, n, CHUNK):
        index = np.arange(start, min(start + CHUNK, n))
        original = np.asarray(base.array[index])
        delta = perturbation_u8(game, grid, grid.index_to_factors(index), base.spec.eps)
        modified = np.clip(original + delta, 0, 255).astype(np.uint8)
        check.update(index, original, modified)
        yield modified


def load_arm(base: StoredData, root: Path, arm: str, build: int | None, **kwargs) -> StoredData:
    """Build `build` of the learned variant `arm` of `base`."""
    return load_modified(base, root, arm_config(base.spec, arm, build), name=variant_name(arm, build), **kwargs)


def load_modified(base: StoredData, root: Path, config: ManipulationConfig = ManipulationConfig(), *,
                  name: str = "modified", device="cpu", progress=True) -> StoredData:
    """The images `base` has after the game in `config`: trained and materialised on first use, then read from
    the cache. `name` is the variant's name in labels and seeds."""
    store = learned_store(base.spec, root, config)
    if not store.is_valid():
        game = train_manipulation(base, config, store.directory, device=device, progress=progress)
        game.eval()
        check = GuaranteeCheck(base.spec)
        store.write(modified_chunks(base, game, check), desc=f"{base.name}: writing modified images")
        report = check.report()
        atomic_write_text(store.directory / REPORT, json.dumps(report, indent=2))
        if report["violations"]:
            store.path.unlink()
            raise UserError(f"the modified {base.name} broke its guarantees ({'; '.join(report['violations'])}); "
                            f"nothing was cached; report this with {store.directory / REPORT}")
    source = f"modified by a learned manipulation ({store.directory.name})"
    return StoredData(base.spec, name, store.open(), source)


def guarantee_report(base: StoredData, root: Path, config: ManipulationConfig = ManipulationConfig()) -> dict:
    """The guarantee report written when the modified images were built."""
    return json.loads((learned_store(base.spec, root, config).directory / REPORT).read_text())
