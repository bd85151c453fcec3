"""Named grids of runs (suites), built from small combinators.

A suite has profiles (paper, quick, smoke). Each profile runs two stages:
1. the line search: every model x dataset x regularisation value x seed, on the original data;
2. the variants: for each model x dataset, the value chosen in stage 1 (best mean MIG among runs that are not
   over-pruned, PAPER.md) x seed, on every other variant.
A run's seed is a hash of its names, so adding a model, value or variant never changes another run.
"""

import dataclasses
import itertools
from dataclasses import dataclass

from bench.errors import lookup
from bench.metrics import MetricSettings
from bench.models import MODELS, paper_config
from bench.seeding import seed_hash
from bench.train import TrainConfig


def product(*axes: list[dict]) -> list[dict]:
    """All combinations of the axes' entries, each merged into one dict."""
    return [dict(itertools.chain.from_iterable(d.items() for d in combo)) for combo in itertools.product(*axes)]


def sweep(key: str, values) -> list[dict]:
    return [{key: v} for v in values]


def fixed(**values) -> list[dict]:
    return [values]


@dataclass(frozen=True)
class Cell:
    """The names of one run within a suite."""

    model: str
    dataset: str
    variant: str
    value: float | None  # the model's regularisation strength in the line search; None when it has none
    seed_index: int


@dataclass(frozen=True)
class Profile:
    name: str
    datasets: tuple[str, ...]
    variants: tuple[str, ...]  # the first is where the line search runs
    models: tuple[str, ...]
    multipliers: tuple[float, ...]  # line-search values are the paper's value times these
    seeds: int
    steps: int
    metrics: MetricSettings = MetricSettings()
    batch_size: int = 64
    seeds_by_model: tuple[tuple[str, int], ...] = ()  # models that run another number of seeds than `seeds`

    def seeds_of(self, model: str) -> int:
        return dict(self.seeds_by_model).get(model, self.seeds)


def line_search_values(model: str, dataset: str, multipliers) -> list[float | None]:
    cls = lookup(MODELS, model, "model")
    if cls.regulariser is None:
        return [None]
    paper = getattr(paper_config(model, dataset), cls.regulariser)
    return [paper * m for m in multipliers]


def paper_value(model: str, dataset: str) -> float | None:
    """The model's regularisation strength in the paper, or None when it has none."""
    return line_search_values(model, dataset, (1.0,))[0]


def _seeded(profile: Profile, cells: list[dict]) -> list[Cell]:
    return [Cell(**c, seed_index=s) for c in cells for s in range(profile.seeds_of(c["model"]))]


def search_cells(profile: Profile) -> list[Cell]:
    """Stage 1: the line search on the first variant."""
    pairs = product(sweep("model", profile.models), sweep("dataset", profile.datasets))
    grid = [{**p, "value": v} for p in pairs for v in line_search_values(p["model"], p["dataset"], profile.multipliers)]
    return _seeded(profile, product(grid, fixed(variant=profile.variants[0])))


def variant_cells(profile: Profile, chosen: dict[tuple[str, str], float | None]) -> list[Cell]:
    """Stage 2: the chosen value of each (model, dataset) on the other variants."""
    grid = [{"model": m, "dataset": d, "value": v} for (m, d), v in sorted(chosen.items(), key=str)]
    return _seeded(profile, product(grid, sweep("variant", profile.variants[1:])))


def train_config(suite: str, profile: Profile, cell: Cell) -> TrainConfig:
    config = paper_config(cell.model, cell.dataset)
    if cell.value is not None:
        config = dataclasses.replace(config, **{MODELS[cell.model].regulariser: cell.value})
    seed = seed_hash(suite, cell.model, cell.dataset, cell.variant, cell.value, cell.seed_index)
    return TrainConfig(cell.model, cell.dataset, cell.variant, config, seed=seed, steps=profile.steps,
                       batch_size=profile.batch_size)


@dataclass(frozen=True)
class Suite:
    name: str
    profiles: dict[str, Profile]


ALL_MODELS = tuple(MODELS)
INDUCTIVE_BIAS = Suite("inductive-bias", {
    # PAPER.md's protocol: meant for a GPU cluster (300k steps x 10 seeds x line search x 2 x 3 x 6).
    "paper": Profile("paper", datasets=("dsprites", "shapes3d"), variants=("original", "modified", "noise"),
                     models=ALL_MODELS, multipliers=(0.25, 0.5, 1.0, 2.0, 4.0), seeds=10, steps=300_000),
    # The default: a miniature that finishes in about 4 hours on a 2-core CPU (README, docs/quick-profile.md).
    # dsprites_halfy is the smallest setting measured in which beta-VAE's original-data MIG is clearly high
    # (0.21 mean over 4 seeds at 5k steps, near its 10k-step plateau of 0.22). The headline contrast, beta-VAE
    # and PCL, gets 5 seeds; the other models 3, which is what fits: a FactorVAE run alone took 570 s of
    # training here, four beta-VAE runs' worth (its discriminator costs the same at 32 x 32 as at 64 x 64).
    "quick": Profile("quick", datasets=("dsprites_halfy",), variants=("original", "modified", "noise"),
                     models=("beta_vae", "pcl", "beta_tcvae", "factor_vae", "slow_vae", "ae"),
                     multipliers=(0.5, 1.0, 2.0), seeds=5, steps=5000,
                     seeds_by_model=(("beta_tcvae", 3), ("factor_vae", 3), ("slow_vae", 3), ("ae", 3))),
    # The whole pipeline in a few minutes on a CPU, for CI (`bench check`); its numbers mean nothing.
    "smoke": Profile("smoke", datasets=("dsprites_small",), variants=("original", "noise"),
                     models=("beta_vae", "pcl"), multipliers=(0.5, 1.0), seeds=2, steps=40,
                     metrics=MetricSettings(num_train=1000, num_test=500), batch_size=32),
})
SUITES = {INDUCTIVE_BIAS.name: INDUCTIVE_BIAS}


def get_profile(suite: str, profile: str) -> Profile:
    return lookup(lookup(SUITES, suite, "suite").profiles, profile, "profile")
