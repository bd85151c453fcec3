"""Running a suite: check its names, say its plan, build its data (or find it built), then execute the line search
and the variants at the values fixed in advance or chosen from it. The same call continues an interrupted run."""

from bench.context import Context
from bench.data import DATASETS
from bench.errors import lookup, writable_folder
from bench.launch import build_command, execute_all, missing_data, prepare_data, require_data
from bench.ledger import read as read_ledger
from bench.metrics.evaluate import require_factors
from bench.ledger import write_acceptance
from bench.models import MODELS
from bench.plan import describe
from bench.runs import load_records, restore, search_runs, suite_records, variant_runs
from bench.suites import Profile, chosen_values
from bench.train import resolve_device, tensorboard_writer
from bench.variants import VARIANTS


def run_suite(suite: str, profile: Profile, context: Context = Context(), *, dry_run: bool = False, say=print,
              ledger=None, retry_failed: bool = False, prepare: bool = True) -> list[dict]:
    """Say the plan, then run the line search and the variants; return the profile's records. With a `ledger`,
    its committed records count as done, and each finished run is added to it. Runs that diverged stay failed
    unless `retry_failed`. The data is built first, or, without `prepare`, must have been built already
    (`bench datasets build --suite --profile`): a one-line error names what is missing. A dry run only reads: it
    writes nothing to the results, the data root or the ledger, so it may look at results it cannot write."""
    _check(profile, context)
    ready = {} if prepare or dry_run else require_data(suite, profile, context)  # refused before any write
    committed = read_ledger(ledger) if ledger else {}
    if not dry_run:
        writable_folder(context.results, "--results")
        restore(committed, context.results)
    for line in describe(suite, profile, context, retry_failed, committed):
        say(line)
    if dry_run:
        _say_missing(suite, profile, context, prepare, say)
        return []
    acceptance = prepare_data(profile, context) if prepare else ready
    if ledger and acceptance:
        write_acceptance(ledger, acceptance)
    search = search_runs(suite, profile)
    execute_all(search, context, "line search", ledger, retry_failed)
    values = chosen_values(profile, load_records(search, context.results))
    execute_all(variant_runs(suite, profile, values), context, "variants", ledger, retry_failed)
    return suite_records(suite, profile, context.results)


def _say_missing(suite: str, profile: Profile, context: Context, prepare: bool, say):
    missing = missing_data(profile, context)
    if missing:
        then = "the run builds it first, or build it apart" if prepare else "the run would refuse to start; build it"
        say(f"data not built yet: {', '.join(missing)}; {then} with: {build_command(suite, profile, context)}")


def _check(profile: Profile, context: Context):
    """Every name and the device (here for local workers; a cluster's workers check their own), before any long
    work."""
    for name in profile.datasets:
        # A dataset without factors cannot be evaluated with most metrics: said now, not after the training.
        require_factors(lookup(DATASETS, name, "dataset"), profile.metrics.metrics)
    for name in profile.variants:
        lookup(VARIANTS, name, "variant")
    for name in profile.models:
        lookup(MODELS, name, "model")
    if context.backend == "local":
        resolve_device(context.device)
        if context.tensorboard:
            tensorboard_writer()
