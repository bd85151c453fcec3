"""Every command given bad values: a non-zero exit and one line on stderr that says what to do, never a traceback.
Each case fails before any long work (no training beyond a few steps, only the small dSprites grid)."""

import errno
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.__main__ import main

DATA = Path(__file__).parent / "data"
SMALL = ["--dataset", "dsprites_small"]
TRAIN = ["train", "--model", "beta_vae", *SMALL]
SMOKE = ["run", "--profile", "smoke", "--jobs", "1"]


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    """dsprites_small built once, so that no case shows a rendering progress bar on stderr."""
    from bench.variants import get
    root = tmp_path_factory.mktemp("data")
    for variant in ("original", "noise"):
        get("dsprites_small", variant, root)
    return root


@pytest.fixture
def paths(tmp_path):
    """A file, a folder, and a folder nothing can be written in (for root, whom file modes do not stop, a sysfs
    path: the kernel refuses new files there)."""
    (tmp_path / "file").write_text("not a folder")
    (tmp_path / "folder").mkdir()
    read_only = tmp_path / "read-only"
    read_only.mkdir(mode=0o555)
    yield {"file": tmp_path / "file", "folder": tmp_path / "folder",
           "read_only": read_only if not os.access(read_only, os.W_OK) else Path("/sys/bench-read-only")}
    read_only.chmod(0o755)


def one_line_error(argv, capsys, *fragments) -> str:
    code = main([str(word) for word in argv])
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert code != 0 and len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err and all(f in lines[0] for f in fragments), err
    return lines[0]


NUMBERS = [
    ([*TRAIN, "--steps", "0"], "--steps"),
    ([*TRAIN, "--steps", "-5"], "--steps"),
    ([*TRAIN, "--checkpoint-every", "0"], "--checkpoint-every"),
    (["run", "--jobs", "0"], "--jobs"),
    (["run", "--jobs", "-1", "--dry-run"], "--jobs"),
    (["run", "--jobs", "two"], "--jobs"),
    (["check", "--jobs", "0"], "--jobs"),
    (["datasets", "diagnose", *SMALL, "--steps", "0"], "--steps"),
    (["experiment", "mig-vs-steps", *SMALL, "--steps", "a,b"], "--steps"),
    (["experiment", "mig-vs-steps", *SMALL, "--steps", "100,0"], "--steps"),
    (["experiment", "mig-vs-steps", *SMALL, "--jobs", "0"], "--jobs"),
    (["experiment", "mig-vs-steps", *SMALL, "--set", "beta=abc"], "--set beta: 'abc' is not a number"),
    (["experiment", "mig-vs-steps", *SMALL, "--metrics", "mig,nope"], "unknown metric 'nope'"),
    (["experiment", "mig-vs-steps", *SMALL, "--set", "nope=1"], "nope"),
    (["experiment", "targets", *SMALL, "--mixings", "pair:scale"], "mixing 'pair:scale' needs two"),
    (["experiment", "targets", *SMALL, "--mixings", "closest-pair,nope"], "unknown mixing 'nope'"),
    (["experiment", "manipulation-check", *SMALL, "--seeds", "0"], "--seeds"),
    (["experiment", "manipulation-check", *SMALL, "--steps", "-1"], "--steps"),
    (["benchmark", "metrics", "--parts", "nope"], "nope"),
    (["benchmark", "datasets", "--dataset", "nope"], "nope"),
    (["datasets", "show", "--dataset", "nope", "--out", "x.png"], "nope"),
    (["train", "--model", "beta_vae"], "--dataset"),
    (["report", "--records", DATA / "missing.jsonl"], "missing.jsonl"),
]


@pytest.mark.parametrize("argv,fragment", NUMBERS, ids=lambda a: " ".join(map(str, a)) if isinstance(a, list) else "")
def test_bad_values(argv, fragment, capsys):
    one_line_error(argv, capsys, fragment)


PATHS = [
    (["run", "--results", "{file}", *SMOKE[1:]], "--results"),
    (["run", "--results", "{read_only}", *SMOKE[1:]], "--results"),
    ([*TRAIN, "--steps", "2", "--out", "{file}"], "--out"),
    ([*TRAIN, "--steps", "2", "--out", "{read_only}/run"], "--out"),
    (["report", "--records", DATA / "report_records.jsonl", "--out", "{file}"], "--out"),
    (["datasets", "show", *SMALL, "--out", "{read_only}/x.png"], "--out"),
    (["datasets", "show", *SMALL, "--out", "{folder}"], "is a folder"),
    (["datasets", "compare", *SMALL, "--out", "{file}/x.png"], "--out"),
    (["datasets", "diagnose", *SMALL, "--out", "{read_only}/x.json"], "--out"),
    (["experiment", "mig-vs-steps", *SMALL, "--out", "{file}/x.csv"], "--out"),
    (["experiment", "mig-vs-steps", *SMALL, "--results", "{file}", "--out", "{folder}/x.csv"], "--results"),
    (["experiment", "targets", *SMALL, "--out", "{read_only}/x.csv"], "--out"),
    (["experiment", "manipulation-check", *SMALL, "--results", "{file}"], "--results"),
    (["check", "--results", "{read_only}"], "--results"),
    (["datasets", "build", *SMALL, "--data-root", "{file}"], "is a file"),
    ([*TRAIN, "--data-root", "{file}"], "is a file"),
    (["datasets", "info", *SMALL, "--data-root", "{file}"], "is a file"),
    (["datasets", "build", *SMALL, "--data-root", "{read_only}"], "write"),
]


