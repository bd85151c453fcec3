"""Command line: `python -m bench <command>`. Parses, calls the library, prints; no logic of its own."""

import argparse
import sys
import time

import numpy as np

from bench.errors import UserError


def _add_data_root(p):
    p.add_argument("--data-root", default=None,
                   help="where image caches and original files live (default: $BENCH_DATA_ROOT or ./datasets)")


def _datasets_arg(p, required=False):
    from bench.data import DATASETS
    help_all = "" if required else " (default: all)"
    p.add_argument("--dataset", required=required, help=f"one of {', '.join(DATASETS)}{help_all}")


def _selected(name):
    from bench.data import DATASETS
    from bench.errors import lookup
    return [lookup(DATASETS, name, "dataset")] if name else list(DATASETS.values())


def cmd_datasets_build(args):
    from bench.data import VARIANTS, get
    from bench.data.sources import data_root, load_base
    from bench.errors import lookup
    lookup(VARIANTS, args.variant, "variant")
    for spec in _selected(args.dataset):
        t0 = time.perf_counter()
        if args.rebuild:
            load_base(spec, data_root(args.data_root), rebuild=True)
        ds = get(spec.name, args.variant, args.data_root)
        print(f"{spec.name}/{args.variant}: {len(ds)} images ready ({time.perf_counter() - t0:.1f} s)")


def cmd_datasets_info(args):
    from bench.data.sources import base_store, data_root, describe_source
    root = data_root(args.data_root)
    for spec in _selected(args.dataset):
        store = base_store(spec, root)
        state = "built" if store.is_valid() else "not built yet (bench datasets build)"
        if args.verify and store.is_valid():
            state = "built, checksum ok" if store.verify() else "CORRUPT: run bench datasets build --rebuild"
        print(f"{spec.name}: {len(spec.grid)} images of shape {spec.observation_shape}")
        print("  factors: " + ", ".join(f"{n} ({s})" for n, s in zip(spec.grid.names, spec.grid.sizes)))
        print(f"  source:  {describe_source(store.params)}")
        print(f"  cache:   {store.directory} ({store.nbytes / 2**30:.2f} GiB, {state})")


def cmd_datasets_show(args):
    from bench.data import get
    from bench.data.show import dataset_figure, save
    ds = get(args.dataset, args.variant, args.data_root)
    save(dataset_figure(ds, np.random.default_rng(args.seed)), args.out)
    print(f"wrote {args.out}")


def cmd_benchmark_datasets(args):
    from bench.benchmarks.datasets import run
    run([spec.name for spec in _selected(args.dataset)], args.data_root)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    datasets = commands.add_parser("datasets", help="build, inspect and picture the ground-truth datasets")
    ds_cmds = datasets.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = ds_cmds.add_parser("build", help="render (or import the original files) and cache the images")
    _datasets_arg(p)
    p.add_argument("--variant", default="original", help="dataset variant (default: original)")
    p.add_argument("--rebuild", action="store_true", help="rebuild the cache even if it looks valid")
    _add_data_root(p)
    p.set_defaults(func=cmd_datasets_build)
    p = ds_cmds.add_parser("info", help="factors, sizes, source and cache of each dataset")
    _datasets_arg(p)
    p.add_argument("--verify", action="store_true", help="recompute the cache checksum")
    _add_data_root(p)
    p.set_defaults(func=cmd_datasets_info)
    p = ds_cmds.add_parser("show", help="write a picture of random samples and factor traversals")
    _datasets_arg(p, required=True)
    p.add_argument("--variant", default="original")
    p.add_argument("--out", required=True, help="PNG file to write")
    p.add_argument("--seed", type=int, default=0)
    _add_data_root(p)
    p.set_defaults(func=cmd_datasets_show)

    benchmark = commands.add_parser("benchmark", help="speed benchmarks, each against a baseline in the same run")
    bm_cmds = benchmark.add_subparsers(dest="target", required=True, metavar="TARGET")
    p = bm_cmds.add_parser("datasets", help="rendering and random-batch read throughput")
    _datasets_arg(p)
    _add_data_root(p)
    p.set_defaults(func=cmd_benchmark_datasets)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; completed work is kept, and the same command continues it", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
