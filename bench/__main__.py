"""Command line: `python -m bench <command>`. Parses, calls a library function, prints; no logic of its own.

Each command imports the library when it runs, so that `--help` and a mistyped option answer at once, without
importing torch.
"""

import argparse
import os
import sys
import time

from bench.errors import UserError, os_error_message
from bench.runtime import configure_threads

DESCRIPTION = ("Reproduce the inductive-bias study of disentanglement (Zietlow et al., ICML 2021): build the datasets, "
               "train models, run a suite, report it beside the paper, and check for regressions.")


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


def _folder(text: str) -> str:
    # A data root may be read-only (caches built elsewhere) and need not exist yet, but it is never a file.
    if os.path.exists(text) and not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text!r} is a file, not a folder")
    return text


def _command(commands, name: str, help: str, func, *, data_root: bool = True):
    """A subcommand that calls `func(args)`, with --data-root unless it reads no data."""
    p = commands.add_parser(name, help=help, description=help)
    p.set_defaults(func=func)
    p.add_argument("--plugin", action="append", default=[], metavar="MODULE",
                   help="a module or .py file that registers your own models, metrics, datasets or suites "
                        "(repeatable; also $BENCH_PLUGINS, comma-separated; docs/extending.md)")
    if data_root:
        p.add_argument("--data-root", default=None, type=_folder,
                       help="where image caches and original files live (default: $BENCH_DATA_ROOT or ./datasets)")
    return p


def _settings(p, what: str):
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help=f"override {what}, e.g. --set steps=2000 (repeatable; docs/extending.md)")


def _tensorboard(p):
    p.add_argument("--tensorboard", action="store_true", help="also log the losses as TensorBoard scalars in each "
                   "run directory's tensorboard/ (needs the tensorboard package)")


def _dataset(p, required=False, all_of="every dataset"):
    p.add_argument("--dataset", required=required, help="a dataset name (bench datasets info lists them)"
                   + ("" if required else f"; default: {all_of}"))


def _jobs(p, per_device: bool = False):
    """--jobs; with `per_device`, its default is resolved later from --device (bench.context.resolve_jobs)."""
    if per_device:
        p.add_argument("--jobs", type=_positive, default=None, help="parallel single-threaded workers (default: "
                       "one per GPU with --device cuda, each on its own GPU; else one per core)")
    else:
        p.add_argument("--jobs", type=_positive, default=os.cpu_count(), help="parallel single-threaded workers "
                       "(default: one per core)")


# Commands: each one call of a library function.

def cmd_datasets_build(args):
    from bench.datasets import build, build_profile
    from bench.overrides import parse, resolve_profile
    if args.profile:
        build_profile(args.suite, resolve_profile(args.suite, args.profile, parse(args.set)), args.data_root,
                      args.jobs, args.ledger)
    else:
        build(args.dataset, args.variant, args.data_root, args.rebuild)


def cmd_datasets_info(args):
    from bench.datasets import describe
    describe(args.dataset, args.data_root, args.verify)


def cmd_datasets_show(args):
    from bench.datasets import picture
    print(f"wrote {picture(args.dataset, args.out, args.variant, args.seed, args.data_root)}")


def cmd_datasets_compare(args):
    from bench.datasets import compare
    print(f"wrote {compare(args.dataset, args.out, args.seed, args.data_root)}")


def cmd_datasets_diagnose(args):
    from bench.datasets import diagnose
    from bench.manipulation.diagnose import format_diagnosis
    print(format_diagnosis(diagnose(args.dataset, args.variant, args.steps, args.out, args.data_root)))
    if args.out:
        print(f"wrote {args.out}")


def cmd_train(args):
    from bench.launch import train_alone
    from bench.overrides import parse
    start = time.perf_counter()
    trainer, out = train_alone(args.model, args.dataset, args.variant, seed=args.seed, steps=args.steps,
                               out=args.out, device=args.device, checkpoint_every=args.checkpoint_every,
                               log_every=args.log_every, progress=not args.quiet, data_root=args.data_root,
                               settings=parse(args.set), tensorboard=args.tensorboard)
    print(f"trained {args.model} on {args.dataset}/{args.variant} to step {trainer.step} "
          f"in {time.perf_counter() - start:.0f} s; checkpoint in {out}")


def cmd_evaluate(args):
    from bench.trained import evaluate_run
    evaluation, path = evaluate_run(args.run_dir, args.metrics and args.metrics.split(","), args.data_root,
                                    args.device)
    for name, value in evaluation["metrics"].items():
        if isinstance(value, (int, float)):  # per-factor lists and matrices are in the file
            print(f"{name}: {value:.4g}")
    print(f"wrote {path}")


