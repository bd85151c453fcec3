"""`bench experiment mig-vs-steps` keeps each seed's run, so a curve resumes and later milestones continue it."""

import json

import pandas as pd
import pytest

from bench.errors import UserError
from bench.experiments import mig_vs_steps

ARGS = dict(model="beta_vae", dataset="dsprites_small", seeds=1, metrics=("mig",), settings={"batch_size": 8})


@pytest.fixture
def roots(tmp_path):
    return {"results": tmp_path / "results", "data_root": tmp_path / "data"}


def test_a_curve_continued_to_later_milestones_equals_one_trained_straight(tmp_path, roots):
    straight = mig_vs_steps.run(milestones=(4, 8), out=tmp_path / "straight.csv", **ARGS,
                                results=tmp_path / "other", data_root=roots["data_root"])
    mig_vs_steps.run(milestones=(4,), out=tmp_path / "first.csv", **ARGS, **roots)
    continued = mig_vs_steps.run(milestones=(4, 8), out=tmp_path / "continued.csv", **ARGS, **roots)
    pd.testing.assert_series_equal(straight.mig, continued.mig)
    written = pd.read_csv(tmp_path / "continued.csv")
    assert written.step.tolist() == [4, 8]
    factors = [f"mig_{name}" for name in ("shape", "scale", "orientation", "posX", "posY")]
    assert written[factors].mean(axis=1).tolist() == pytest.approx(written.mig.tolist())
    (directory,) = (roots["results"] / "experiments" / "curves").iterdir()
    rows = [json.loads(line) for line in (directory / mig_vs_steps.MILESTONES).read_text().splitlines()]
    # Step 4 was measured once, and the second call trained only the steps after it.
    assert [(r["step"], r["trained_steps"]) for r in rows] == [(4, 4), (8, 4)]


def test_a_milestone_passed_unmeasured_is_refused(tmp_path, roots):
    mig_vs_steps.run(milestones=(8,), out=tmp_path / "a.csv", **ARGS, **roots)
    with pytest.raises(UserError, match="past milestone 4"):
        mig_vs_steps.run(milestones=(4, 8), out=tmp_path / "b.csv", **ARGS, **roots)


def test_other_settings_make_another_curve(tmp_path, roots):
    mig_vs_steps.run(milestones=(4,), out=tmp_path / "a.csv", **ARGS, **roots)
    mig_vs_steps.run(milestones=(4,), out=tmp_path / "b.csv", **{**ARGS, "settings": {"batch_size": 8, "lr": 1e-3}},
                     **roots)
    assert len(list((roots["results"] / "experiments" / "curves").iterdir())) == 2


def test_a_damaged_milestone_file_is_named_in_one_line(tmp_path, roots):
    mig_vs_steps.run(milestones=(4,), out=tmp_path / "a.csv", **ARGS, **roots)
    (directory,) = (roots["results"] / "experiments" / "curves").iterdir()
    (directory / mig_vs_steps.MILESTONES).write_text('{"step": 4\n')
    with pytest.raises(UserError, match="milestones.jsonl is damaged"):
        mig_vs_steps.run(milestones=(4,), out=tmp_path / "b.csv", **ARGS, **roots)
