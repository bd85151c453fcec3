"""Running a suite: check its names, say its plan, build its data, then execute the line search and the variants
at the values fixed in advance or chosen from it. The same call continues an interrupted run."""

from bench.context import Context
from bench.data import DATASETS
from bench.errors import lookup, writable_folder
from bench.launch import execute_all, prepare_data
from bench.ledger import read as read_ledger
from bench.ledger import write_acceptance
from bench.models import MODELS
from bench.plan import describe
from bench.runs import load_records, restore, search_runs, suite_records, variant_runs
from bench.suites import Profile, chosen_values
from bench.train import resolve_device
from bench.variants import VARIANTS


def run_suite(suite: str, profile: Profile, context: Context = Context(), *, dry_run: bool = False, say=print,
              ledger=None, retry_failed: bool = False) -> list[dict]:
    """Say the plan, then run the line search and the variants; return the profile's records. With a `ledger`,
    its committed records count as done, and each finished run is added to it. Runs that diverged stay failed
    unless `retry_failed`. A dry run only reads, so it may look at results it cannot write."""
    _check(profile, context, writes=not dry_run)
    if ledger:
        restore(read_ledger(ledger), context.results)
    for line in describe(suite, profile, context, retry_failed):
        say(line)
    if dry_run:
        return []
    acceptance = prepare_data(profile, context)
    if ledger and acceptance:
        write_acceptance(ledger, acceptance)
    search = search_runs(suite, profile)
    execute_all(search, context, "line search", ledger, retry_failed)
    values = chosen_values(profile, load_records(search, context.results))
    execute_all(variant_runs(suite, profile, values), context, "variants", ledger, retry_failed)
    return suite_records(suite, profile, context.results)


def _check(profile: Profile, context: Context, writes: bool):
    """Every name, the device and the results folder, before any long work."""
    for name in profile.datasets:
        lookup(DATASETS, name, "dataset")
    for name in profile.variants:
        lookup(VARIANTS, name, "variant")
    for name in profile.models:
        lookup(MODELS, name, "model")
    resolve_device(context.device)
    if writes:
        writable_folder(context.results, "--results")
