"""A user's plugin, built from the code blocks of docs/extending.md, registers a model, a metric, a dataset and a
suite from outside the package; a two-run grid of them runs with 2 local workers and on a dask cluster."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench import plugins
from bench.errors import UserError

DOCS = Path(__file__).resolve().parents[1] / "docs" / "extending.md"
# The smallest grid of the docs' suite: its two models, one value, one seed, one variant; a few steps.
SMALL = ["--suite", "sparsity", "--profile", "small", "--set", "variants=original", "--set", "multipliers=1",
         "--set", "seeds=1", "--set", "steps=4", "--set", "batch_size=16", "--set", "metrics.num_train=300",
         "--set", "metrics.num_test=100"]


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOCS.read_text(), flags=re.S)


@pytest.fixture(scope="module")
def plugin(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("user") / "sparsity_plugin.py"
    path.write_text("\n\n".join(blocks("python")))
    return path


def bench(*argv, env_plugins=None):
    env = {k: v for k, v in os.environ.items() if k != plugins.ENV}
    env |= {plugins.ENV: env_plugins} if env_plugins else {}
    return subprocess.run([sys.executable, "-m", "bench", *map(str, argv)], capture_output=True, text=True, env=env,
                          cwd=Path(__file__).resolve().parents[1])


def records_of(results: Path) -> list[dict]:
    import json
    return sorted((json.loads(p.read_text()) for p in results.glob("runs/*/metrics.json")),
                  key=lambda r: r["cell"]["model"])


def test_the_docs_plugin_runs_a_grid_with_two_workers(plugin, tmp_path):
    done = bench("run", "--plugin", plugin, *SMALL, "--jobs", 2, "--results", tmp_path / "results",
                 "--data-root", tmp_path / "data")
    assert done.returncode == 0, done.stderr
    records = records_of(tmp_path / "results")
    assert [r["cell"]["model"] for r in records] == ["beta_vae", "sparse_vae"]
    assert all(r["cell"]["dataset"] == "dsprites_4x4" and 0 <= r["metrics"]["code_spread"] for r in records)
    assert "l1" in (tmp_path / "results" / "runs" / records[1]["run_id"] / "losses.csv").read_text().splitlines()[0]
    # The report reads the plugin's model and metric from their definitions: a table for code_spread, verdicts.
    report = bench("report", *SMALL, "--results", tmp_path / "results", "--out", tmp_path / "report",
                   "--data-root", tmp_path / "data", "--no-traversals", env_plugins=str(plugin))
    assert report.returncode == 0, report.stderr
    assert (tmp_path / "report" / "tables" / "code_spread.md").exists()


def test_the_docs_plugin_runs_on_a_dask_cluster_whose_workers_never_imported_it(plugin, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        done = bench("run", "--plugin", plugin, *SMALL, "--backend", "dask", "--scheduler", cluster.scheduler_address,
                     "--results", tmp_path / "results", "--data-root", tmp_path / "data")
    assert done.returncode == 0, done.stderr
    assert [r["cell"]["model"] for r in records_of(tmp_path / "results")] == ["beta_vae", "sparse_vae"]


def test_the_docs_profile_file_is_a_valid_profile(tmp_path):
    from bench.overrides import profile_from_file
    (path := tmp_path / "grid.toml").write_text(blocks("toml")[0])
    profile = profile_from_file(path)
    assert profile.name == "grid" and profile.seeds_of("beta_tcvae") == 2


def test_a_plugin_that_cannot_be_imported_is_one_line(tmp_path):
    (broken := tmp_path / "broken.py").write_text("raise RuntimeError('oops')\n")
    for name, says in ((tmp_path / "none.py", "does not exist"), ("no_such_module_here", "cannot be imported"),
                       (broken, "failed while importing: RuntimeError: oops")):
        with pytest.raises(UserError, match=says):
            plugins.load([str(name)])


def test_a_plugin_may_not_replace_a_part_of_the_study():
    from bench.models import register
    from bench.models.pcl import PCL
    with pytest.raises(UserError, match="model 'beta_vae' is already registered"):
        register("beta_vae", PCL)
