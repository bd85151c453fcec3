"""Named grids of runs (suites), built from small combinators, and the two-stage protocol that runs them.

A suite has profiles (paper, quick, smoke, confirm). An exploratory profile runs two stages:
1. the line search: every model x dataset x regularisation value x seed, on the original data;
2. the variants: for each model x dataset, the value chosen in stage 1 (best mean MIG among runs that are not
   over-pruned, as the paper chose) x seed, on every other variant.
A confirmatory profile fixes each model's value in advance (`fixed_values`), so it has no line search and runs
every variant, pairs its seeds across variants, spreads them over independent builds of the learned variants,
and declares the hypotheses its report tests (`bench.hypotheses`).
A run's seed is a hash of its names, so adding a model, value or variant never changes another run.
"""

import dataclasses
import itertools
from dataclasses import dataclass

import numpy as np

from bench.variants import IDENTITIES, variant_name
from bench.data import DATASETS
from bench.errors import UserError, lookup, unused_name
from bench.hypotheses import CONFIRM_DSPRITES, Family
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
    build: int | None = None  # which independent build of a learned variant; None: the default build


@dataclass(frozen=True)
class Profile:
    name: str
    datasets: tuple[str, ...]
    variants: tuple[str, ...]  # the first is where the line search runs
    models: tuple[str, ...]
    multipliers: tuple[float, ...]  # line-search values are the paper's value times these, unless swept outright
    seeds: int
    steps: int
    metrics: MetricSettings = MetricSettings()
    batch_size: int = 64
    seeds_by_model: tuple[tuple[str, int], ...] = ()  # models that run another number of seeds than `seeds`
    # Confirmatory settings. (model, value) pairs fixed in advance: no line search, every variant runs at them.
    fixed_values: tuple[tuple[str, float | None], ...] = ()
    builds: int = 0  # independent builds of each learned variant; seed k trains on build k % builds + 1
    paired: bool = False  # seeds leave the variant out: seed k of every variant starts and batches alike
    hypotheses: Family | None = None  # what the report tests, declared before the runs
    # Builds that failed their acceptance test, each replaced by a later game seed as the pre-registration
    # prescribes: (arm, failed build, replacement). A deviation from the plan, reported as one.
    replaced_builds: tuple[tuple[str, int, int], ...] = ()
    lr: float = 1e-4
    # A user's settings of model Config fields, (model, field, value), e.g. from `--set beta_vae.beta=4`; a line
    # search scales the regulariser around its value here instead of the paper's.
    model_settings: tuple[tuple[str, str, object], ...] = ()
    # How the command line selects this profile where that is not `--profile NAME` (a file, `--set`), for the
    # commands that messages suggest. Never part of a run.
    arguments: tuple[str, ...] = ()
    # A model's regularisation values given outright, as a study's own sweep (e.g. Kim & Mnih's betas), instead of
    # the paper's value times `multipliers`.
    sweeps: tuple[tuple[str, tuple[float, ...]], ...] = ()
    latent_dim: int | None = None  # None: one latent per factor, as the inductive-bias study has it

    def seeds_of(self, model: str) -> int:
        return dict(self.seeds_by_model).get(model, self.seeds)

    def build_of(self, variant: str, seed_index: int) -> int | None:
        if not (self.builds and variant in IDENTITIES):
            return None
        build = seed_index % self.builds + 1
        return {(arm, old): new for arm, old, new in self.replaced_builds}.get((variant, build), build)

    def data_variants(self) -> list[str]:
        """Every variant's name with its builds, as the runs read them (`modified@2`)."""
        return list(dict.fromkeys(variant_name(v, self.build_of(v, k))
                                  for v in self.variants for k in range(max(self.builds, 1))))

    def compared_variants(self) -> tuple[str, ...]:
        """The variants of the second stage: all of them when the values are fixed in advance."""
        return self.variants if self.fixed_values else self.variants[1:]


def model_config(model: str, dataset: str, settings=()):
    """Model `model`'s paper setting for the paper's dataset that `dataset` stands for, with the `settings`
    (model, field, value) that name it."""
    config = paper_config(model, lookup(DATASETS, dataset, "dataset").stands_for())
    return dataclasses.replace(config, **{f: v for m, f, v in settings if m == model})


def line_search_values(model: str, dataset: str, multipliers, settings=(), sweep=None) -> list[float | None]:
    """The values a line search tries: `sweep` where given, else the paper's value (with `settings`) times the
    `multipliers`; [None] for a model without a regulariser."""
    cls = lookup(MODELS, model, "model")
    if cls.regulariser is None:
        return [None]
    if sweep:
        return [float(v) for v in sweep]
    paper = getattr(model_config(model, dataset, settings), cls.regulariser)
    return [paper * m for m in multipliers]


def paper_value(model: str, dataset: str) -> float | None:
    """The model's regularisation strength in the paper, or None when it has none."""
    return line_search_values(model, dataset, (1.0,))[0]


