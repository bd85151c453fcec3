"""Command line: `python -m bench <command>`. Parses, calls the library, prints; no logic of its own."""

import argparse
import os
import sys
import time

import numpy as np

from bench.errors import UserError, os_error_message, writable_file, writable_folder
from bench.runtime import configure_threads, reexec_with_allocator_settings


class _Parser(argparse.ArgumentParser):
    """Usage mistakes are one-line errors like any other (argparse would print the usage first)."""

    def error(self, message):
        raise UserError(f"{self.prog}: {message} (see {self.prog} --help)")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return value


def _milestones(text: str) -> list[int]:
    try:
        return [_positive(s) for s in text.split(",")]
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of whole numbers of at least 1, "
                                         "e.g. 2000,5000") from None


def _setting(text: str) -> tuple[str, float]:
    key, _, value = text.partition("=")
    try:
        return key, float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: {value!r} is not a number; write e.g. beta=4") from None


def _folder(text: str) -> str:
    # A data root may be read-only (caches built elsewhere) and need not exist yet, but it is never a file.
    if os.path.exists(text) and not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text!r} is a file, not a folder")
    return text


def _add_data_root(p):
    p.add_argument("--data-root", default=None, type=_folder,
                   help="where image caches and original files live (default: $BENCH_DATA_ROOT or ./datasets)")


def _datasets_arg(p, required=False, default="all"):
    from bench.data import DATASETS
    help_all = "" if required else f" (default: {default})"
    p.add_argument("--dataset", required=required, help=f"one of {', '.join(DATASETS)}{help_all}")


def _picture_parser(commands, name, help):
    """A dataset picture command: which dataset, where the PNG goes, the sampling seed and the data root."""
    p = commands.add_parser(name, help=help)
    _datasets_arg(p, required=True)
    p.add_argument("--out", required=True, help="PNG file to write")
    p.add_argument("--seed", type=int, default=0)
    _add_data_root(p)
    return p


def _selected(name):
    from bench.data import DATASETS
    from bench.errors import lookup
    return [lookup(DATASETS, name, "dataset")] if name else list(DATASETS.values())


def cmd_datasets_build(args):
    from bench.variants import VARIANTS, get
    from bench.data.sources import data_root, load_base
    from bench.errors import lookup
    lookup(VARIANTS, args.variant, "variant")
    for spec in _selected(args.dataset):
        t0 = time.perf_counter()
        if args.rebuild:
            load_base(spec, data_root(args.data_root), rebuild=True)
        ds = get(spec.name, args.variant, args.data_root)
        print(f"{spec.name}/{args.variant}: {len(ds)} images ready ({time.perf_counter() - t0:.1f} s)")
        if args.variant == "modified":
            from bench.manipulation import guarantee_report
            from bench.manipulation.guarantees import format_report
            print(format_report(guarantee_report(get(spec.name, "original", args.data_root), data_root(args.data_root))))


def cmd_datasets_info(args):
    from bench.data.sources import base_store, data_root, describe_source
    root = data_root(args.data_root)
    corrupt = []
    for spec in _selected(args.dataset):
        store = base_store(spec, root)
        state = "built" if store.is_valid() else "not built yet (bench datasets build)"
        if args.verify and store.is_valid():
            intact = store.verify()
            state = "built, checksum ok" if intact else "CORRUPT: run bench datasets build --rebuild"
            corrupt += [] if intact else [spec.name]
        print(f"{spec.name}: {len(spec.grid)} images of shape {spec.observation_shape}")
        print("  factors: " + ", ".join(f"{n} ({s})" for n, s in zip(spec.grid.names, spec.grid.sizes)))
        print(f"  source:  {describe_source(store.params)}")
        print(f"  cache:   {store.directory} ({store.nbytes / 2**30:.2f} GiB, {state})")
    if corrupt:  # a non-zero exit, so that scripts and CI notice
        raise UserError(f"corrupt image cache: {', '.join(corrupt)}; run bench datasets build --rebuild")


def cmd_datasets_show(args):
    from bench.variants import get
    from bench.data.show import dataset_figure, save
    writable_file(args.out, "--out")
    ds = get(args.dataset, args.variant, args.data_root)
    save(dataset_figure(ds, np.random.default_rng(args.seed)), args.out)
    print(f"wrote {args.out}")


