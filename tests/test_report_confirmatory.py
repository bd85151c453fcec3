"""The confirmatory report on synthetic paired records whose statistics follow from the definitions: constant
differences (exact binary fractions, so d is exactly constant), known sign-flip counts, Holm over the family."""

import subprocess

import numpy as np
import pandas as pd
import pytest

from bench.errors import UserError
from bench.hypotheses import Family
from bench.report import build_report, provenance
from bench.report.paired import by_build
from bench.report.records import to_frame
from bench.report.significance import holm
from bench.report.verdicts import confirmatory, declared_family
from bench.suites import get_profile

# Constant differences are the point of these records; scipy warns that their variance is (exactly) zero.
pytestmark = pytest.mark.filterwarnings("ignore:Precision loss:RuntimeWarning")
FAMILY = get_profile("inductive-bias", "confirm").hypotheses
VERSIONS = {"numpy": "2.4.6", "scikit-learn": "1.9.1"}


def _record(model, arm, seed, mig, profile="confirm", **extra):
    build = seed % 3 + 1 if arm in ("modified", "sham") else None
    return {"cell": {"dataset": "dsprites_halfy", "model": model, "variant": arm, "value": None, "seed_index": seed,
                     "build": build},
            "config": {"steps": 100}, "metric_settings": {"num_bins": 20}, "metrics": {"mig": mig},
            "profile": profile, "run_id": f"{model}-{arm}-{seed}", "suite": "inductive-bias",
            "training": {"device": "cpu", "seconds": 1.0}, "versions": VERSIONS, **extra}


def paired_records(seeds=5) -> list[dict]:
    """beta-VAE: original - modified = 0.25, noise - modified = sham - modified = 0.125 on every seed; PCL:
    original - modified = +-1/256, well inside the margin. The other VAEs of the family have no runs."""
    records = []
    for k in range(seeds):
        modified = 0.25 + k / 8
        for arm, mig in (("original", modified + 0.25), ("modified", modified), ("noise", modified + 0.125),
                         ("sham", modified + 0.125)):
            records.append(_record("beta_vae", arm, k, mig))
        records += [_record("pcl", "original", k, 0.25 + k / 16),
                    _record("pcl", "modified", k, 0.25 + k / 16 + (-1) ** k / 256)]
    return records


def _table(records):
    return confirmatory(to_frame(records), FAMILY).reset_index().set_index(["model", "first", "second"])


def test_the_profile_declares_a_family_and_the_report_finds_it():
    assert isinstance(FAMILY, Family)
    assert declared_family(paired_records()) is FAMILY
    assert declared_family([_record("pcl", "original", 0, 0.2, profile="not-registered")]) is None
    with pytest.raises(UserError, match="mix profiles"):
        declared_family(paired_records() + [_record("pcl", "original", 0, 0.2, profile="quick")])


def test_constant_differences_give_their_value_as_the_interval_and_one_in_32_sign_patterns():
    table = _table(paired_records())
    drop = table.loc[("beta_vae", "original", "modified")]
    assert drop["n"] == 5 and drop["mean difference"] == 0.25
    assert (drop["ci low"], drop["ci high"]) == (0.25, 0.25)
    assert drop["p"] == 0.0 and drop["p sign-flip"] == 1 / 32 and drop["d_z"] == np.inf
    assert drop["verdict"] == "significant"
    assert table.loc[("beta_vae", "sham", "modified"), "mean difference"] == 0.125
    pcl = table.loc[("pcl", "original", "modified")]
    assert pcl["verdict"] == f"equivalent within ±{FAMILY.margin:g}" and pcl["p sign-flip"] == 1 / 32


def test_holm_runs_over_the_whole_family_and_absent_models_are_not_enough_runs():
    table = _table(paired_records())
    assert len(table) == len(FAMILY.contrasts)
    assert table["p holm"].to_numpy() == pytest.approx(holm(table["p"]), nan_ok=True)
    factor_vae = table.loc[("factor_vae", "original", "modified")]
    assert factor_vae["verdict"] == "not enough runs (n=0)" and np.isnan(factor_vae["p holm"])
    # with the other contrasts missing, PCL's p still is multiplied by the family's size less the three before it
    pcl = table.loc[("pcl", "original", "modified")]
    assert pcl["p holm"] == pytest.approx((len(FAMILY.contrasts) - 3) * pcl["p"])


def test_a_seed_missing_in_one_arm_drops_out_of_the_pairs():
    records = [r for r in paired_records() if (r["cell"]["model"], r["cell"]["variant"], r["cell"]["seed_index"])
               != ("beta_vae", "modified", 4)]
    drop = _table(records).loc[("beta_vae", "original", "modified")]
    assert drop["n"] == 4 and drop["p sign-flip"] == 1 / 16


def test_the_differences_per_build_show_each_build_and_all():
    table = by_build(to_frame(paired_records()), "mig").set_index(["model", "contrast", "build"])
    drop = table.loc[("beta_vae", "original - modified")]
    assert list(drop.index) == ["build 1", "build 2", "build 3", "all"]
    assert drop["n"].tolist() == [2, 2, 1, 5]  # seeds 0..4 on builds 1, 2, 3, 1, 2
    assert drop["mean"].tolist() == pytest.approx([0.25] * 4)
    assert table.loc[("beta_vae", "original - sham", "all"), "mean"] == pytest.approx(0.125)


