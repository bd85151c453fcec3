import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from bench.metrics import MetricSettings
from bench.runner import (CHECKPOINT, DONE, METRICS, choose_values, estimate_seconds, execute, load_records,
                          measured_seconds, plan, run_id, run_suite, runs_for, status, suite_records)
from bench.suites import Profile, fixed, product, search_cells, sweep, train_config, variant_cells
from bench.train import TrainConfig
from bench.models.beta_vae import Config as BetaConfig

SMALL_METRICS = MetricSettings(metrics=("mig", "active_units"), num_train=300, num_test=100)
TINY = Profile("tiny", datasets=("dsprites_small",), variants=("original", "noise"), models=("beta_vae", "pcl"),
               multipliers=(1.0,), seeds=1, steps=6, metrics=SMALL_METRICS, batch_size=16)


def test_combinators():
    assert product(sweep("a", [1, 2]), fixed(b=0)) == [{"a": 1, "b": 0}, {"a": 2, "b": 0}]
    assert len(product(sweep("a", range(3)), sweep("b", range(4)))) == 12


def test_run_hash_is_stable_and_sensitive():
    config = TrainConfig("beta_vae", "dsprites", "original", BetaConfig(8.0), seed=3, steps=100)
    # The same config has the same identity, here and in a fresh process (no hash seed or object ids leak in).
    assert run_id(config) == run_id(TrainConfig("beta_vae", "dsprites", "original", BetaConfig(8.0), 3, 100))
    code = ("from bench.runner import run_id; from bench.train import TrainConfig; "
            "from bench.models.beta_vae import Config; "
            "print(run_id(TrainConfig('beta_vae', 'dsprites', 'original', Config(8.0), 3, 100)))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == run_id(config)
    changes = [dict(model_config=BetaConfig(8.5)), dict(seed=4), dict(steps=101), dict(variant="noise"),
               dict(dataset="shapes3d"), dict(lr=2e-4), dict(batch_size=32), dict(latent_dim=7)]
    ids = {run_id(dataclasses.replace(config, **c)) for c in changes}
    assert len(ids) == len(changes) and run_id(config) not in ids


def test_a_modified_run_changes_identity_with_the_manipulation(monkeypatch):
    from bench.data import variants
    from bench.manipulation import ManipulationConfig, identity
    config = TrainConfig("beta_vae", "dsprites", "modified", BetaConfig(8.0), seed=3, steps=100)
    before, original = run_id(config), run_id(dataclasses.replace(config, variant="original"))
    monkeypatch.setitem(variants.IDENTITIES, "modified", lambda build: identity(ManipulationConfig(seed=1)))
    assert run_id(config) != before
    assert run_id(dataclasses.replace(config, variant="original")) == original


def test_seeds_do_not_move_when_a_model_is_added():
    alone = dataclasses.replace(TINY, models=("beta_vae",))
    seeds = lambda p: {(c.model, c.value, c.seed_index): train_config("s", p, c).seed for c in search_cells(p)}  # noqa: E731
    with_pcl, without = seeds(TINY), seeds(alone)
    assert all(with_pcl[k] == v for k, v in without.items())
    assert len(set(with_pcl.values())) == len(with_pcl)


def test_a_model_can_run_fewer_seeds_without_moving_the_others():
    fewer = dataclasses.replace(TINY, seeds=3, seeds_by_model=(("pcl", 2),))
    search = search_cells(fewer)
    assert sorted(c.seed_index for c in search if c.model == "pcl") == [0, 1]
    assert sorted(c.seed_index for c in search if c.model == "beta_vae") == [0, 1, 2]
    later = variant_cells(fewer, {("beta_vae", "dsprites_small"): 8.0, ("pcl", "dsprites_small"): None})
    assert [(c.model, c.variant, c.seed_index) for c in later] == [
        ("beta_vae", "noise", 0), ("beta_vae", "noise", 1), ("beta_vae", "noise", 2), ("pcl", "noise", 0),
        ("pcl", "noise", 1)]
    every = {c: train_config("s", fewer, c).seed for c in search}
    assert all(every[c] == train_config("s", dataclasses.replace(fewer, seeds_by_model=()), c).seed for c in search)


def test_line_search_choice_skips_over_pruned_values():
    rec = lambda v, mig, pruned: {"cell": {"model": "m", "dataset": "d", "value": v}, "metrics": {"mig": mig, "over_pruned": pruned}}  # noqa: E731
    records = [rec(1, 0.5, True), rec(1, 0.6, False), rec(2, 0.3, False), rec(2, 0.35, False), rec(4, 0.1, False)]
    choice = choose_values(records)[("m", "d")]
    assert choice["value"] == 2 and not choice["all_over_pruned"]
    assert choice["tried"][1]["over_pruned"] == 1
    only_pruned = choose_values([rec(1, 0.5, True), rec(2, 0.7, True)])[("m", "d")]
    assert only_pruned["value"] == 2 and only_pruned["all_over_pruned"]


def test_suite_records_leave_out_runs_of_a_larger_grid(tmp_path):
    run_suite("s", dataclasses.replace(TINY, seeds=2), tmp_path, tmp_path / "data", say=lambda *_: None)
    records = suite_records("s", TINY, tmp_path)
    assert sorted((r["cell"]["model"], r["cell"]["variant"], r["cell"]["seed_index"]) for r in records) == [
        ("beta_vae", "noise", 0), ("beta_vae", "original", 0), ("pcl", "noise", 0), ("pcl", "original", 0)]


def test_plan_counts_and_reevaluation_without_retraining(tmp_path):
    runs = runs_for("s", TINY, search_cells(TINY))
    assert plan(runs, tmp_path) == {"new": 2}
    (runs[0].directory(tmp_path)).mkdir(parents=True)
    (runs[0].directory(tmp_path) / CHECKPOINT).write_bytes(b"")
    assert plan(runs, tmp_path) == {"new": 1, "partial": 1}
    run = runs[1]
    execute(run, tmp_path, data_root=tmp_path / "data")
    assert status(run, tmp_path) == "done"
    checkpoint = run.directory(tmp_path) / CHECKPOINT
    stamp = checkpoint.stat().st_mtime_ns
    changed = dataclasses.replace(run, metrics=dataclasses.replace(SMALL_METRICS, num_train=400))
    assert status(changed, tmp_path) == "trained"
    record = execute(changed, tmp_path, data_root=tmp_path / "data")
    assert checkpoint.stat().st_mtime_ns == stamp  # evaluated again, not retrained
    assert record["metric_settings"]["num_train"] == 400 and status(changed, tmp_path) == "done"


def test_estimate_uses_finished_runs_times_and_probes_the_rest(tmp_path):
    runs = runs_for("s", TINY, search_cells(TINY))
    done = next(r for r in runs if r.config.model == "beta_vae")
    record = execute(done, tmp_path, data_root=tmp_path / "data")
    measured = measured_seconds(load_records(runs, tmp_path))
    run_time = record["training"]["seconds"] + record["evaluation"]["seconds"]
    key = ("beta_vae", "dsprites_small", TINY.steps)
    assert measured["runs"] == {key: run_time} and measured["evaluation"] == record["evaluation"]["seconds"] > 0
    assert estimate_seconds([key] * 3, measured, tmp_path / "data", jobs=2) == 3 * run_time / 2
    probed = estimate_seconds([("pcl", "dsprites_small", TINY.steps)], measured, tmp_path / "data")
    assert probed > measured["evaluation"]  # probed training time plus the measured evaluation


def test_results_do_not_depend_on_the_number_of_workers(tmp_path):
    one = run_suite("s", TINY, tmp_path / "one", tmp_path / "data", jobs=1, say=lambda *_: None)
    two = run_suite("s", TINY, tmp_path / "two", tmp_path / "data", jobs=2, say=lambda *_: None)
    key = lambda r: r["run_id"]  # noqa: E731
    assert [r["metrics"] for r in sorted(one, key=key)] == [r["metrics"] for r in sorted(two, key=key)]
    assert len(one) == 4  # 2 line-search runs, then 2 on noise
    said = []
    run_suite("s", TINY, tmp_path / "one", tmp_path / "data", jobs=1, dry_run=True, say=said.append)
    assert said == ["s/tiny: 4 runs of 6 steps: line search 2 (2 done), then 2 on noise with the chosen values "
                    "(0 left)", "nothing left to run"]


RUN_SCRIPT = """
import sys
from bench.runner import run_suite
from tests.test_runner import TINY
import dataclasses
profile = dataclasses.replace(TINY, steps=int(sys.argv[3]), seeds=2)
run_suite("s", profile, sys.argv[1], sys.argv[2], jobs=1, say=lambda *_: None)
"""


def test_grid_killed_mid_way_resumes_to_the_same_records(tmp_path):
    def start(results):
        return subprocess.Popen([sys.executable, "-c", RUN_SCRIPT, str(results), str(tmp_path / "data"), "30"],
                                cwd=os.getcwd())
    assert start(tmp_path / "whole").wait() == 0
    victim = start(tmp_path / "resumed")
    deadline = time.time() + 120
    while not list((tmp_path / "resumed").glob("runs/*/" + DONE)):
        assert victim.poll() is None and time.time() < deadline
        time.sleep(0.05)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    assert start(tmp_path / "resumed").wait() == 0
    read = lambda root: {p.parent.name: json.loads(p.read_text())["metrics"] for p in root.glob("runs/*/" + METRICS)}  # noqa: E731
    assert read(tmp_path / "resumed") == read(tmp_path / "whole") and len(read(tmp_path / "whole")) == 8


def test_dask_backend_on_a_real_local_cluster_equals_a_local_run(tmp_path):
    distributed = pytest.importorskip("distributed")
    local = run_suite("s", TINY, tmp_path / "local", tmp_path / "data", jobs=1, say=lambda *_: None)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        remote = run_suite("s", TINY, tmp_path / "dask", tmp_path / "data", say=lambda *_: None, backend="dask",
                           scheduler=cluster.scheduler_address)
    key = lambda r: r["run_id"]  # noqa: E731
    assert [r["metrics"] for r in sorted(remote, key=key)] == [r["metrics"] for r in sorted(local, key=key)]
    assert len(remote) == 4