def cmd_traverse(args):
    from bench.trained import draw_traversal
    print(f"wrote {draw_traversal(args.run_dir, args.out, args.data_root)}")


def cmd_curves(args):
    from bench.trained import draw_curves
    print(f"wrote {draw_curves(args.run_dir, args.out)}")


def cmd_run(args):
    from bench.context import Context, resolve_jobs
    from bench.overrides import parse, resolve_profile
    from bench.runner import run_suite
    profile = resolve_profile(args.suite, args.profile, parse(args.set))
    context = Context(args.results, args.data_root, args.device, resolve_jobs(args.jobs, args.device), args.backend,
                      args.scheduler, tensorboard=args.tensorboard)
    records = run_suite(args.suite, profile, context, dry_run=args.dry_run,
                        ledger=args.ledger, retry_failed=args.retry_failed, prepare=not args.no_prepare)
    if records:
        print(f"{len(records)} runs done; records in {args.results}/runs/*/metrics.json")


def cmd_report(args):
    from bench.overrides import parse, resolve_profile
    from bench.report import report_suite
    profile = resolve_profile(args.suite, args.profile, parse(args.set))
    index = report_suite(args.suite, profile, results=args.results, records_file=args.records, out=args.out,
                         traversals=not args.no_traversals, data_root=args.data_root)
    print(f"wrote {index}")


def cmd_experiment_mig_vs_steps(args):
    from bench.experiments.mig_vs_steps import run
    from bench.overrides import parse
    run(args.model, args.dataset, args.steps, args.seeds, args.jobs, parse(args.set), args.out, args.data_root,
        tuple(args.metrics.split(",")), args.results)


def cmd_experiment_manipulation_check(args):
    from bench.context import Context
    from bench.experiments.manipulation_check import run
    run(args.dataset, args.steps, args.seeds, Context(args.results, args.data_root, jobs=args.jobs))


def cmd_experiment_targets(args):
    from bench.experiments.targets import run
    run(args.dataset, tuple(args.mixings.split(",")), args.seeds, args.steps, args.out, args.data_root, args.results)


def cmd_check(args):
    from bench.check import check
    if not check(args.baseline, args.results, args.data_root, jobs=args.jobs, update=args.update):
        raise SystemExit(1)


def cmd_benchmark_datasets(args):
    from bench.benchmarks.datasets import run
    run(args.dataset, args.data_root)


def cmd_benchmark_metrics(args):
    from bench.benchmarks.metrics import run
    run(args.data_root, parts=args.parts.split(","), metrics=args.metrics.split(","))


def cmd_benchmark_train(args):
    from bench.benchmarks.train import run
    run([args.model] if args.model else (), args.dataset, args.data_root, settings=not args.no_settings)


# The parser, one small piece per command.

def _datasets_parser(commands):
    group = commands.add_parser("datasets", help="build, inspect and picture the ground-truth datasets")
    actions = group.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = _command(actions, "build", "render (or import the original files) and cache the images: of one dataset "
                 "variant, or of every one a suite's profile needs (a job of its own before `bench run --no-prepare`)",
                 cmd_datasets_build)
    which = p.add_mutually_exclusive_group()
    _dataset(which)
    which.add_argument("--profile", help="build every dataset variant this profile's runs need (with the learned "
                       "builds' acceptance test where it has builds), e.g. paper")
    p.add_argument("--variant", default="original", help="with --dataset or alone: original, noise, modified or "
                   "sham (the learned ones train their game first); default: original")
    p.add_argument("--rebuild", action="store_true", help="with --dataset or alone: rebuild the cache even if it "
                   "looks valid")
    p.add_argument("--suite", default="inductive-bias", help="with --profile: its suite (default: inductive-bias)")
    _settings(p, "with --profile: the profile, as bench run is given them")
    p.add_argument("--ledger", help="with --profile: write the builds' acceptance results as acceptance.json beside "
                   "this records file, as bench run --ledger does")
    _jobs(p)
    p = _command(actions, "info", "factors, sizes, source and cache of each dataset", cmd_datasets_info)
    _dataset(p)
    p.add_argument("--verify", action="store_true", help="recompute the cache checksum")
    p = _picture(actions, "show", "write a picture of random samples and factor traversals", cmd_datasets_show)
    p.add_argument("--variant", default="original")
    _picture(actions, "compare", "picture the same images in every variant, with the changes magnified",
             cmd_datasets_compare)
    p = _command(actions, "diagnose", "before any VAE: does a variant's variance structure follow the factors?",
                 cmd_datasets_diagnose)
    _dataset(p, required=True)
    p.add_argument("--variant", nargs="+", default=["modified", "noise"],
                   help="variants to set beside the original (default: modified noise)")
    p.add_argument("--steps", type=_positive, default=2000, help="training steps of the two references (default: 2000)")
    p.add_argument("--out", help="also write the numbers as JSON")