def test_confirmatory_report_flags_an_unknown_preregistration_and_writes_numbers(tmp_path, monkeypatch):
    monkeypatch.setattr(provenance, "preregistration_commit", lambda repository: None)
    records = paired_records()
    text = build_report(records, tmp_path).read_text()
    assert "**Confirmatory**: pre-registration commit unknown." in text
    assert f"**Warning: {len(records)} of {len(records)} records predate or lack a time after" in text
    assert "## Confirmatory verdicts" in text and "Line search" not in text
    assert "**no**" not in text and "| no |" not in text
    verdicts = pd.read_csv(tmp_path / "tables" / "verdicts.csv")
    assert {"n", "mean difference", "ci low", "ci high", "d_z", "p", "p holm", "p sign-flip"} <= set(verdicts.columns)
    assert verdicts["p sign-flip"].dtype == float
    mig = pd.read_csv(tmp_path / "tables" / "mig.csv")
    assert list(mig.columns) == ["dataset", "model", "variant", "mean", "std", "n"] and mig["mean"].dtype == float
    assert list(mig[mig.model == "beta_vae"].variant) == ["original", "modified", "sham", "noise"]
    assert (tmp_path / "tables" / "by_build.csv").exists()


def _git(repository, *args, when="2026-11-25T12:00:00+00:00"):
    env = {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when, "HOME": str(repository), "PATH": "/usr/bin:/bin"}
    subprocess.run(["git", "-C", str(repository), "-c", "user.name=t", "-c", "user.email=t@t", *args], env=env,
                   check=True, capture_output=True)


def test_runs_that_predate_or_lack_a_time_after_the_preregistration_are_flagged(tmp_path):
    _git(tmp_path, "init", "-q")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "preregistration.md").write_text("the family\n")
    _git(tmp_path, "add", "docs/preregistration.md")
    _git(tmp_path, "commit", "-q", "-m", "pre-register")
    commit, when = provenance.preregistration_commit(tmp_path)
    assert len(commit) == 40 and when.isoformat() == "2026-11-25T12:00:00+00:00"
    records = [_record("pcl", "original", k, 0.2, finished_at=at) for k, at in
               enumerate(["2026-11-25T13:00:00+00:00", "2026-11-25T13:00:00", "2026-11-24T09:00:00+00:00"])]
    records.append(_record("pcl", "original", 3, 0.2))
    line = provenance.mode_line(records, True, tmp_path)
    assert line.startswith(f"**Confirmatory**: pre-registered in docs/preregistration.md at commit {commit[:12]} "
                           "(2026-11-25T12:00:00+00:00).")
    assert "**Warning: 2 of 4 records predate or lack a time after the pre-registration**" in line
    assert "Warning" not in provenance.mode_line(records[:2], True, tmp_path)
    assert "pre-registration commit unknown" in provenance.mode_line(records, True, tmp_path / "no-repository")


def test_records_of_several_library_versions_are_flagged_with_every_set():
    records = paired_records()
    records[0] = {**records[0], "versions": {**VERSIONS, "scikit-learn": "1.8.0"}}
    line = provenance.versions_line(records)
    assert line.startswith("**Warning: the records were computed with 2 different sets of library versions**")
    assert f"- {len(records) - 1} runs: numpy 2.4.6, scikit-learn 1.9.1" in line
    assert "- 1 runs: numpy 2.4.6, scikit-learn 1.8.0" in line
    assert provenance.versions_line(records[1:]) == "Versions: numpy 2.4.6, scikit-learn 1.9.1."


def test_runs_of_several_machines_are_flagged_with_each_and_its_days():
    records = paired_records()
    one = {"device": "cpu", "seconds": 1.0, "machine": "Xeon (AVX512)"}
    records = [{**r, "training": one, "finished_at": "2026-12-08T01:00:00+00:00"} for r in records]
    assert provenance.machines_line(records) == (f"Trained on: cpu, Xeon (AVX512): {len(records)} runs, "
                                                 "finished 2026-12-08.")
    unrecorded = {"device": "cpu", "seconds": 1.0}
    records[0] = {**records[0], "training": unrecorded, "finished_at": "2026-11-29T13:28:30+00:00"}
    records[1] = {**records[1], "training": unrecorded, "finished_at": "2026-11-24T09:00:00+00:00"}
    line = provenance.machines_line(records)
    assert line.startswith("**Warning: the runs come from 2 machines, or from machines not recorded**")
    assert "- cpu, machine not recorded: 2 runs, finished 2026-11-24 to 2026-11-29" in line
    assert f"- cpu, Xeon (AVX512): {len(records) - 2} runs, finished 2026-12-08" in line


def test_a_record_without_training_or_finish_time_is_listed_not_fatal():
    records = [{**r, "training": None} for r in paired_records()[:2]] + [
        {k: v for k, v in r.items() if k != "finished_at"} for r in paired_records()[:1]]
    line = provenance.machines_line(records)
    assert "- ?, machine not recorded: 2 runs\n" in line and "- cpu, machine not recorded: 1 run\n" in line