def _seeded(profile: Profile, cells: list[dict]) -> list[Cell]:
    return [Cell(**c, seed_index=s, build=profile.build_of(c["variant"], s))
            for c in cells for s in range(profile.seeds_of(c["model"]))]


def search_cells(profile: Profile) -> list[Cell]:
    """Stage 1: the line search on the first variant; none when the values are fixed in advance."""
    if profile.fixed_values:
        return []
    pairs = product(sweep("model", profile.models), sweep("dataset", profile.datasets))
    sweeps = dict(profile.sweeps)
    grid = [{**p, "value": v} for p in pairs
            for v in line_search_values(p["model"], p["dataset"], profile.multipliers, profile.model_settings,
                                        sweeps.get(p["model"]))]
    return _seeded(profile, product(grid, fixed(variant=profile.variants[0])))


def fixed_choices(profile: Profile) -> dict[tuple[str, str], float | None]:
    """A confirmatory profile's values, per (model, dataset)."""
    values = dict(profile.fixed_values)
    return {(m, d): values[m] for m in profile.models for d in profile.datasets}


def variant_cells(profile: Profile, chosen: dict[tuple[str, str], float | None]) -> list[Cell]:
    """Stage 2: the chosen value of each (model, dataset) on the compared variants."""
    grid = [{"model": m, "dataset": d, "value": v} for (m, d), v in sorted(chosen.items(), key=str)]
    return _seeded(profile, product(grid, sweep("variant", profile.compared_variants())))


def choose_values(records: list[dict]) -> dict[tuple[str, str], dict]:
    """Per (model, dataset): the line-search value with the best mean MIG among runs that are not over-pruned
    (docs/paper.md). If every value over-prunes, the best of all is taken and the choice says so."""
    by_pair: dict[tuple[str, str], dict] = {}
    for r in records:
        key = (r["cell"]["model"], r["cell"]["dataset"])
        by_value = by_pair.setdefault(key, {})
        by_value.setdefault(r["cell"]["value"], []).append(r["metrics"])
    choices = {}
    for key, by_value in by_pair.items():
        tried = {v: {"mean_mig": float(np.mean([m["mig"] for m in ms])), "runs": len(ms),
                     "over_pruned": sum(bool(m.get("over_pruned")) for m in ms)} for v, ms in by_value.items()}
        eligible = {v: t for v, t in tried.items() if t["over_pruned"] == 0}
        pool = eligible or tried
        choices[key] = {"value": max(pool, key=lambda v: pool[v]["mean_mig"]), "tried": tried,
                        "all_over_pruned": not eligible}
    return choices


def chosen_values(profile: Profile, search_records: list[dict]) -> dict[tuple[str, str], float | None]:
    """Each (model, dataset)'s value for the second stage: fixed in advance, or chosen by the line search."""
    if profile.fixed_values:
        return fixed_choices(profile)
    return {key: c["value"] for key, c in choose_values(search_records).items()}


def run_seed(suite: str, profile: Profile, cell: Cell) -> int:
    """Paired profiles leave the variant out of the seed and put the profile in, so their seeds are shared
    across variants and with no exploratory run."""
    if profile.paired:
        return seed_hash(suite, profile.name, cell.model, cell.dataset, cell.value, cell.seed_index)
    return seed_hash(suite, cell.model, cell.dataset, cell.variant, cell.value, cell.seed_index)


def train_config(suite: str, profile: Profile, cell: Cell) -> TrainConfig:
    config = model_config(cell.model, cell.dataset, profile.model_settings)
    if cell.value is not None:
        config = dataclasses.replace(config, **{MODELS[cell.model].regulariser: cell.value})
    return TrainConfig(cell.model, cell.dataset, variant_name(cell.variant, cell.build), config,
                       seed=run_seed(suite, profile, cell), steps=profile.steps, batch_size=profile.batch_size,
                       lr=profile.lr, latent_dim=profile.latent_dim)


@dataclass(frozen=True)
class Suite:
    name: str
    profiles: dict[str, Profile]
    # How its report reads the runs (`bench.report`): "variants" sets each model's chosen value on every variant
    # beside the paper's Table 1; "trade-off" sets every swept value's disentanglement against reconstruction.
    report: str = "variants"