def _picture(actions, name: str, help: str, func):
    p = _command(actions, name, help, func)
    _dataset(p, required=True)
    p.add_argument("--out", required=True, help="PNG file to write")
    p.add_argument("--seed", type=int, default=0)
    return p


def _train_parser(commands):
    p = _command(commands, "train", "train one model on one dataset variant (resumes from its checkpoint)", cmd_train)
    p.add_argument("--model", required=True, help="a model name, e.g. beta_vae")
    _dataset(p, required=True)
    p.add_argument("--variant", default="original")
    p.add_argument("--steps", type=_positive, default=300_000, help="step budget (default: the paper's 300k)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="auto, cpu or cuda (default: cpu)")
    p.add_argument("--checkpoint-every", type=_positive, default=1000)
    p.add_argument("--log-every", type=_positive, default=100, help="steps between rows of losses.csv (default: 100)")
    p.add_argument("--out", help="run directory (default: results/train/MODEL-DATASET-VARIANT-seedS)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _settings(p, "seed, steps, batch_size, lr, latent_dim or a field of the model's Config (beta=4)")
    _tensorboard(p)


def _one_run_parser(commands):
    p = _command(commands, "evaluate", "evaluate one trained run with chosen metrics (its record is kept)",
                 cmd_evaluate)
    p.add_argument("run_dir", help="a run directory (bench train --out, or results/runs/ID)")
    p.add_argument("--metrics", help="comma-separated metric names, opt-in ones included, e.g. mig,factor_vae_score "
                   "(default: the study's)")
    p.add_argument("--device", default="cpu", help="auto, cpu or cuda (default: cpu)")
    p = _command(commands, "traverse", "draw one trained run's latent traversals", cmd_traverse)
    p.add_argument("run_dir", help="a run directory")
    p.add_argument("--out", required=True, help="PNG file to write (a PDF is written beside it)")
    p = _command(commands, "curves", "draw one run's loss terms against the step, from its losses.csv", cmd_curves,
                 data_root=False)
    p.add_argument("run_dir", help="a run directory")
    p.add_argument("--out", required=True, help="PNG file to write (a PDF is written beside it)")


def _run_parser(commands):
    p = _command(commands, "run", "run a suite: line search, then variants; cached, resumable", cmd_run)
    p.add_argument("--suite", default="inductive-bias")
    p.add_argument("--profile", default="quick", help="quick (default, about 4 h on 2 CPU cores), confirm, paper, "
                   "smoke, or a profile file (.toml or .json, docs/extending.md)")
    _settings(p, "a profile setting, a metric setting (metrics.FIELD) or a model's (MODEL.FIELD)")
    _jobs(p, per_device=True)
    p.add_argument("--device", default="cpu", help="auto, cpu or cuda")
    p.add_argument("--results", default="results", help="results root (default: ./results)")
    p.add_argument("--dry-run", action="store_true", help="print the plan only; writes nothing and builds no data")
    p.add_argument("--no-prepare", action="store_true", help="do not build data: refuse, naming what is missing, "
                   "unless `bench datasets build --suite S --profile P` built it (docs/cluster.md)")
    p.add_argument("--retry-failed", action="store_true",
                   help="train runs that diverged again (they are skipped otherwise: the same code diverges again)")
    p.add_argument("--backend", default="local", help="local (joblib workers) or dask (an existing cluster)")
    p.add_argument("--scheduler", help="dask scheduler address, e.g. tcp://host:8786 (with --backend dask)")
    p.add_argument("--ledger", help="a records file to commit: its runs count as done, finished runs are added "
                   "(e.g. reports/inductive-bias/confirm/records.jsonl)")
    _tensorboard(p)


def _report_parser(commands):
    p = _command(commands, "report", "tables, plots and verdicts from stored runs, beside the paper", cmd_report)
    p.add_argument("--suite", default="inductive-bias")
    p.add_argument("--profile", default="quick", help="a profile name or file, as given to bench run")
    _settings(p, "the profile as bench run did, to find the same runs")
    p.add_argument("--results", default="results", help="results root to read runs from")
    p.add_argument("--records", help="a records.jsonl (as a report writes) instead of the results root")
    p.add_argument("--out", help="output folder (default: reports/SUITE/PROFILE)")
    p.add_argument("--no-traversals", action="store_true", help="skip latent traversals (they load checkpoints)")


def _experiment_parser(commands):
    names = commands.add_parser("experiment", help="short experiments that answer one question each").add_subparsers(
        dest="name", required=True, metavar="NAME")
    p = _command(names, "mig-vs-steps", "MIG at training milestones, per seed (to choose a budget)",
                 cmd_experiment_mig_vs_steps)
    p.add_argument("--model", default="beta_vae")
    _dataset(p, required=True)
    p.add_argument("--steps", default="2000,5000,10000,20000", type=_milestones, help="comma-separated milestones")
    p.add_argument("--seeds", type=_positive, default=3)
    _jobs(p)
    _settings(p, "a model setting (beta=4), lr, batch_size or latent_dim")
    p.add_argument("--metrics", default="mig,active_units", help="comma-separated metrics measured at each "
                   "milestone (default: mig,active_units), e.g. mig,factor_vae_score,reconstruction")
    p.add_argument("--out", help="CSV file (default: RESULTS/experiments/...)")
    p.add_argument("--results", default="results", help="results root: each seed's run is kept under "
                   "RESULTS/experiments/curves, so the same command resumes it and later --steps continue it")
    p = _command(names, "targets", "which basis can a manipulation aim at? fresh references' original-data gap "
                 "per candidate mixing", cmd_experiment_targets)
    _dataset(p, required=True)
    p.add_argument("--mixings", default="closest-pair,all", help="comma-separated mixings: closest-pair, all, "
                   "pair:A+B with two factor names (default: closest-pair,all)")
    p.add_argument("--seeds", type=_positive, default=3, help="reference seeds per mixing (default: 3)")
    p.add_argument("--steps", type=_positive, default=2000, help="the references' training steps (default: 2000)")
    p.add_argument("--out", help="CSV file (default: RESULTS/experiments/targets-DATASET-STEPS.csv)")
    p.add_argument("--results", default="results", help="results root: each gap is kept in "
                   "RESULTS/experiments/targets/DATASET.jsonl as it is measured, so the same command goes on")
    p = _command(names, "manipulation-check",
                 "beta-VAE and PCL on original / modified / noise: does the modification break beta-VAE?",
                 cmd_experiment_manipulation_check)
    _dataset(p, required=True)
    p.add_argument("--steps", type=_positive, default=10_000, help="training steps per run (default: 10000)")
    p.add_argument("--seeds", type=_positive, default=3)
    _jobs(p)
    p.add_argument("--results", default="results/experiments/manipulation-check",
                   help="where its runs are cached (the same command resumes them)")


def _check_parser(commands):
    p = _command(commands, "check", "CI regression: run the smoke profile, compare metrics to the baseline", cmd_check)
    p.add_argument("--baseline", default="tests/baselines/smoke.json")
    p.add_argument("--update", action="store_true", help="rewrite the baseline (only for intended changes)")
    p.add_argument("--results", help="keep the smoke runs here (default: a temporary directory)")
    _jobs(p)


def _benchmark_parser(commands):
    targets = commands.add_parser("benchmark", help="speed benchmarks, each against a baseline in the same run"
                                  ).add_subparsers(dest="target", required=True, metavar="TARGET")
    p = _command(targets, "datasets", "rendering and random-batch read throughput", cmd_benchmark_datasets)
    _dataset(p, all_of="dsprites and shapes3d")
    p = _command(targets, "metrics", "metric time against straightforward references, with agreement checks",
                 cmd_benchmark_metrics)
    p.add_argument("--parts", default="compare,evaluation",
                   help="compare (each metric vs its reference) and/or evaluation (one model, opt-in costs)")
    p.add_argument("--metrics", default="mig,sap,dci", help="which metrics the compare part times")
    p = _command(targets, "train", "training images/s per model against the ceiling and a DataLoader loop",
                 cmd_benchmark_train)
    p.add_argument("--model", help="one model (default: all)")
    p.add_argument("--dataset", default="dsprites", help="dataset to train on (default: dsprites)")
    p.add_argument("--no-settings", action="store_true", help="skip the CPU-settings comparison")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m bench", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for piece in (_datasets_parser, _train_parser, _one_run_parser, _run_parser, _report_parser, _experiment_parser,
                  _check_parser, _benchmark_parser):
        piece(commands)
    return parser


def main(argv=None) -> int:
    try:
        args = build_parser().parse_args(argv)
        configure_threads()
        from bench.plugins import load  # before any name is looked up; plain Python, no torch
        load(args.plugin)
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
    sys.exit(main())
