import json
from pathlib import Path

import pandas as pd
import pytest
import torch
from scipy import stats

from bench.errors import UserError
from bench.report import build_report
from bench.report.sections import compute
from bench.report.plots import traversal
from bench.report.records import read_jsonl, to_frame
from bench.report.tables import beside_paper, mig_per_factor
from bench.report.verdicts import exploratory, exploratory_family

DATA, GOLDEN = Path(__file__).parent / "data", Path(__file__).parent / "golden"


def test_report_matches_the_golden_files(tmp_path):
    index = build_report(read_jsonl(DATA / "report_records.jsonl"), tmp_path)
    for name in ("mig.md", "mig_vs_paper.md", "line_search.md", "verdicts.md"):
        assert (tmp_path / "tables" / name).read_text() == (GOLDEN / name).read_text(), name
    text = index.read_text()
    assert (GOLDEN / "verdicts.md").read_text() in text
    assert "**Exploratory**" in text and "## Exploratory verdicts" in text
    assert "0.0 h of training and 0.0 h of evaluation (0 of 28 runs timed their evaluation)" in text
    for picture in ("reconstruction_vs_mig.png", "mig_vs_paper.png", "active_units.png"):
        assert (tmp_path / "plots" / picture).stat().st_size > 1000
    assert (tmp_path / "tables" / "mig.tex").read_text().startswith(r"\begin{tabular}")
    # In run-id order, as a ledger keeps them.
    assert read_jsonl(tmp_path / "records.jsonl") == sorted(read_jsonl(DATA / "report_records.jsonl"),
                                                             key=lambda r: r["run_id"])


def test_the_header_sums_the_runs_measured_time():
    records = [{"training": {"seconds": 5400.0}, "evaluation": {"seconds": 1800.0}}, {"training": {"seconds": 1800.0}}]
    assert compute(records) == ("Compute, summed over runs: 2.0 h of training and 0.5 h of evaluation "
                                 "(1 of 2 runs timed their evaluation).")


def test_a_miniature_is_read_against_the_dataset_it_stands_for():
    stats = pd.DataFrame([{"dataset": name, "model": "beta_vae", "variant": "original", "metric": "mig",
                           "mean": 0.2, "std": 0.1, "n": 5} for name in ("dsprites_halfy", "not_registered")])
    beside = beside_paper(stats).set_index("dataset")
    assert beside.loc["dsprites_halfy", "paper_dataset"] == "dsprites"
    assert beside.loc["dsprites_halfy", "paper_mean"] == 0.23  # the paper's beta-VAE on dSprites
    assert beside.loc["not_registered", "paper_dataset"] == "not_registered"
    assert pd.isna(beside.loc["not_registered", "paper_mean"])


def test_mig_per_factor_is_the_mean_over_runs_under_the_datasets_factor_names():
    rows = [{"dataset": "dsprites_halfy", "model": "beta_vae", "variant": v, "mig_per_factor": f}
            for v, f in (("noise", [0.1, 0.2, 0.3]), ("original", [0.2, 0.4, 0.0]), ("original", [0.4, 0.0, 0.2]))]
    table = mig_per_factor(pd.DataFrame(rows))
    assert list(table.columns) == ["n", "scale", "posX", "posY"]
    assert [idx[2] for idx in table.index] == ["original", "noise"]
    assert table.loc[("dsprites_halfy", "beta_vae", "original")].tolist() == pytest.approx([2, 0.3, 0.2, 0.1])


def _frame(model, variant_values):
    rows = [{"dataset": "d", "model": model, "variant": v, "mig": x} for v, xs in variant_values.items() for x in xs]
    return pd.DataFrame(rows)


def _verdicts(frame):
    return exploratory(frame, exploratory_family(frame)).reset_index().set_index(["model", "claim"])


def test_welch_verdicts_on_records_with_a_known_answer():
    drop = _frame("beta_vae", {"original": [0.30, 0.32, 0.28, 0.31], "modified": [0.10, 0.12, 0.09, 0.11],
                               "noise": [0.27, 0.29, 0.25, 0.28]})
    same = _frame("pcl", {"original": [0.20, 0.22, 0.21], "modified": [0.21, 0.20, 0.22]})
    found = _verdicts(pd.concat([drop, same]))
    assert found.loc[("beta_vae", "MIG drops on modified data"), "verdict"] == "significant"
    assert found.loc[("beta_vae", "noise hurts less than the modification"), "verdict"] == "significant"
    assert found.loc[("pcl", "PCL's MIG is unchanged on modified data"), "verdict"] == "equivalent within ±0.05"
    drop_p = stats.ttest_ind([0.30, 0.32, 0.28, 0.31], [0.10, 0.12, 0.09, 0.11], equal_var=False,
                             alternative="greater").pvalue
    row = found.loc[("beta_vae", "MIG drops on modified data")]
    assert row["p"] == pytest.approx(drop_p) and row["cohens d"] > 5
    assert row["p holm"] == pytest.approx(min(1.0, 3 * drop_p))  # the smallest of 3 claims' p


def test_no_drop_and_too_few_runs_say_so_never_a_bare_no():
    flat = _frame("beta_vae", {"original": [0.2, 0.22, 0.21], "modified": [0.21, 0.2, 0.23], "noise": [0.2, 0.21]})
    found = _verdicts(flat).loc["beta_vae", "verdict"]
    assert found["MIG drops on modified data"] == "not significant"
    assert found["noise hurts less than the modification"] == "not enough runs (n=2)"


def test_exploratory_claims_come_from_the_models_and_the_arms_present():
    frame = pd.concat([_frame(m, {"original": [0.2], "modified": [0.1]}) for m in ("ae", "beta_vae", "pcl")])
    claims = {(c.model, c.first, c.second) for c in exploratory_family(frame).contrasts}
    # the AE has no posterior, so it is no VAE; without noise or sham runs those claims are not tested
    assert claims == {("beta_vae", "original", "modified"), ("pcl", "original", "modified")}


def test_report_refuses_mixed_metric_settings():
    records = read_jsonl(DATA / "report_records.jsonl")
    records[0] = json.loads(json.dumps(records[0]))
    records[0]["metric_settings"]["num_bins"] = 10
    with pytest.raises(UserError, match="different metric settings"):
        to_frame(records)


def test_report_without_runs_says_what_to_do():
    with pytest.raises(UserError, match="bench run"):
        to_frame([])


class _RecordingDecoder:
    """Stands in for a model: codes are fixed, and the decoder keeps what it was asked to draw."""

    def __init__(self, codes):
        self.codes, self.seen = codes, []

    def represent(self, images):
        return self.codes

    def decoder(self, z):
        self.seen.append(z.clone())
        return torch.zeros(len(z), 1, 4, 4)


class _Images:
    def sample(self, n, rng):
        return None, torch.zeros(n, 1, 4, 4)


def test_traversal_row_j_sweeps_latent_j_over_the_column_values(tmp_path):
    codes = torch.tensor([[0.5, -0.5, 1.5], [0.1, 0.2, 0.3]])
    model = _RecordingDecoder(codes)
    assert traversal(model, _Images(), tmp_path / "t", "t", steps=5).endswith(".png")
    z = model.seen[0].reshape(2, 3, 5, 3)  # base x swept latent x value x code
    for b in range(2):
        for j in range(3):
            assert z[b, j, :, j].tolist() == pytest.approx([-2, -1, 0, 1, 2])
            others = [k for k in range(3) if k != j]
            assert torch.equal(z[b, j][:, others], codes[b, others].expand(5, 2))
