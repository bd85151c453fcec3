"""What `bench datasets` does, as functions: build the image caches of a variant or of a profile's runs, describe
the caches, picture a dataset or all its variants, and diagnose whether a variant's variance structure still
follows the factors."""

import json
import time
from pathlib import Path

import numpy as np

from bench.context import Context, resolve_jobs
from bench.data import data_root, load_base, selected
from bench.data.show import dataset_figure, save, variants_figure
from bench.data import sources
from bench.errors import UserError, writable_file
from bench.launch import prepare_data
from bench.ledger import write_acceptance
from bench.manipulation import ARMS, arm_config, guarantee_report
from bench.manipulation.acceptance import VERDICTS
from bench.manipulation.diagnose import diagnose as diagnose_references
from bench.manipulation.guarantees import format_report
from bench.suites import Profile
from bench.variants import VARIANTS, get, parse_variant


def build(dataset: str | None = None, variant: str = "original", root=None, rebuild: bool = False, say=print):
    """Build the image cache of `dataset` (default: every dataset) in `variant`; `rebuild` renders (or imports)
    the base images again even where the cache looks valid. A learned variant's guarantees are said."""
    arm, build_index = parse_variant(variant)
    for spec in selected(dataset):
        start = time.perf_counter()
        if rebuild:
            load_base(spec, data_root(root), rebuild=True)
        data = get(spec.name, variant, root)
        say(f"{spec.name}/{variant}: {len(data)} images ready ({time.perf_counter() - start:.1f} s)")
        if arm in ARMS:
            base = get(spec.name, "original", root)
            say(format_report(guarantee_report(base, data_root(root), arm_config(base.spec, arm, build_index))))


def build_profile(suite: str, profile: Profile, root=None, jobs: int | None = None, ledger=None,
                  say=print) -> dict[str, dict]:
    """Build every dataset variant that `profile`'s runs need, as `bench run` does before its runs (the learned
    builds in `jobs` workers, default one per core, then their acceptance test where the profile has builds), so
    that the runs can start elsewhere with `--no-prepare`. With a `ledger`, the acceptance results are written
    beside it as `acceptance.json`. Returns them: {dataset: {variant: result}}."""
    start = time.perf_counter()
    acceptance = prepare_data(profile, Context(data_root=root, jobs=resolve_jobs(jobs, "cpu")))
    if ledger and acceptance:
        write_acceptance(ledger, acceptance)
    variants = [f"{d}/{v}" for d in profile.datasets for v in profile.data_variants()]
    say(f"{suite}/{profile.name}: {len(variants)} dataset variants ready in {data_root(root)} "
        f"({time.perf_counter() - start:.0f} s): {', '.join(variants)}")
    for dataset, results in acceptance.items():
        for variant, result in results.items():
            verdict = VERDICTS[result["passed"]]
            say(f"{dataset}/{variant}: acceptance test {verdict}")
    if ledger and acceptance:
        say(f"wrote {Path(ledger).with_name('acceptance.json')}")
    return acceptance


def describe(dataset: str | None = None, root=None, verify: bool = False, say=print):
    """Factors, sizes, source and cache of `dataset` (default: every dataset, those from a user's files included,
    which say where their files go while they are missing); with `verify`, each built cache's checksum is
    recomputed, and a corrupt one ends in a UserError (so that scripts and CI notice)."""
    root, corrupt = data_root(root), []
    for spec in selected(dataset, user_files=True):
        if spec.has_factors:
            say(f"{spec.name}: {len(spec.grid)} images of shape {spec.observation_shape}")
            say("  factors: " + ", ".join(f"{n} ({s})" for n, s in zip(spec.grid.names, spec.grid.sizes)))
        else:
            say(f"{spec.name}: images of shape {spec.observation_shape} from your files")
            say("  factors: none (only latent traversals can judge a model on it: bench traverse)")
            say(f"  preprocessing: {spec.preprocessing}")
        try:
            store = sources.base_store(spec, root)
        except UserError as e:  # the user's files for a dataset without factors are missing or malformed
            say(f"  source:  {e}")
            continue
        state = "built" if store.is_valid() else "not built yet (bench datasets build)"
        if verify and store.is_valid():
            intact = store.verify()
            state = "built, checksum ok" if intact else "CORRUPT: run bench datasets build --rebuild"
            corrupt += [] if intact else [spec.name]
        say(f"  source:  {sources.describe_source(store.params)}")
        say(f"  cache:   {store.directory} ({store.nbytes / 2**30:.2f} GiB, {state})")
    if corrupt:
        raise UserError(f"corrupt image cache: {', '.join(corrupt)}; run bench datasets build --rebuild")


def picture(dataset: str, out: Path, variant: str = "original", seed: int = 0, root=None) -> Path:
    """Write a PNG of random samples of `dataset` in `variant`, then one traversal row per factor (a dataset
    without factors: samples only)."""
    out = writable_file(out, "--out")
    save(dataset_figure(get(dataset, variant, root), np.random.default_rng(seed)), out)
    return out


def compare(dataset: str, out: Path, seed: int = 0, root=None) -> Path:
    """Write a PNG of the same images of `dataset` in every variant, each change magnified."""
    out = writable_file(out, "--out")
    variants = {name: get(dataset, name, root) for name in VARIANTS}
    save(variants_figure(variants, np.random.default_rng(seed)), out)
    return out


def diagnose(dataset: str, variants=("modified", "noise"), steps: int = 2000, out: Path | None = None,
             root=None) -> dict:
    """Before any VAE: the factor directions, the references' verdict and the learnability of each of
    `variants` beside the original (`bench.manipulation.diagnose`); also written to the JSON file `out`."""
    out = writable_file(out, "--out") if out else None
    data = {name: get(dataset, name, root) for name in ("original", *variants)}
    # Judged against the basis the dataset's manipulation aims at.
    result = diagnose_references(data, arm_config(data["original"].spec, "modified", None), steps=steps)
    if out:
        out.write_text(json.dumps(result, indent=2))
    return result
