"""The confirmatory profile's design: paired seeds, builds of the learned variants, the sham, the acceptance
rule and the committed ledger."""

import json
import tarfile
from pathlib import Path

import pytest

from bench import ledger
from bench.data import DATASETS
from bench.manipulation.build import arm_built, arm_config, learned_store
from bench.variants import identity, parse_variant
from bench.errors import UserError
from bench.manipulation.acceptance import Acceptance, accepted, stored_acceptance
from bench.runs import DONE, restore, runs_for, status
from bench.suites import fixed_choices, get_profile, train_config, variant_cells

CONFIRM = get_profile("inductive-bias", "confirm")


def confirm_cells():
    return variant_cells(CONFIRM, fixed_choices(CONFIRM))


def test_seed_k_is_the_same_run_start_in_every_arm():
    seeds = {}
    for cell in confirm_cells():
        seeds.setdefault((cell.model, cell.seed_index), set()).add(train_config("inductive-bias", CONFIRM, cell).seed)
    assert all(len(s) == 1 for s in seeds.values())
    assert len({next(iter(s)) for s in seeds.values()}) == len(seeds)  # and differs across seeds and models


def test_confirmatory_seeds_share_nothing_with_the_exploratory_runs():
    quick = get_profile("inductive-bias", "quick")
    quick_cells = variant_cells(quick, {("beta_vae", "dsprites_halfy"): 8.0})
    quick_seeds = {train_config("inductive-bias", quick, c).seed for c in quick_cells}
    assert not quick_seeds & {train_config("inductive-bias", CONFIRM, c).seed for c in confirm_cells()}


def test_seeds_spread_evenly_over_the_builds_of_each_learned_arm():
    cells = [c for c in confirm_cells() if c.model == "beta_vae"]
    for arm in ("modified", "sham"):
        builds = [c.build for c in cells if c.variant == arm]
        spread = {"modified": [1, 4, 3], "sham": [1, 2, 3]}[arm]  # modified@2 failed, replaced by game seed 4
        assert sorted(builds) == sorted(spread * 3 + [1])  # 10 seeds over 3 builds
    assert {c.build for c in cells if c.variant in ("original", "noise")} == {None}
    assert {train_config("inductive-bias", CONFIRM, c).variant for c in cells} == {
        "original", "noise", "modified@1", "modified@4", "modified@3", "sham@1", "sham@2", "sham@3"}


def test_every_model_runs_every_arm_at_its_fixed_value_with_the_declared_seeds():
    cells = confirm_cells()
    counts = {}
    for c in cells:
        counts[(c.model, c.variant)] = counts.get((c.model, c.variant), 0) + 1
        assert c.value == dict(CONFIRM.fixed_values)[c.model]
    assert counts[("beta_vae", "sham")] == 10 and counts[("pcl", "modified")] == 10
    assert counts[("factor_vae", "noise")] == 5 and len(cells) == 160


def test_builds_and_the_sham_are_distinct_data():
    names = ["modified", "modified@1", "modified@2", "sham@1"]
    assert len({json.dumps(identity("dsprites_halfy", n), sort_keys=True) for n in names}) == len(names)
    assert identity("dsprites_halfy", "sham@1")["manipulation"]["mixing"] == "identity"
    assert identity("dsprites_halfy", "original") is None and identity("dsprites_halfy", "noise") is None


@pytest.mark.parametrize("bad", ["noise@1", "modified@x", "modified@", "nonsense", "nonsense@2"])
def test_a_malformed_variant_name_is_a_one_line_error(bad):
    with pytest.raises(UserError):
        parse_variant(bad)


def test_acceptance_needs_every_reference_seed_to_agree():
    good = {"original_gap": [1.0, 2.0, 0.5], "gap": [-1.0, -3.0, -0.2], "learnability": [0.8, 0.7, 0.9]}
    assert accepted(good)
    assert not accepted({**good, "original_gap": [1.0, -0.1, 0.5]})  # one seed already prefers the target
    assert not accepted({**good, "gap": [-1.0, 0.1, -0.2]})  # one seed is not turned
    assert not accepted({**good, "learnability": [0.8, 0.3, 0.9]})  # as unlearnable as clipped noise