@pytest.mark.parametrize("argv,fragment", PATHS, ids=lambda a: " ".join(map(str, a)) if isinstance(a, list) else "")
def test_bad_paths(argv, fragment, paths, data_root, capsys):
    argv = [str(w).format(**paths) for w in argv]
    one_line_error([*argv, *([] if "--data-root" in argv else ["--data-root", data_root])], capsys, fragment)


def test_an_output_file_in_a_missing_folder_is_written(tmp_path, data_root, capsys):
    out = tmp_path / "new" / "folder" / "samples.png"
    assert main(["datasets", "show", *SMALL, "--out", str(out), "--data-root", str(data_root)]) == 0
    assert out.stat().st_size > 0


@pytest.mark.parametrize("content", [None, "not json", "[1, 2]", '{"tolerance": {}}'])
def test_check_validates_its_baseline_before_running(content, tmp_path, monkeypatch, capsys):
    import bench.check
    monkeypatch.setattr(bench.check, "run_suite", lambda *a, **k: pytest.fail("ran before the baseline was read"))
    baseline = tmp_path / "baseline.json"
    if content is not None:
        baseline.write_text(content)
    one_line_error(["check", "--baseline", baseline], capsys, str(baseline))


@pytest.mark.parametrize("scheduler", ["tcp://host:notaport", "tcp://127.0.0.1:1"])
def test_a_bad_dask_scheduler(scheduler, tmp_path, data_root, capsys):
    dask = pytest.importorskip("dask")
    pytest.importorskip("distributed")
    capsys.readouterr()
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):  # an unreachable one fails in 1 s
        code = main([*SMOKE, "--backend", "dask", "--scheduler", scheduler, "--results", str(tmp_path),
                     "--data-root", str(data_root)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert err.splitlines()[-1].startswith(f"error: cannot use the dask scheduler {scheduler!r}")


def test_a_full_disk_while_writing_a_checkpoint(tmp_path, data_root, monkeypatch, capsys):
    import bench.train

    def full(path, *_, **__):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
    monkeypatch.setattr(bench.train, "atomic_write_bytes", full)
    line = one_line_error([*TRAIN, "--steps", "2", "--checkpoint-every", "1", "--quiet", "--out", tmp_path / "run",
                           "--data-root", data_root], capsys, "checkpoint")
    assert "disk is full" in line and "run the same command again" in line


def test_a_full_disk_while_writing_results(tmp_path, data_root, monkeypatch, capsys):
    import bench.runs

    def full(path, *_, **__):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
    monkeypatch.setattr(bench.runs, "atomic_write_text", full)
    assert main([*SMOKE, "--results", str(tmp_path), "--data-root", str(data_root)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("error:") == 1
    assert err.splitlines()[-1].startswith("error: No space left on device") and "disk is full" in err


def test_json_that_is_not_an_object_is_not_trusted(tmp_path, data_root, capsys):
    from bench.runs import DONE, METRICS, runs_for
    from bench.suites import get_profile, search_cells
    profile = get_profile("inductive-bias", "smoke")
    run = runs_for("inductive-bias", profile, search_cells(profile))[0]
    run.directory(tmp_path).mkdir(parents=True)
    (run.directory(tmp_path) / METRICS).write_text("[1, 2]")
    (run.directory(tmp_path) / DONE).write_text("")
    assert main([*SMOKE, "--dry-run", "--results", str(tmp_path), "--data-root", str(data_root)]) == 0
    assert "(6 new)" in capsys.readouterr().out  # the run counts as not done, so it is evaluated again


def test_the_module_entry_point_prints_one_line(tmp_path):
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bench", *TRAIN, "--steps", "0"], capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert time.perf_counter() - started < 60


def test_a_manifest_that_is_not_an_object_is_rebuilt(tmp_path, capsys):
    from bench.data import DATASETS
    from bench.data.sources import base_store
    manifest = base_store(DATASETS["dsprites_small"], tmp_path).directory / "manifest.json"
    manifest.parent.mkdir(parents=True)
    manifest.write_text("[1, 2]")
    assert main(["datasets", "build", *SMALL, "--data-root", str(tmp_path)]) == 0
    assert isinstance(json.loads(manifest.read_text()), dict)
