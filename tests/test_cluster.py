"""The path a cluster user takes (docs/cluster.md): the data built as a step of its own, a run that refuses to build
it (`--no-prepare`), a dry run that writes nothing, one worker per GPU each on its own GPU, and the runs on a dask
cluster. There is no GPU here: the GPU count is monkeypatched, and the slots are claimed by real processes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from bench.__main__ import build_parser, main
from bench.context import Context, resolve_jobs
from bench.data import DATASETS
from bench.datasets import build_profile
from bench.errors import UserError
from bench.launch import claim_slot, missing_data, require_data
from bench.manipulation import arm_config
from bench.manipulation import acceptance as acceptance_test
from bench.manipulation.acceptance import Acceptance, check_builds
from bench.manipulation.build import REPORT, learned_store
from bench.metrics import MetricSettings
from bench.runner import run_suite
from bench.runs import planned_runs, search_runs
from bench.suites import Profile, get_profile
from bench.variants import get, is_built

TINY = Profile("tiny", datasets=("dsprites_small",), variants=("original", "noise"), models=("beta_vae", "pcl"),
               multipliers=(1.0,), seeds=1, steps=6, batch_size=16,
               metrics=MetricSettings(metrics=("mig", "active_units"), num_train=300, num_test=100))
SMALL = DATASETS["dsprites_small"]


def contents(*roots: Path) -> list[Path]:
    return [p for root in roots for p in sorted(root.rglob("*"))]


def test_jobs_default_to_one_worker_per_gpu_with_cuda_and_one_per_core_on_the_cpu(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 3)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert [resolve_jobs(None, "cuda"), resolve_jobs(None, "auto"), resolve_jobs(2, "cuda")] == [3, 3, 2]
    assert resolve_jobs(None, "cpu") == (os.cpu_count() or 1)
    assert build_parser().parse_args(["run"]).jobs is None
    import bench.runner
    seen = []
    monkeypatch.setattr(bench.runner, "run_suite", lambda suite, profile, context, **kw: seen.append(context) or [])
    assert main(["run", "--profile", "smoke", "--device", "cuda", "--results", str(tmp_path)]) == 0
    assert seen[0].jobs == 3 and seen[0].device == "cuda"


CLAIM_SCRIPT = """
import sys
import torch
torch.cuda.device_count = lambda: 2  # no GPU here
from bench.launch import claim_slot, own_gpu
gpu = own_gpu(sys.argv[1], 3)
print(claim_slot(sys.argv[1], 3), gpu, flush=True)  # the same slot on every call: held for life
sys.stdin.read()  # hold it until the test closes stdin
"""


def test_concurrent_workers_each_claim_a_slot_and_its_gpu(tmp_path):
    """Three workers on two GPUs: each its own slot, and the slots spread round the GPUs (with no more workers
    than GPUs, as by default, each has a GPU of its own)."""
    slots = tmp_path / "slots"
    workers = [subprocess.Popen([sys.executable, "-c", CLAIM_SCRIPT, str(slots)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True) for _ in range(3)]
    try:
        claimed = sorted(tuple(map(int, w.stdout.readline().split())) for w in workers)
    finally:
        for w in workers:
            w.communicate("")
    assert claimed == [(0, 0), (1, 1), (2, 0)]
    assert claim_slot(slots, 3) == 0  # free again once its holder is gone, however it ended


def test_a_dry_run_writes_nothing_and_builds_no_data(tmp_path, monkeypatch, capsys):
    results, data, ledger, here = tmp_path / "results", tmp_path / "data", tmp_path / "records.jsonl", tmp_path / "cwd"
    for folder in (results, data, here):
        folder.mkdir()
    monkeypatch.chdir(here)
    smoke = get_profile("inductive-bias", "smoke")
    run = search_runs("inductive-bias", smoke)[0]
    ledger.write_text(json.dumps({**run.describe(), "metric_settings": smoke.metrics.to_dict(), "metrics": {"mig": 0.3},
                                  "training": {"seconds": 2.0}, "evaluation": {"seconds": 1.0}}) + "\n")
    before = ledger.read_text()
    assert main(["run", "--profile", "smoke", "--results", str(results), "--data-root", str(data), "--ledger",
                 str(ledger), "--jobs", "1", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "inductive-bias/smoke: 10 runs of 40 steps: line search 6 (1 done, 5 new)" in out  # the ledger counts
    assert "estimated time left with 1 worker(s) on cpu" in out
    assert "data not built yet: dsprites_small/original, dsprites_small/noise" in out
    assert contents(results, data, here) == [] and ledger.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cwd", "data", "records.jsonl", "results"]


def test_no_prepare_refuses_in_one_line_naming_the_missing_data_and_the_command(tmp_path, capsys):
    data, results = tmp_path / "data", tmp_path / "results"
    data.mkdir()
    assert main(["run", "--profile", "smoke", "--results", str(results), "--data-root", str(data), "--jobs", "1",
                 "--no-prepare"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not built yet: dsprites_small/original, dsprites_small/noise" in err
    assert f"python -m bench datasets build --suite inductive-bias --profile smoke --data-root {data}" in err
    assert contents(data) == [] and not results.exists()  # refused before anything was built or written
    # The same before a cluster is even reached.
    context = Context(results, data, backend="dask", scheduler="tcp://127.0.0.1:9")
    with pytest.raises(UserError, match="not built yet: dsprites_small/original"):
        run_suite("s", TINY, context, prepare=False, say=lambda *_: None)


def test_is_built_looks_without_building(tmp_path):
    context = Context(data_root=tmp_path)
    assert not is_built("dsprites_small", "noise", tmp_path) and not is_built("dsprites_small", "modified", tmp_path)
    assert missing_data(TINY, context) == ["dsprites_small/original", "dsprites_small/noise"]
    assert contents(tmp_path) == []
    get("dsprites_small", "original", tmp_path)
    built = contents(tmp_path)
    assert is_built("dsprites_small", "original", tmp_path) and is_built("dsprites_small", "noise", tmp_path)
    assert not is_built("dsprites_small", "modified@2", tmp_path)  # its game was never played
    assert missing_data(TINY, context) == [] and contents(tmp_path) == built


def test_a_learned_build_is_ready_once_built_and_judged(tmp_path, monkeypatch):
    profile = Profile("built", datasets=("dsprites_small",), variants=("original", "modified"), models=("pcl",),
                      multipliers=(1.0,), seeds=1, steps=6, fixed_values=(("pcl", None),), builds=1)
    context = Context(data_root=tmp_path)
    base = get("dsprites_small", "original", tmp_path)
    store = learned_store(SMALL, tmp_path, arm_config(SMALL, "modified", 1))
    store.write([np.zeros(store.shape, np.uint8)])  # a stand-in for the game's images
    assert missing_data(profile, context) == ["dsprites_small/modified@1"]  # built, but never judged
    report = {"violations": [], "acceptance": {"settings": Acceptance().to_dict(), "gap": [-0.1], "passed": True}}
    (store.directory / REPORT).write_text(json.dumps(report))
    assert missing_data(profile, context) == []
    assert require_data("s", profile, context) == {"dsprites_small": {"modified@1": report["acceptance"]}}
    monkeypatch.setattr(acceptance_test, "reference_gaps", lambda *a: pytest.fail("a stored result is measured again"))
    assert check_builds(base, tmp_path, [("original", None), ("modified", 1)]) == {"modified@1": report["acceptance"]}
    report["acceptance"]["passed"] = False
    (store.directory / REPORT).write_text(json.dumps(report))
    with pytest.raises(UserError, match="modified@1 failed the acceptance test"):
        require_data("s", profile, context)


def test_the_cluster_path_on_a_local_dask_cluster(tmp_path):
    """Data built as its own step, then the runs on a real cluster of two worker processes, which build nothing."""
    distributed = pytest.importorskip("distributed")
    data, results, ledger = tmp_path / "data", tmp_path / "results", tmp_path / "records.jsonl"
    said = []
    build_profile("s", TINY, data, jobs=1, say=said.append)
    assert said[0].startswith("s/tiny: 2 dataset variants ready in") and missing_data(TINY, Context(data_root=data)) == []
    built = contents(data)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        context = Context(results, data, backend="dask", scheduler=cluster.scheduler_address)
        records = run_suite("s", TINY, context, prepare=False, ledger=ledger, say=said.append)
    assert "4 runs of 6 steps: line search 2 (2 new)" in said[1] and "left for the cluster's workers" in said[2]
    assert sorted(r["run_id"] for r in records) == sorted(r.id for r in planned_runs("s", TINY, results))
    assert len(records) == 4 and all(np.isfinite(r["metrics"]["mig"]) for r in records)
    assert len(ledger.read_text().splitlines()) == 4
    assert contents(data) == built  # the runs built nothing


def test_the_gpu_slots_folder_is_removed_when_the_runs_end(monkeypatch):
    from bench import launch
    from bench.context import Context
    folders = []

    def workers(task, calls, jobs):
        slots = task.args[1]  # partial(_on_own_gpu, task, slots, count)
        folders.append(slots)
        assert slots.is_dir()
        yield from calls

    monkeypatch.setattr(launch, "one_gpu_each", lambda device: True)
    monkeypatch.setattr(launch, "_in_workers", workers)
    assert len(list(launch._local(lambda *a: None, ["a", "b"], Context("results", jobs=2, device="cuda")))) == 2
    assert folders and not folders[0].exists()