# The models of the inductive-bias study; a model added later joins a profile by being named in it.
STUDY_MODELS = ("ae", "beta_vae", "factor_vae", "beta_tcvae", "slow_vae", "pcl")
INDUCTIVE_BIAS = Suite("inductive-bias", {
    # The paper's protocol (docs/paper.md): meant for a GPU cluster (300k steps x 10 seeds x line search x 2 x 3 x 6).
    "paper": Profile("paper", datasets=("dsprites", "shapes3d"), variants=("original", "modified", "noise"),
                     models=STUDY_MODELS, multipliers=(0.25, 0.5, 1.0, 2.0, 4.0), seeds=10, steps=300_000),
    # The default: a miniature that finishes in about 4 hours on a 2-core CPU (README, docs/quick-profile.md).
    # dsprites_halfy is the smallest setting measured in which beta-VAE's original-data MIG is clearly high
    # (0.21 mean over 4 seeds at 5k steps, near its 10k-step plateau of 0.22). The headline contrast, beta-VAE
    # and PCL, gets 5 seeds; the other models 3, which is what fits: a FactorVAE run alone took 570 s of
    # training here, four beta-VAE runs' worth (its discriminator costs the same at 32 x 32 as at 64 x 64).
    "quick": Profile("quick", datasets=("dsprites_halfy",), variants=("original", "modified", "noise"),
                     models=("beta_vae", "pcl", "beta_tcvae", "factor_vae", "slow_vae", "ae"),
                     multipliers=(0.5, 1.0, 2.0), seeds=5, steps=5000,
                     seeds_by_model=(("beta_tcvae", 3), ("factor_vae", 3), ("slow_vae", 3), ("ae", 3))),
    # The pre-registered confirmatory run (docs/preregistration.md): quick's data, steps and chosen values, four
    # arms (the sham added), seeds paired across arms and spread over 3 builds of each learned arm. 10 seeds for
    # the headline pair, 5 for the rest: about 4.5 h with 2 workers here, from quick's measured run times.
    "confirm": Profile("confirm", datasets=("dsprites_halfy",), variants=("original", "modified", "sham", "noise"),
                       models=("beta_vae", "pcl", "beta_tcvae", "factor_vae", "slow_vae", "ae"), multipliers=(1.0,),
                       seeds=10, steps=5000,
                       seeds_by_model=(("beta_tcvae", 5), ("factor_vae", 5), ("slow_vae", 5), ("ae", 5)),
                       fixed_values=(("beta_vae", 8.0), ("beta_tcvae", 12.0), ("factor_vae", 35.0),
                                     ("slow_vae", 20.0), ("pcl", None), ("ae", None)),
                       builds=3, paired=True, hypotheses=CONFIRM_DSPRITES,
                       # modified@2 failed its acceptance test (docs/preregistration-deviations.md)
                       replaced_builds=(("modified", 2, 4),)),
    # The whole pipeline in a few minutes on a CPU, for CI (`bench check`); its numbers mean nothing.
    "smoke": Profile("smoke", datasets=("dsprites_small",), variants=("original", "noise"),
                     models=("beta_vae", "pcl"), multipliers=(0.5, 1.0), seeds=2, steps=40,
                     metrics=MetricSettings(num_train=1000, num_test=500), batch_size=32),
})
# The second study (Kim & Mnih 2018, docs/factor-vae.md): FactorVAE against beta-VAE over the seed's own sweeps,
# disentanglement against reconstruction. Its settings: a latent of 10, Adam at 1e-4 (the discriminator's betas
# 0.5, 0.9, as bench's FactorVAE has them), batch 64, 300k steps on dSprites, 10 seeds.
TRADE_OFF_METRICS = MetricSettings(metrics=("factor_vae_score", "mig", "reconstruction"))
# InfoWGAN-GP's information weight over part of the seed's grid (0 to 1 in steps of 0.1; our choice of six).
FACTOR_VAE = Suite("factor-vae", {
    "paper": Profile("paper", datasets=("dsprites",), variants=("original",),
                     models=("beta_vae", "factor_vae", "info_wgan_gp"), multipliers=(1.0,),
                     sweeps=(("beta_vae", (1, 2, 4, 6, 8, 16)), ("factor_vae", (10, 20, 30, 40, 50, 100)),
                             ("info_wgan_gp", (0.1, 0.2, 0.4, 0.6, 0.8, 1.0))),
                     seeds=10, steps=300_000, latent_dim=10, metrics=TRADE_OFF_METRICS),
    # The whole pipeline in a minute, for tests; its numbers mean nothing.
    "smoke": Profile("smoke", datasets=("dsprites_small",), variants=("original",),
                     models=("beta_vae", "factor_vae", "info_wgan_gp"), multipliers=(1.0,),
                     sweeps=(("beta_vae", (1, 4)), ("factor_vae", (10, 40)), ("info_wgan_gp", (1,))), seeds=2,
                     steps=30, latent_dim=10, batch_size=32,
                     metrics=dataclasses.replace(TRADE_OFF_METRICS, num_train=300, num_test=150)),
}, report="trade-off")
SUITES = {s.name: s for s in (INDUCTIVE_BIAS, FACTOR_VAE)}


def register(suite: Suite) -> Suite:
    """Add a user's suite (a plugin, docs/extending.md); `bench run --suite NAME` then runs it."""
    if not isinstance(suite, Suite):
        raise UserError(f"a suite must be a bench.suites.Suite, not {type(suite).__name__}")
    unused_name(SUITES, suite.name, suite, "suite")
    SUITES[suite.name] = suite
    return suite


def get_profile(suite: str, profile: str) -> Profile:
    return lookup(lookup(SUITES, suite, "suite").profiles, profile, "profile")
