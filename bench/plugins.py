"""A user's own models, metrics, datasets and suites, registered from modules outside bench (docs/extending.md).

A plugin is a module that calls the `register` functions (`bench.models.register`, `bench.metrics.register`,
`bench.data.register`, `bench.suites.register`) when imported. It is named by `--plugin MODULE` on any command or by
`BENCH_PLUGINS` (comma-separated), as an importable module name or a path to a `.py` file. Registries are plain
dicts filled at import, so every process that looks a name up must import the plugins itself: `load` puts the
full list into `BENCH_PLUGINS`, which local worker processes inherit and load again before their first run,
and a dask cluster's workers are given it by `bench.launch`.
"""

import importlib
import os
import sys
from pathlib import Path

from bench.errors import UserError

ENV = "BENCH_PLUGINS"


def named(extra=()) -> tuple[str, ...]:
    """The plugins of `BENCH_PLUGINS`, then `extra`, each once, files as absolute paths (so that a worker started
    in another folder finds the same file)."""
    names = [n.strip() for n in os.environ.get(ENV, "").split(",") if n.strip()] + list(extra)
    return tuple(dict.fromkeys(_absolute(n) for n in names))


def _absolute(name: str) -> str:
    return str(Path(name).resolve()) if name.endswith(".py") else name


def load(names=()) -> tuple[str, ...]:
    """Import the plugins of `BENCH_PLUGINS` and `names`, once each per process, and leave the full list in
    `BENCH_PLUGINS` for the processes this one starts. Returns the list."""
    names = named(names)
    for name in names:
        _import(name)
    if names:
        os.environ[ENV] = ",".join(names)
    return names


def _import(name: str):
    try:
        if name.endswith(".py"):
            path = Path(name)
            if not path.is_file():
                raise UserError(f"plugin file {name} does not exist; give a .py file or an importable module name")
            # Imported under its file's stem from its folder, so that pickled classes (a plugin model's Config in
            # a run sent to a worker) name a module the worker can import too.
            if str(path.parent) not in sys.path:
                sys.path.insert(0, str(path.parent))
            name = path.stem
        importlib.import_module(name)
    except UserError:
        raise
    except ImportError as e:
        raise UserError(f"plugin {name!r} cannot be imported ({e}); give a module on the Python path (or in "
                        "BENCH_PLUGINS of every worker's environment) or a path to a .py file") from None
    except Exception as e:  # a plugin's own bug: say whose, in one line
        raise UserError(f"plugin {name!r} failed while importing: {type(e).__name__}: {e}") from None