def test_a_committed_record_counts_as_done_and_survives_a_fresh_results_root(tmp_path):
    run = runs_for("inductive-bias", CONFIRM, confirm_cells()[:1])[0]
    record = {**run.describe(), "metric_settings": run.metrics.to_dict(), "metrics": {"mig": 0.3}}
    path = tmp_path / "records.jsonl"
    ledger.add(path, record)
    ledger.add(path, record)  # adding again replaces, never duplicates
    assert len(path.read_text().splitlines()) == 1
    results = tmp_path / "results"
    assert status(run, results) == "new"
    assert restore(ledger.read(path), results) == 1
    assert status(run, results) == "done" and (run.directory(results) / DONE).exists()
    assert restore(ledger.read(path), results) == 0


def test_a_diverged_run_in_the_ledger_stays_failed_on_a_fresh_results_root(tmp_path):
    run = runs_for("inductive-bias", CONFIRM, confirm_cells()[:1])[0]
    path = tmp_path / "records.jsonl"
    ledger.add(path, {**run.describe(), "failed": {"step": 812, "term": "kl", "message": "non-finite kl"}})
    assert restore(ledger.read(path), tmp_path / "results") == 1
    assert status(run, tmp_path / "results") == "failed"
    assert restore(ledger.read(path), tmp_path / "results") == 0


def test_a_report_from_a_ledger_names_its_failed_runs_and_the_builds_acceptance(tmp_path):
    from bench.report import report_suite
    from bench.report.records import read_jsonl
    records = read_jsonl("tests/data/report_records.jsonl")
    failed = {**{k: records[0][k] for k in ("run_id", "suite", "profile", "cell", "config")}, "run_id": "f" * 16,
              "failed": {"step": 812, "term": "kl", "message": "non-finite kl"}}
    for r in (*records, failed):
        ledger.add(tmp_path / "records.jsonl", r)
    before = (tmp_path / "records.jsonl").read_text()
    ledger.write_acceptance(tmp_path / "records.jsonl", {"d": {
        "modified@1": {"gap": [-1.5], "original_gap": [2.0], "learnability": [0.7], "passed": True},
        "sham@1": {"gap": [1.0], "original_gap": [2.0], "learnability": [0.1], "passed": None}}})
    index = report_suite("inductive-bias", get_profile("inductive-bias", "quick"),
                         records_file=tmp_path / "records.jsonl", out=tmp_path).read_text()
    assert "| beta_vae/dsprites/original/value=8.0/seed=0 | 812 | kl | ffffffffffffffff |" in index
    assert "| d | modified@1 | passed | +2.00 | -1.50 | 0.70 |" in index and "| d | sham@1 | recorded without a gate" in index
    # The report rewrote its own ledger, line for line.
    assert (tmp_path / "records.jsonl").read_text() == before


def test_a_ledger_record_with_other_metric_settings_is_not_done(tmp_path):
    run = runs_for("inductive-bias", CONFIRM, confirm_cells()[:1])[0]
    record = {**run.describe(), "metric_settings": {"num_bins": 7}, "metrics": {"mig": 0.3}}
    restore({run.id: record}, tmp_path)
    assert status(run, tmp_path) != "done"


def test_a_damaged_ledger_is_a_one_line_error(tmp_path):
    path = tmp_path / "records.jsonl"
    path.write_text('{"run_id": "a"}\nnot json\n')
    with pytest.raises(UserError):
        ledger.read(path)
    path.write_text('[1, 2]\n')
    with pytest.raises(UserError):
        ledger.read(path)


def test_the_builds_acceptance_is_written_beside_the_ledger(tmp_path):
    acceptance = {"d": {"modified@1": {"gap": [-1.0], "original_gap": [2.0], "passed": True}}}
    ledger.write_acceptance(tmp_path / "records.jsonl", acceptance)
    assert json.loads((tmp_path / "acceptance.json").read_text()) == acceptance
    # A later start no longer needs a replaced build: its failed result stays on file beside the new ones.
    later = {"d": {"modified@4": {"gap": [-2.0], "original_gap": [2.0], "passed": True}}}
    ledger.write_acceptance(tmp_path / "records.jsonl", later)
    assert json.loads((tmp_path / "acceptance.json").read_text()) == {"d": {**acceptance["d"], **later["d"]}}


