"""`--set key=value` and profiles from files: typed, validated, and part of each run's identity."""

import json

import pytest

from bench.errors import UserError
from bench.overrides import override_profile, override_train, parse, profile_from_file, resolve_profile
from bench.runs import run_id, search_runs
from bench.suites import get_profile
from bench.train import TrainConfig

GRID = """
datasets = ["dsprites_small"]
variants = ["original", "noise"]
models = ["beta_vae", "pcl"]
multipliers = [1.0]
seeds = 2
steps = 40
batch_size = 32
metrics = {metrics = ["mig", "sap"], num_train = 1000, num_test = 500}
model_settings = {beta_vae = {beta = 4}}
"""


def test_train_settings_are_typed_and_change_the_run_identity():
    base = TrainConfig("beta_vae", "dsprites_small", seed=0, steps=100)
    changed = override_train(base, parse(["beta=3", "lr=1e-3", "steps=50", "batch_size=16"]))
    assert (changed.model_config.beta, changed.lr, changed.steps, changed.batch_size) == (3.0, 1e-3, 50, 16)
    assert isinstance(changed.steps, int) and run_id(changed) != run_id(base)
    assert override_train(base, {}) == base


@pytest.mark.parametrize("texts, says", [
    (["beta"], "write KEY=VALUE"),
    (["steps=1", "steps=2"], "given twice"),
    (["gamma=3"], "not a setting of beta_vae; choose one of: seed, steps"),
    (["steps=2.5"], "not a whole number"),
    (["steps=0"], "above zero"),
    (["lr=inf"], "not a finite number"),
    (["beta=high"], "not a number"),
])
def test_a_bad_train_setting_is_one_line(texts, says):
    with pytest.raises(UserError, match=says) as e:
        override_train(TrainConfig("beta_vae", "dsprites_small"), parse(texts))
    assert "\n" not in str(e.value)


def test_profile_settings_rename_the_profile_and_reach_every_run():
    quick = get_profile("inductive-bias", "quick")
    changed = override_profile(quick, parse(["steps=200", "seeds=2", "beta_vae.beta=4", "metrics=mig"]))
    assert changed.name == "quick+steps=200+seeds=2+beta_vae.beta=4+metrics=mig"
    assert changed.seeds_of("factor_vae") == 2 and changed.metrics.metrics == ("mig",)
    runs = [r for r in search_runs("inductive-bias", changed) if r.cell.model == "beta_vae"]
    # The line search scales the regulariser around the user's value, as it does around the paper's.
    assert sorted({r.cell.value for r in runs}) == [2.0, 4.0, 8.0]
    assert {r.config.steps for r in runs} == {200}
    before = {r.id for r in search_runs("inductive-bias", quick)}
    assert not before & {r.id for r in search_runs("inductive-bias", changed)}


def test_overriding_a_confirmatory_profile_makes_it_exploratory():
    confirm = get_profile("inductive-bias", "confirm")
    changed = override_profile(confirm, parse(["beta_vae.beta=4"]))
    assert confirm.hypotheses is not None and changed.hypotheses is None
    # The failed build stays replaced: that is a fact about the data, not part of the plan.
    assert changed.replaced_builds == confirm.replaced_builds
    assert "modified@2" not in changed.data_variants() and dict(changed.fixed_values)["beta_vae"] == 4.0


@pytest.mark.parametrize("texts, says", [
    (["nope=1"], "not a profile setting"),
    (["nope.beta=1"], "unknown model 'nope'"),
    (["beta_vae.gamma=1"], "beta_vae has no setting 'gamma'"),
    (["metrics=mig,nope"], "unknown metric"),
    (["metrics.version=9"], "has no setting 'version'"),
    (["multipliers=1,-2"], "above zero"),
    (["metrics=sap"], "chooses each model's value by MIG"),
])
def test_a_bad_profile_setting_is_one_line(texts, says):
    with pytest.raises(UserError, match=says):
        override_profile(get_profile("inductive-bias", "smoke"), parse(texts))


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_a_profile_file_gives_a_users_grid(tmp_path, suffix):
    import tomllib
    path = tmp_path / f"grid{suffix}"
    path.write_text(GRID if suffix == ".toml" else json.dumps(tomllib.loads(GRID)))
    profile = resolve_profile("inductive-bias", str(path), parse(["steps=20"]))
    assert profile.name == "grid+steps=20" and profile.models == ("beta_vae", "pcl") and profile.steps == 20
    assert profile.metrics.metrics == ("mig", "sap") and profile.metrics.num_train == 1000
    beta = [r.config.model_config.beta for r in search_runs("inductive-bias", profile) if r.cell.model == "beta_vae"]
    assert beta == [4.0, 4.0]


@pytest.mark.parametrize("text, says", [
    ("seeds = 2", "missing datasets"),
    (GRID + "hypotheses = 1\n", "hypotheses cannot be set in a profile file"),
    (GRID + "colour = 1\n", "colour cannot be set"),
    (GRID.replace("seeds = 2", "seeds = 'two'"), "seeds: 'two' is not a whole number"),
    (GRID.replace("batch_size = 32", "batch_size = [32]"), "is not a whole number"),
    ("datasets = [", "is not valid TOML"),
    (GRID.replace("beta = 4", "bta = 4"), "no setting 'bta'"),
])
def test_a_bad_profile_file_is_one_line_naming_it(tmp_path, text, says):
    path = tmp_path / "grid.toml"
    path.write_text(text)
    with pytest.raises(UserError, match=says) as e:
        profile_from_file(path)
    assert str(path) in str(e.value) and "\n" not in str(e.value)


def test_a_confirmatory_grid_needs_a_fixed_value_for_every_model():
    with pytest.raises(UserError, match="info_wgan_gp has no value fixed in advance"):
        override_profile(get_profile("inductive-bias", "confirm"), parse(["models=beta_vae,info_wgan_gp"]))


def test_a_swept_value_is_changed_in_a_file_not_by_a_setting(tmp_path):
    with pytest.raises(UserError, match="factor_vae's gamma is swept by this profile"):
        override_profile(get_profile("factor-vae", "smoke"), parse(["factor_vae.gamma=3"]))
    (path := tmp_path / "sweep.toml").write_text(GRID + "sweeps = {beta_vae = [1, 3]}\n")
    assert [r.cell.value for r in search_runs("inductive-bias", profile_from_file(path))
            if r.cell.model == "beta_vae" and r.cell.seed_index == 0] == [1.0, 3.0]


def test_a_missing_profile_file_is_one_line(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        resolve_profile("inductive-bias", str(tmp_path / "none.toml"))


def test_train_takes_settings_on_the_command_line(tmp_path, capsys):
    from bench.__main__ import main
    from bench.train import read_checkpoint
    argv = ["train", "--model", "beta_vae", "--dataset", "dsprites_small", "--steps", "2", "--quiet",
            "--data-root", str(tmp_path / "data")]
    assert main([*argv, "--set", "bta=2"]) == 2
    assert "--set bta: not a setting of beta_vae" in capsys.readouterr().err
    assert not (tmp_path / "data").exists()  # refused before any data was built
    out = tmp_path / "run"
    assert main([*argv, "--set", "beta=2", "--set", "batch_size=8", "--out", str(out)]) == 0
    config = json.loads(read_checkpoint(out / "checkpoint.pt", "cpu")["config"])
    assert config["model_config"] == {"beta": 2.0} and config["batch_size"] == 8
