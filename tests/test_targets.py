"""`bench experiment targets`: the original-data gap of candidate targets, per reference seed."""

import pandas as pd
import pytest

from bench.errors import UserError
from bench.experiments import targets


def test_clearly_positive_needs_every_seed_positive_and_the_mean_beyond_twice_the_spread():
    assert targets.clearly_positive([4.0, 5.0, 6.0])
    assert not targets.clearly_positive([0.5, 5.0, 9.5])  # mean 5, sd 4.5
    assert not targets.clearly_positive([-0.1, 5.0, 5.2])
    assert not targets.clearly_positive([5.0])  # no spread to judge it by


def test_each_mixing_gets_a_gap_per_reference_seed(tmp_path):
    out = tmp_path / "t.csv"
    frame = targets.run("dsprites_small", ("closest-pair", "pair:scale+posY"), seeds=2, steps=3, out=out,
                        data_root=tmp_path / "data", results=tmp_path)
    written = pd.read_csv(out)
    assert written.mixing.tolist() == ["closest-pair", "pair:scale+posY"]
    assert written[["gap_seed0", "gap_seed1"]].notna().all().all()
    assert frame["mean"].tolist() == pytest.approx(written[["gap_seed0", "gap_seed1"]].mean(axis=1).tolist())


def test_a_bad_mixing_is_refused_before_any_data_is_built(tmp_path, monkeypatch):
    monkeypatch.setattr(targets, "get", lambda *a: pytest.fail("built data before checking the names"))
    with pytest.raises(UserError, match="pair:scale"):
        targets.run("dsprites_small", ("closest-pair", "pair:scale"), out=tmp_path / "t.csv",
                    data_root=tmp_path / "data", results=tmp_path)


def test_a_gap_does_not_depend_on_the_other_candidates_measured_with_it(tmp_path):
    alone = targets.run("dsprites_small", ("closest-pair",), seeds=2, steps=3, out=tmp_path / "a.csv",
                        data_root=tmp_path / "data", results=tmp_path / "one")
    after = targets.run("dsprites_small", ("pair:scale+posY", "closest-pair"), seeds=2, steps=3,
                        out=tmp_path / "b.csv", data_root=tmp_path / "data", results=tmp_path / "two")
    columns = ["gap_seed0", "gap_seed1"]
    assert after[columns].iloc[1].tolist() == alone[columns].iloc[0].tolist()


def test_kept_gaps_are_read_again_and_a_damaged_file_is_one_line(tmp_path, monkeypatch):
    args = dict(seeds=2, steps=3, data_root=tmp_path / "data", results=tmp_path)
    first = targets.run("dsprites_small", ("closest-pair",), out=tmp_path / "a.csv", **args)
    monkeypatch.setattr(targets, "original_gaps", lambda *a: pytest.fail("measured a kept gap again"))
    again = targets.run("dsprites_small", ("closest-pair",), out=tmp_path / "b.csv", **args)
    assert again["mean"].tolist() == first["mean"].tolist()
    targets.gaps_file(tmp_path, "dsprites_small").write_text("{not json\n")
    with pytest.raises(UserError, match="dsprites_small.jsonl is damaged"):
        targets.run("dsprites_small", ("closest-pair",), out=tmp_path / "c.csv", **args)
