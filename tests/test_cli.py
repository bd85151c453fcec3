import subprocess
import sys

import pytest

from bench.__main__ import build_parser, main

COMMANDS = [[], ["datasets"], ["datasets", "build"], ["datasets", "info"], ["datasets", "show"], ["datasets", "compare"], ["datasets", "diagnose"],
            ["benchmark"], ["benchmark", "datasets"], ["benchmark", "train"], ["benchmark", "metrics"], ["train"], ["evaluate"], ["traverse"], ["curves"],
            ["run"], ["report"], ["check"],
            ["experiment"], ["experiment", "mig-vs-steps"],
            ["experiment", "manipulation-check"]]


@pytest.mark.parametrize("words", COMMANDS, ids=lambda w: " ".join(w) or "top")
def test_every_command_has_help(words, capsys):
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args([*words, "--help"])
    assert done.value.code == 0
    assert "usage:" in capsys.readouterr().out


@pytest.mark.parametrize("argv,valid", [
    (["datasets", "show", "--dataset", "mnist", "--out", "x.png"], "dsprites, dsprites_"),
    (["datasets", "build", "--dataset", "dsprites", "--variant", "blurred"], "modified, noise, original"),
    (["datasets", "info", "--dataset", "nope"], "dsprites, dsprites_"),
    (["train", "--model", "vae", "--dataset", "dsprites"], "beta_tcvae, beta_vae"),
    (["benchmark", "train", "--model", "vae"], "ae, beta_tcvae"),
])
def test_unknown_names_are_one_line_errors_with_exit_2(argv, valid, capsys, tmp_path):
    assert main([*argv, "--data-root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and valid in err


def test_module_entry_point_answers_help():
    out = subprocess.run([sys.executable, "-m", "bench", "--help"], capture_output=True, text=True, check=True)
    assert "datasets" in out.stdout and "train" in out.stdout


def test_info_reports_source_and_cache(capsys, tmp_path):
    assert main(["datasets", "info", "--dataset", "dsprites", "--data-root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "rendered by bench" in out and "not built yet" in out and "posY (32)" in out


def test_datasets_build_for_a_profile_checks_its_names_and_options(capsys, tmp_path):
    assert main(["datasets", "build", "--profile", "nope", "--data-root", str(tmp_path)]) == 2
    assert "unknown profile 'nope'" in capsys.readouterr().err
    assert main(["datasets", "build", "--profile", "smoke", "--dataset", "dsprites", "--data-root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not allowed with argument" in err
    assert list(tmp_path.iterdir()) == []


def test_datasets_build_for_a_profile_builds_what_its_runs_need(capsys, tmp_path):
    assert main(["datasets", "build", "--suite", "inductive-bias", "--profile", "smoke", "--jobs", "1",
                 "--data-root", str(tmp_path)]) == 0
    assert "inductive-bias/smoke: 2 dataset variants ready in" in capsys.readouterr().out
    assert main(["run", "--profile", "smoke", "--data-root", str(tmp_path), "--results", str(tmp_path / "r"),
                 "--jobs", "1", "--no-prepare", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "inductive-bias/smoke: 10 runs of 40 steps" in out and "not built" not in out