def cmd_datasets_compare(args):
    from bench.variants import VARIANTS, get
    from bench.data.show import save, variants_figure
    writable_file(args.out, "--out")
    variants = {name: get(args.dataset, name, args.data_root) for name in VARIANTS}
    save(variants_figure(variants, np.random.default_rng(args.seed)), args.out)
    print(f"wrote {args.out}")


def cmd_datasets_diagnose(args):
    import json
    from pathlib import Path
    from bench.variants import get
    from bench.manipulation import ManipulationConfig
    from bench.manipulation.diagnose import diagnose, format_diagnosis
    if args.out:
        writable_file(args.out, "--out")
    variants = {name: get(args.dataset, name, args.data_root) for name in ("original", *args.variant)}
    result = diagnose(variants, ManipulationConfig(), steps=args.steps)
    print(format_diagnosis(result))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2))
        print(f"wrote {args.out}")


def cmd_benchmark_datasets(args):
    from bench.benchmarks.datasets import run
    run(args.dataset, args.data_root)


def cmd_train(args):
    from bench.variants import get
    from bench.errors import lookup
    from bench.models import MODELS
    from bench.train import TrainConfig, resolve_device, train
    lookup(MODELS, args.model, "model")  # check every name before the dataset is built
    resolve_device(args.device)
    out = writable_folder(args.out or f"results/train/{args.model}-{args.dataset}-{args.variant}-seed{args.seed}",
                          "--out")
    data = get(args.dataset, args.variant, args.data_root)
    config = TrainConfig(args.model, args.dataset, args.variant, seed=args.seed, steps=args.steps)
    t0 = time.perf_counter()
    trainer = train(config, data, out, device=args.device, checkpoint_every=args.checkpoint_every,
                    progress=not args.quiet)
    print(f"trained {args.model} on {args.dataset}/{args.variant} to step {trainer.step} "
          f"in {time.perf_counter() - t0:.0f} s; checkpoint in {out}")


def cmd_run(args):
    from bench.runner import run_suite
    from bench.suites import get_profile
    from bench.train import resolve_device
    resolve_device(args.device)
    if not args.dry_run:  # a dry run only reads, so it may look at results it cannot write
        writable_folder(args.results, "--results")
    records = run_suite(args.suite, get_profile(args.suite, args.profile), args.results, args.data_root,
                        args.device, args.jobs, args.dry_run, backend=args.backend, scheduler=args.scheduler,
                        ledger=args.ledger, retry_failed=args.retry_failed)
    if records:
        print(f"{len(records)} runs done; records in {args.results}/runs/*/metrics.json")


def cmd_report(args):
    from bench.report import build_report
    from bench.report.build import median_models
    from bench.report.records import read_jsonl
    from bench.runner import failed_runs, suite_records
    from bench.suites import get_profile
    if args.records:  # a records file holds finished runs only: no failures, no checkpoints
        records, failed = read_jsonl(args.records), ()
    else:
        profile = get_profile(args.suite, args.profile)
        records = suite_records(args.suite, profile, args.results)
        failed = failed_runs(args.suite, profile, args.results)
    out = writable_folder(args.out or f"reports/{args.suite}/{args.profile}", "--out")
    traversals = None if args.records or args.no_traversals else median_models(records, args.results, args.data_root)
    print(f"wrote {build_report(records, out, traversals, failed)}")


def cmd_experiment_mig_vs_steps(args):
    from bench.experiments.mig_vs_steps import run
    run(args.model, args.dataset, args.steps, args.seeds, args.jobs, dict(args.set), args.out, args.data_root)


def cmd_experiment_manipulation_check(args):
    from bench.experiments.manipulation_check import run
    _selected(args.dataset)
    run(args.dataset, args.steps, args.seeds, args.jobs, writable_folder(args.results, "--results"), args.data_root)


def cmd_check(args):
    import tempfile
    from bench.check import check
    with tempfile.TemporaryDirectory() as scratch:
        results = writable_folder(args.results, "--results") if args.results else scratch
        ok = check(args.baseline, results, args.data_root, jobs=args.jobs, update=args.update)
    if not ok:
        raise SystemExit(1)


def cmd_benchmark_metrics(args):
    from bench.benchmarks.metrics import run
    run(args.data_root, parts=args.parts.split(","), metrics=args.metrics.split(","))