def test_a_replaced_build_takes_the_failed_ones_seeds_and_nothing_else():
    cells = confirm_cells()
    on_four = {(c.model, c.seed_index) for c in cells if c.variant == "modified" and c.build == 4}
    assert on_four == {(c.model, c.seed_index) for c in cells if c.variant == "modified" and c.seed_index % 3 == 1}
    assert "modified@2" not in CONFIRM.data_variants() and "sham@2" in CONFIRM.data_variants()


def test_acceptance_settings_compare_equal_after_a_round_trip_through_a_build_report():
    settings = Acceptance().to_dict()  # a stored result is reused only when its settings compare equal
    assert json.loads(json.dumps(settings)) == settings


def test_a_confirmatory_report_before_the_last_run_is_labelled_partial():
    from bench.report.sections import interim_line
    runs = [{"suite": "inductive-bias", "profile": "confirm"}] * 20
    assert interim_line(runs, failed=runs[:1]).startswith("**Partial**: 21 of the 160 planned runs have finished.")
    assert interim_line(runs * 8) == ""


def test_the_time_left_reads_finished_runs_of_a_profile_without_a_line_search(tmp_path, monkeypatch):
    from bench import plan
    from bench.context import Context
    monkeypatch.setattr(plan, "steps_per_second", lambda *a: 100.0)  # the probe, for the models not measured
    run = next(r for r in runs_for("inductive-bias", CONFIRM, confirm_cells()) if r.config.model == "beta_vae")
    record = {**run.describe(), "metric_settings": run.metrics.to_dict(), "metrics": {"mig": 0.3},
              "training": {"seconds": 7200.0}, "evaluation": {"seconds": 0.0}}
    said = plan.describe("inductive-bias", CONFIRM, Context(tmp_path, jobs=2), ledger={run.id: record})
    assert "(159 left)" in said[0] and "run times of 1 of 6 models measured in finished runs" in said[1]


def test_the_committed_records_keep_their_run_ids():
    """Every record the confirmatory run committed is still a run of the profile, under the same id: a change to
    a config's or a build's identity would otherwise make the runner train them all again."""
    path = Path(__file__).parents[1] / "reports" / "inductive-bias" / "confirm" / "records.jsonl"
    committed = ledger.read(path)
    planned = {r.id: r.cell.variant for r in runs_for("inductive-bias", CONFIRM, confirm_cells())}
    assert set(committed) <= set(planned)
    assert {"original", "noise"} <= {planned[i] for i in committed}
    assert any(planned[i].startswith("modified") for i in committed) and any(
        planned[i].startswith("sham") for i in committed)


def test_the_committed_builds_are_the_profiles_builds_with_the_committed_acceptance(tmp_path):
    """The archive that spares a fresh machine the games holds exactly the builds the profile trains on, each a
    valid cache entry whose stored acceptance result is the one committed in acceptance.json."""
    confirm = Path(__file__).parents[1] / "reports" / "inductive-bias" / "confirm"
    with tarfile.open(confirm / "builds.tar.xz") as archive:
        archive.extractall(tmp_path, filter="data")
        members = {Path(m.name).parent for m in archive.getmembers() if m.isfile()}
    committed = json.loads((confirm / "acceptance.json").read_text())
    learned = [v for v in CONFIRM.data_variants() if parse_variant(v)[0] in ("modified", "sham")]
    assert len(learned) == 6
    expected = set()
    for dataset in CONFIRM.datasets:
        spec = DATASETS[dataset]
        for variant in learned:
            arm, build = parse_variant(variant)
            assert arm_built(spec, tmp_path, arm, build), variant
            assert stored_acceptance(spec, tmp_path, arm, build) == committed[dataset][variant]
            expected.add(learned_store(spec, tmp_path, arm_config(spec, arm, build)).directory.relative_to(tmp_path))
    assert members == expected  # nothing else: no game checkpoints, no other builds
