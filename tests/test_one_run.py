"""Commands on one trained run: `bench evaluate`, `bench traverse`, and their one-line errors."""

import json

import pytest

from bench.__main__ import main
from bench.train import TrainConfig, Trainer, batches, fit
from bench.variants import get
from conftest import trained_run


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A finished 10-step beta-VAE run on dsprites_small and its data root."""
    return trained_run(tmp_path_factory, "beta_vae")


def test_evaluate_stores_chosen_metrics_beside_the_record(trained, capsys):
    run, data_root = trained
    assert main(["evaluate", str(run), "--metrics", "mig,factor_vae_score", "--data-root", str(data_root)]) == 0
    out = capsys.readouterr().out
    assert "mig:" in out and "factor_vae_eval:" in out
    [stored] = run.glob("evaluation-*.json")
    evaluation = json.loads(stored.read_text())
    assert evaluation["metric_settings"]["metrics"] == ["mig", "factor_vae_score"]
    assert 0 <= evaluation["metrics"]["mig"] <= 1 and "factor_vae_eval" in evaluation["metrics"]
    assert not (run / "metrics.json").exists() and not (run / "DONE").exists()


def test_traverse_draws_the_runs_traversals(trained, tmp_path):
    run, data_root = trained
    assert main(["traverse", str(run), "--out", str(tmp_path / "t.png"), "--data-root", str(data_root)]) == 0
    assert (tmp_path / "t.png").stat().st_size > 0


def test_unknown_metric_is_a_one_line_error(trained, capsys):
    run, data_root = trained
    assert main(["evaluate", str(run), "--metrics", "mig,nope", "--data-root", str(data_root)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown metric 'nope'" in err and "factor_vae_score" in err


def test_missing_run_is_a_one_line_error(tmp_path, capsys):
    assert main(["traverse", str(tmp_path / "nowhere"), "--out", str(tmp_path / "t.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "holds no trained run" in err


def test_unfinished_run_is_a_one_line_error(trained, tmp_path, capsys):
    _, data_root = trained
    config = TrainConfig("beta_vae", "dsprites_small", steps=10, batch_size=8)
    data = get("dsprites_small", "original", data_root)
    trainer = Trainer.on(config, data, "cpu")
    fit(trainer, batches(trainer, data, "cpu"), tmp_path / "run", until=4)
    assert main(["evaluate", str(tmp_path / "run"), "--data-root", str(data_root)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unfinished (step 4 of 10)" in err