def cmd_benchmark_train(args):
    from bench.benchmarks.train import run
    run([args.model] if args.model else (), args.dataset, args.data_root, settings=not args.no_settings)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m bench", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    datasets = commands.add_parser("datasets", help="build, inspect and picture the ground-truth datasets")
    ds_cmds = datasets.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = ds_cmds.add_parser("build", help="render (or import the original files) and cache the images")
    _datasets_arg(p)
    p.add_argument("--variant", default="original",
                   help="original, modified (trains the manipulation first) or noise (default: original)")
    p.add_argument("--rebuild", action="store_true", help="rebuild the cache even if it looks valid")
    _add_data_root(p)
    p.set_defaults(func=cmd_datasets_build)
    p = ds_cmds.add_parser("info", help="factors, sizes, source and cache of each dataset")
    _datasets_arg(p)
    p.add_argument("--verify", action="store_true", help="recompute the cache checksum")
    _add_data_root(p)
    p.set_defaults(func=cmd_datasets_info)
    p = _picture_parser(ds_cmds, "show", "write a picture of random samples and factor traversals")
    p.add_argument("--variant", default="original")
    p.set_defaults(func=cmd_datasets_show)
    p = _picture_parser(ds_cmds, "compare", "picture the same images in every variant, with the changes magnified")
    p.set_defaults(func=cmd_datasets_compare)
    p = ds_cmds.add_parser("diagnose", help="before any VAE: does a variant's variance structure follow the factors?")
    _datasets_arg(p, required=True)
    p.add_argument("--variant", nargs="+", default=["modified", "noise"],
                   help="variants to set beside the original (default: modified noise)")
    p.add_argument("--steps", type=_positive, default=2000, help="training steps of the two references (default: 2000)")
    p.add_argument("--out", help="also write the numbers as JSON")
    _add_data_root(p)
    p.set_defaults(func=cmd_datasets_diagnose)

    from bench.models import MODELS
    p = commands.add_parser("train", help="train one model on one dataset variant (resumes from its checkpoint)")
    p.add_argument("--model", required=True, help=f"one of {', '.join(MODELS)}")
    _datasets_arg(p, required=True)
    p.add_argument("--variant", default="original")
    p.add_argument("--steps", type=_positive, default=300_000, help="step budget (default: the paper's 300k)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="auto, cpu or cuda (default: cpu)")
    p.add_argument("--checkpoint-every", type=_positive, default=1000)
    p.add_argument("--out", help="run directory (default: results/train/MODEL-DATASET-VARIANT-seedS)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_data_root(p)
    p.set_defaults(func=cmd_train)

    from bench.suites import SUITES
    p = commands.add_parser("run", help="run a suite: line search, then variants; cached, resumable")
    p.add_argument("--suite", default="inductive-bias", help=f"one of {', '.join(SUITES)}")
    p.add_argument("--profile", default="quick", help="quick (default, about 4 h on 2 CPU cores), paper or smoke")
    p.add_argument("--jobs", type=_positive, default=os.cpu_count(), help="parallel single-threaded workers "
                   "(default: one per core)")
    p.add_argument("--device", default="cpu", help="auto, cpu or cuda")
    p.add_argument("--results", default="results", help="results root (default: ./results)")
    p.add_argument("--dry-run", action="store_true", help="print the plan only")
    p.add_argument("--retry-failed", action="store_true",
                   help="train runs that diverged again (they are skipped otherwise: the same code diverges again)")
    p.add_argument("--backend", default="local", help="local (joblib workers) or dask (an existing cluster)")
    p.add_argument("--scheduler", help="dask scheduler address, e.g. tcp://host:8786 (with --backend dask)")
    p.add_argument("--ledger", help="a records file to commit: its runs count as done, finished runs are added "
                   "(e.g. reports/inductive-bias/confirm/records.jsonl)")
    _add_data_root(p)
    p.set_defaults(func=cmd_run)

    p = commands.add_parser("report", help="tables, plots and verdicts from stored runs, beside the paper")
    p.add_argument("--suite", default="inductive-bias")
    p.add_argument("--profile", default="quick")
    p.add_argument("--results", default="results", help="results root to read runs from")
    p.add_argument("--records", help="a records.jsonl (as a report writes) instead of the results root")
    p.add_argument("--out", help="output folder (default: reports/SUITE/PROFILE)")
    p.add_argument("--no-traversals", action="store_true", help="skip latent traversals (they load checkpoints)")
    _add_data_root(p)
    p.set_defaults(func=cmd_report)

    experiment = commands.add_parser("experiment", help="short experiments that answer one question each")
    ex_cmds = experiment.add_subparsers(dest="name", required=True, metavar="NAME")
    p = ex_cmds.add_parser("mig-vs-steps", help="MIG at training milestones, per seed (to choose a budget)")
    p.add_argument("--model", default="beta_vae")
    _datasets_arg(p, required=True)
    p.add_argument("--steps", default="2000,5000,10000,20000", type=_milestones, help="comma-separated milestones")
    p.add_argument("--seeds", type=_positive, default=3)
    p.add_argument("--jobs", type=_positive, default=os.cpu_count())
    p.add_argument("--set", action="append", default=[], type=_setting, metavar="KEY=VALUE",
                   help="override a model setting, e.g. beta=4")
    p.add_argument("--out", help="CSV file (default: results/experiments/...)")
    _add_data_root(p)
    p.set_defaults(func=cmd_experiment_mig_vs_steps)
    p = ex_cmds.add_parser("manipulation-check",
                           help="beta-VAE and PCL on original / modified / noise: does the modification break beta-VAE?")
    _datasets_arg(p, required=True)
    p.add_argument("--steps", type=_positive, default=10_000, help="training steps per run (default: 10000)")
    p.add_argument("--seeds", type=_positive, default=3)
    p.add_argument("--jobs", type=_positive, default=os.cpu_count())
    p.add_argument("--results", default="results/experiments/manipulation-check",
                   help="where its runs are cached (the same command resumes them)")
    _add_data_root(p)
    p.set_defaults(func=cmd_experiment_manipulation_check)

    p = commands.add_parser("check", help="CI regression: run the smoke profile, compare metrics to the baseline")
    p.add_argument("--baseline", default="tests/baselines/smoke.json")
    p.add_argument("--update", action="store_true", help="rewrite the baseline (only for intended changes)")
    p.add_argument("--results", help="keep the smoke runs here (default: a temporary directory)")
    p.add_argument("--jobs", type=_positive, default=os.cpu_count())
    _add_data_root(p)
    p.set_defaults(func=cmd_check)

    benchmark = commands.add_parser("benchmark", help="speed benchmarks, each against a baseline in the same run")
    bm_cmds = benchmark.add_subparsers(dest="target", required=True, metavar="TARGET")
    p = bm_cmds.add_parser("datasets", help="rendering and random-batch read throughput")
    _datasets_arg(p, default="dsprites and shapes3d")
    _add_data_root(p)
    p.set_defaults(func=cmd_benchmark_datasets)
    p = bm_cmds.add_parser("metrics", help="metric time against straightforward references, with agreement checks")
    p.add_argument("--parts", default="compare,evaluation",
                   help="compare (each metric vs its reference) and/or evaluation (one model, opt-in costs)")
    p.add_argument("--metrics", default="mig,sap,dci", help="which metrics the compare part times")
    _add_data_root(p)
    p.set_defaults(func=cmd_benchmark_metrics)
    p = bm_cmds.add_parser("train", help="training images/s per model against the ceiling and a DataLoader loop")
    p.add_argument("--model", help="one model (default: all)")
    p.add_argument("--dataset", default="dsprites", help="dataset to train on (default: dsprites)")
    p.add_argument("--no-settings", action="store_true", help="skip the CPU-settings comparison")
    _add_data_root(p)
    p.set_defaults(func=cmd_benchmark_train)
    return parser


def main(argv=None) -> int:
    try:
        args = build_parser().parse_args(argv)
        configure_threads()
        args.func(args)
    except UserError as e:
        return _fail(str(e))
    except OSError as e:  # the disk or a path, not the code: a full disk, a read-only folder
        return _fail(os_error_message(e))
    except KeyboardInterrupt:
        print("interrupted; completed work is kept, and the same command continues it", file=sys.stderr)
        return 130
    return 0


def _fail(message: str) -> int:
    print("error: " + " ".join(message.split()), file=sys.stderr)  # one line, whatever the message held
    return 2


if __name__ == "__main__":
    reexec_with_allocator_settings()
    sys.exit(main())
