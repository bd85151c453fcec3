import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import torch
from filelock import FileLock

from bench.context import Context
from bench.launch import execute
from bench.metrics import MetricSettings
from bench.plan import estimate_seconds, measured_seconds, plan
from bench.report import build_report
from bench.report.build import median_models
from bench.runner import run_suite
from bench.runtime import machine
from bench.runs import (DONE, LOCK, METRICS, TRAINED, failed_runs, load_records, planned_runs, run_id, runs_for,
                        status, suite_records)
from bench.suites import (Profile, choose_values, fixed, get_profile, product, search_cells, sweep, train_config,
                          variant_cells)
from bench.train import CHECKPOINT, PREVIOUS_CHECKPOINT, TrainConfig
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
    code = ("from bench.runs import run_id; from bench.train import TrainConfig; "
            "from bench.models.beta_vae import Config; "
            "print(run_id(TrainConfig('beta_vae', 'dsprites', 'original', Config(8.0), 3, 100)))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == run_id(config)
    changes = [dict(model_config=BetaConfig(8.5)), dict(seed=4), dict(steps=101), dict(variant="noise"),
               dict(dataset="shapes3d"), dict(lr=2e-4), dict(batch_size=32), dict(latent_dim=7)]
    ids = {run_id(dataclasses.replace(config, **c)) for c in changes}
    assert len(ids) == len(changes) and run_id(config) not in ids


@pytest.mark.parametrize("profile,name,variant,run,seed", [
    ("smoke", "beta_vae/dsprites_small/original/value=4.0/seed=0", "original", "6196797739fae503",
     2238880529517414186),
    ("smoke", "pcl/dsprites_small/original/value=None/seed=0", "original", "7c68eabca4d50c29", 6055457191794980999),
    # Seed 4 trained on modified@2 until that build failed its acceptance test; its replacement, game seed 4,
    # names the run (docs/preregistration-deviations.md). Its seed did not move.
    ("confirm", "beta_vae/dsprites_halfy/modified/value=8.0/seed=4", "modified@4", "a9a88946991ab670",
     6820940773851875152),
    ("confirm", "beta_vae/dsprites_halfy/modified/value=8.0/seed=5", "modified@3", "3ad481d7e21e89f7",
     9171269425461481737),
    ("confirm", "pcl/dsprites_halfy/sham/value=None/seed=9", "sham@1", "dca0abc592dd7deb", 7201118950370905015),
])
def test_run_ids_and_seeds_are_pinned(profile, name, variant, run, seed):
    """Committed records and a running experiment name their runs by these ids: a refactoring must not move them
    (a deliberate change of results bumps SCHEMA_VERSION and says so)."""
    plan = get_profile("inductive-bias", profile)
    [found] = [r for r in planned_runs("inductive-bias", plan, "/nonexistent") if r.name == name]
    assert (found.config.variant, found.id, found.config.seed) == (variant, run, seed)


def test_a_modified_run_changes_identity_with_the_manipulation(monkeypatch):
    from bench import variants
    from bench.manipulation import ManipulationConfig, identity
    config = TrainConfig("beta_vae", "dsprites", "modified", BetaConfig(8.0), seed=3, steps=100)
    before, original = run_id(config), run_id(dataclasses.replace(config, variant="original"))
    monkeypatch.setitem(variants.IDENTITIES, "modified", lambda spec, build: identity(ManipulationConfig(seed=1)))
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
    run_suite("s", dataclasses.replace(TINY, seeds=2), Context(tmp_path, tmp_path / "data"), say=lambda *_: None)
    records = suite_records("s", TINY, tmp_path)
    assert sorted((r["cell"]["model"], r["cell"]["variant"], r["cell"]["seed_index"]) for r in records) == [
        ("beta_vae", "noise", 0), ("beta_vae", "original", 0), ("pcl", "noise", 0), ("pcl", "original", 0)]


def test_plan_counts_and_reevaluation_without_retraining(tmp_path):
    runs = runs_for("s", TINY, search_cells(TINY))
    assert plan(runs, tmp_path) == {"new": 2}
    (runs[0].directory(tmp_path)).mkdir(parents=True)
    (runs[0].directory(tmp_path) / CHECKPOINT).write_bytes(b"")
    assert plan(runs, tmp_path) == {"new": 1, "partial": 1}
    (runs[0].directory(tmp_path) / CHECKPOINT).rename(runs[0].directory(tmp_path) / PREVIOUS_CHECKPOINT)
    assert plan(runs, tmp_path) == {"new": 1, "partial": 1}  # a damaged newest one was set aside
    run = runs[1]
    execute(run, Context(tmp_path, tmp_path / "data"))
    assert status(run, tmp_path) == "done"
    checkpoint = run.directory(tmp_path) / CHECKPOINT
    stamp = checkpoint.stat().st_mtime_ns
    changed = dataclasses.replace(run, metrics=dataclasses.replace(SMALL_METRICS, num_train=400))
    assert status(changed, tmp_path) == "trained"
    record = execute(changed, Context(tmp_path, tmp_path / "data"))
    assert checkpoint.stat().st_mtime_ns == stamp  # evaluated again, not retrained
    assert record["metric_settings"]["num_train"] == 400 and status(changed, tmp_path) == "done"


def test_estimate_uses_finished_runs_times_and_probes_the_rest(tmp_path):
    runs = runs_for("s", TINY, search_cells(TINY))
    done = next(r for r in runs if r.config.model == "beta_vae")
    record = execute(done, Context(tmp_path, tmp_path / "data"))
    measured = measured_seconds(load_records(runs, tmp_path))
    run_time = record["training"]["seconds"] + record["evaluation"]["seconds"]
    assert record["training"]["machine"].endswith(f"({torch.backends.cpu.get_cpu_capability()})")  # CPU and its ISA
    key = ("beta_vae", "dsprites_small", TINY.steps)
    assert measured["runs"] == {key: run_time} and measured["evaluation"] == record["evaluation"]["seconds"] > 0
    assert estimate_seconds([key] * 3, measured, Context(data_root=tmp_path / "data", jobs=2)) == 3 * run_time / 2
    probed = estimate_seconds([("pcl", "dsprites_small", TINY.steps)], measured, Context(data_root=tmp_path / "data"))
    assert probed > measured["evaluation"]  # probed training time plus the measured evaluation


def test_results_do_not_depend_on_the_number_of_workers(tmp_path):
    one = run_suite("s", TINY, Context(tmp_path / "one", tmp_path / "data", jobs=1), say=lambda *_: None)
    two = run_suite("s", TINY, Context(tmp_path / "two", tmp_path / "data", jobs=2), say=lambda *_: None)
    key = lambda r: r["run_id"]  # noqa: E731
    assert [r["metrics"] for r in sorted(one, key=key)] == [r["metrics"] for r in sorted(two, key=key)]
    assert len(one) == 4  # 2 line-search runs, then 2 on noise
    said = []
    run_suite("s", TINY, Context(tmp_path / "one", tmp_path / "data"), dry_run=True, say=said.append)
    assert said == ["s/tiny: 4 runs of 6 steps: line search 2 (2 done), then 2 on noise with the chosen values "
                    "(0 left)", "nothing left to run"]


RUN_SCRIPT = """
import sys
from bench.context import Context
from bench.runner import run_suite
from tests.test_runner import TINY
import dataclasses
profile = dataclasses.replace(TINY, steps=int(sys.argv[3]))
run_suite("s", profile, Context(sys.argv[1], sys.argv[2], checkpoint_every=int(sys.argv[4])), say=lambda *_: None)
"""


def test_grid_killed_inside_a_run_resumes_to_the_same_records(tmp_path):
    steps, every = 40, 10

    def start(results):
        return subprocess.Popen([sys.executable, "-c", RUN_SCRIPT, str(results), str(tmp_path / "data"), str(steps),
                                 str(every)], cwd=os.getcwd())
    run_suite("s", dataclasses.replace(TINY, steps=steps), Context(tmp_path / "whole", tmp_path / "data"),
              say=lambda *_: None)
    victim, runs = start(tmp_path / "resumed"), tmp_path / "resumed" / "runs"
    inside = lambda: [d for d in runs.glob("*") if (d / CHECKPOINT).exists() and not (d / TRAINED).exists()]  # noqa
    deadline = time.time() + 120
    # Killed once a run is done and the next has checkpointed part of the way, so the rerun resumes inside it.
    while not (list(runs.glob("*/" + DONE)) and inside()):
        assert victim.poll() is None and time.time() < deadline
        time.sleep(0.01)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    [partial] = inside()
    assert 0 < torch.load(partial / CHECKPOINT, weights_only=True)["step"] < steps
    assert start(tmp_path / "resumed").wait() == 0
    read = lambda root: {p.parent.name: json.loads(p.read_text())["metrics"] for p in root.glob("runs/*/" + METRICS)}  # noqa: E731
    assert read(tmp_path / "resumed") == read(tmp_path / "whole") and len(read(tmp_path / "whole")) == 4


WORKERS_SCRIPT = """
import sys
import dataclasses
from bench.context import Context
from bench.launch import execute_all
from bench.runs import runs_for
from bench.suites import search_cells
from tests.test_runner import TINY
profile = dataclasses.replace(TINY, steps=100_000)
execute_all(runs_for("s", profile, search_cells(profile)), Context(sys.argv[1], sys.argv[2], jobs=2, checkpoint_every=5))
"""


def test_workers_stop_when_their_runner_is_killed(tmp_path):
    psutil = pytest.importorskip("psutil")
    runner = subprocess.Popen([sys.executable, "-c", WORKERS_SCRIPT, str(tmp_path), str(tmp_path / "data")],
                              cwd=os.getcwd())
    deadline = time.time() + 120
    while len(list(tmp_path.glob("runs/*/" + CHECKPOINT))) < 2:  # both workers are training
        assert runner.poll() is None and time.time() < deadline
        time.sleep(0.05)
    workers = psutil.Process(runner.pid).children(recursive=True)
    os.kill(runner.pid, signal.SIGKILL)
    runner.wait()
    try:
        assert workers and psutil.wait_procs(workers, timeout=5)[1] == []  # none left alive
    finally:
        for worker in workers:
            if worker.is_running():
                worker.kill()
    for lock in tmp_path.glob("runs/*/" + LOCK):  # and no run is held: a rerun trains them at once
        FileLock(lock).acquire(timeout=0).lock.release()


HOLD_SCRIPT = """
import sys, time
from filelock import FileLock
lock = FileLock(sys.argv[1])
lock.acquire()
print("held", flush=True)
time.sleep(60)
"""


def test_a_run_held_by_another_process_waits_for_it(tmp_path, capsys):
    run = runs_for("s", TINY, search_cells(TINY))[1]
    d = run.directory(tmp_path)
    d.mkdir(parents=True)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_SCRIPT, str(d / LOCK)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "held\n"
    waiting = threading.Thread(target=execute, args=(run, Context(tmp_path, tmp_path / "data")))
    waiting.start()
    waiting.join(1.5)
    assert waiting.is_alive() and not (d / CHECKPOINT).exists()  # waits, and does not train beside the holder
    holder.kill()  # the kernel drops a killed holder's lock
    holder.wait()
    waiting.join(60)
    assert status(run, tmp_path) == "done"
    assert f"{run.name}: another process is executing this run; waiting for it" in capsys.readouterr().out


def test_a_diverging_run_is_recorded_failed_and_the_grid_goes_on(tmp_path, monkeypatch):
    from bench import train
    real_fit, trained = train.fit, []

    def nan_batches_for_pcl(trainer, draw, *args, **kwargs):
        trained.append(trainer.config.model)
        poisoned = (lambda: draw() * float("nan")) if trainer.config.model == "pcl" else draw  # noqa: E731
        return real_fit(trainer, poisoned, *args, **kwargs)
    monkeypatch.setattr(train, "fit", nan_batches_for_pcl)
    records = run_suite("s", TINY, Context(tmp_path, tmp_path / "data"), say=lambda *_: None)
    assert sorted((r["cell"]["model"], r["cell"]["variant"]) for r in records) == [("beta_vae", "noise"),
                                                                                     ("beta_vae", "original")]
    [failed] = failed_runs("s", TINY, tmp_path)
    assert failed["cell"]["model"] == "pcl" and (failed["failed"]["step"], failed["failed"]["term"]) == (1, "logistic")
    assert json.loads((tmp_path / "runs" / failed["run_id"] / "FAILED").read_text()) == failed["failed"]
    said, trained[:] = [], []
    run_suite("s", TINY, Context(tmp_path, tmp_path / "data"), say=said.append)
    assert trained == [] and "line search 2 (1 done, 1 failed)" in said[0]  # not retried silently
    assert said[1] == "nothing left to run"  # a failed run is no work left unless it is retried
    index = build_report(records, tmp_path / "report", failed=failed_runs("s", TINY, tmp_path)).read_text()
    assert "## Failed runs" in index and "pcl/dsprites_small/original/value=None/seed=0" in index
    monkeypatch.setattr(train, "fit", real_fit)
    assert len(run_suite("s", TINY, Context(tmp_path, tmp_path / "data"), say=lambda *_: None, retry_failed=True)) == 4
    assert failed_runs("s", TINY, tmp_path) == []


def test_the_report_loads_checkpoints_and_never_trains(tmp_path):
    run = next(r for r in runs_for("s", TINY, search_cells(TINY)) if r.config.model == "beta_vae")
    record = execute(run, Context(tmp_path, tmp_path / "data"))
    checkpoint = run.directory(tmp_path) / CHECKPOINT
    stamp = checkpoint.stat().st_mtime_ns
    [(model, _)] = median_models([record], tmp_path, tmp_path / "data").values()
    saved = torch.load(checkpoint, weights_only=True)["model"]
    assert all(torch.equal(value, saved[key]) for key, value in model.state_dict().items())
    checkpoint.write_bytes(checkpoint.read_bytes()[:-100])  # read through the digest check: damage is named
    said = []
    assert median_models([record], tmp_path, tmp_path / "data", say=said.append) == {}
    assert said == [f"no traversal for dsprites_small-beta_vae-original: {checkpoint} cannot be read (RuntimeError)"]
    checkpoint.unlink()
    said = []
    assert median_models([record], tmp_path, tmp_path / "data", say=said.append) == {}
    assert not checkpoint.exists() and checkpoint.parent.stat().st_mtime_ns >= stamp
    assert said == [f"no traversal for dsprites_small-beta_vae-original: {run.name}: its checkpoint {checkpoint} "
                    "is missing"]


def test_a_metrics_file_that_is_not_an_object_is_evaluated_again(tmp_path):
    run = runs_for("s", TINY, search_cells(TINY))[1]
    execute(run, Context(tmp_path, tmp_path / "data"))
    (run.directory(tmp_path) / METRICS).write_text("[1, 2]")
    assert status(run, tmp_path) == "trained" and load_records([run], tmp_path) == []


def test_dask_backend_on_a_real_local_cluster_equals_a_local_run(tmp_path):
    distributed = pytest.importorskip("distributed")
    local = run_suite("s", TINY, Context(tmp_path / "local", tmp_path / "data"), say=lambda *_: None)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        context = Context(tmp_path / "dask", tmp_path / "data", backend="dask", scheduler=cluster.scheduler_address)
        remote = run_suite("s", TINY, context, say=lambda *_: None)
    key = lambda r: r["run_id"]  # noqa: E731
    assert [r["metrics"] for r in sorted(remote, key=key)] == [r["metrics"] for r in sorted(local, key=key)]
    assert len(remote) == 4


def test_a_datasets_manipulation_settings_enter_the_ids_of_its_learned_variants_only(monkeypatch):
    from bench.data import DATASETS
    config = TrainConfig("beta_vae", "dsprites_halfy", variant="modified", seed=1, steps=10)
    before = {v: run_id(dataclasses.replace(config, variant=v)) for v in ("original", "noise", "modified", "sham@1")}
    monkeypatch.setitem(DATASETS, "dsprites_halfy",
                        dataclasses.replace(DATASETS["dsprites_halfy"], manipulation=(("reference_steps", 5),)))
    after = {v: run_id(dataclasses.replace(config, variant=v)) for v in before}
    assert [v for v in before if before[v] != after[v]] == ["modified", "sham@1"]


def test_the_machine_is_named_by_gpu_or_by_cpu_and_kernel_level(monkeypatch):
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "NVIDIA H100")
    assert machine("cuda") == machine(torch.device("cuda", 0)) == "NVIDIA H100"
    monkeypatch.setattr("builtins.open", lambda *a, **k: (_ for _ in ()).throw(OSError("no /proc")))
    assert machine("cpu").endswith(f"({torch.backends.cpu.get_cpu_capability()})")
