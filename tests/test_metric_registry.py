"""Each metric is declared once (`bench.metrics.registry`); records, tables and the CI check read that declaration."""

import numpy as np
import torch

from bench import check
from bench.data import dsprites
from bench.data.sources import load_base
from bench.metrics import METRICS, MetricSettings, checked, evaluate, numeric, registry, tabled
from bench.metrics.evaluate import Evaluation
from bench.models import build, paper_config
from bench.report import records, tables


def record(values: dict) -> dict:
    cell = {"model": "m", "dataset": "d", "variant": "original", "value": None, "seed_index": 0}
    return {"run_id": "x", "suite": "s", "profile": "p", "cell": cell, "config": {"steps": 1}, "metric_settings": {},
            "metrics": values}


def test_every_declared_output_reaches_the_report_and_the_check():
    values = {name: 0.5 for name in numeric()}
    frame = records.to_frame([record(values)])
    assert set(numeric()) <= set(frame.columns)
    assert set(tables.summary(frame).metric) == set(tabled()) and set(tabled()) <= set(numeric())
    assert set(check.current_values([record(values)])["m/d/original/value=None/seed=0"]) == set(checked())
    assert [m for m in check.compare({"r": {"reconstruction": 100.0, "mig": 0.5}},
                                     {"r": {"reconstruction": 101.0, "mig": 0.51}})] == []  # 1% of a loss is within


def test_fixed_settings_are_recorded_and_pinned_to_the_version(tmp_path):
    fixed = {name: m.fixed for name, m in METRICS.items() if m.fixed}
    # A changed fixed setting changes what the same MetricSettings compute: bump MetricSettings.version with it.
    assert (MetricSettings().version, fixed) == (2, {"reconstruction": {"reconstruction_points": 1000},
                                                     "active_units": {"active_unit_threshold": 0.8}})
    data = load_base(dsprites.make_spec("tiny", size=32, num_positions=3, num_orientations=2), tmp_path)
    torch.manual_seed(0)
    model = build("beta_vae", paper_config("beta_vae", "dsprites"), data.observation_shape, data.num_factors)
    settings = MetricSettings(metrics=("active_units", "reconstruction"), num_train=50, num_test=20)
    metrics = evaluate(model, data, settings)["metrics"]
    assert metrics["reconstruction_points"] == 1000 and metrics["active_unit_threshold"] == 0.8
    assert np.isfinite(metrics["reconstruction"]) and isinstance(metrics["active_units"], int)


def test_sampled_scores_draw_as_many_points_as_the_settings_say(tmp_path):
    seen = {}
    score = registry._sampled(lambda *args, **kwargs: seen.update(kwargs) or {})
    data = load_base(dsprites.make_spec("tiny", size=32, num_positions=3, num_orientations=2), tmp_path)
    model = build("beta_vae", paper_config("beta_vae", "dsprites"), data.observation_shape, data.num_factors)
    score(Evaluation(model, data, MetricSettings(num_train=30, num_test=7)))
    assert seen == {"num_train": 30, "num_eval": 7}
