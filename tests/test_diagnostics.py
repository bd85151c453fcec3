import numpy as np
import pytest
import torch

from bench.metrics import MetricSettings, evaluate
from bench.metrics.diagnostics import (active_units, distance_to_orthogonality, nearest_signed_permutation,
                                       polarisation)
from bench.train import TrainConfig, train


def test_active_units_and_over_pruning():
    logvar = np.log(np.array([[0.1, 0.5, 1.0, 0.95]] * 10))
    result = active_units(logvar, num_factors=3)
    assert result["active_units"] == 2 and result["over_pruned"]
    assert not active_units(logvar, num_factors=2)["over_pruned"]


def test_polarisation_is_the_share_of_kl_in_inactive_units():
    mean = np.array([[1.0, 0.0]])
    logvar = np.array([[np.log(0.1), np.log(0.9)]])
    kl = 0.5 * (mean**2 + np.exp(logvar) - logvar - 1)
    expected = kl[0, 1] / kl.sum()
    assert polarisation(mean, logvar)["polarisation_dkl"] == pytest.approx(expected)


def test_nearest_signed_permutation():
    v = np.array([[0.1, -0.9], [0.8, 0.2]])
    np.testing.assert_array_equal(nearest_signed_permutation(v), [[0, -1], [1, 0]])


def _linear_decoder(weight):
    layer = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=False)
    layer.weight.data = torch.as_tensor(weight, dtype=torch.float32)
    return layer


def test_distance_to_orthogonality_zero_for_axis_aligned_and_large_for_rotated():
    codes = np.zeros((3, 2))
    aligned = _linear_decoder(np.diag([3.0, 1.0]))
    c, s = np.cos(np.pi / 4), np.sin(np.pi / 4)
    rotated = _linear_decoder(np.diag([3.0, 1.0]) @ np.array([[c, -s], [s, c]]))
    assert distance_to_orthogonality(aligned, codes)["dto_mean"] == pytest.approx(0.0, abs=1e-6)
    # 45 degrees off: ||V - P(V)||_F = sqrt(4 (1 - 1/sqrt 2)^2 ... ) ~ 0.77
    assert distance_to_orthogonality(rotated, codes)["dto_mean"] > 0.7


SMALL = MetricSettings(num_train=400, num_test=200, metrics=("mig", "sap", "dci", "active_units", "reconstruction"))


def test_evaluate_records_settings_versions_and_is_deterministic(tmp_path, small_dsprites):
    model = train(TrainConfig("beta_vae", "dsprites", steps=5, batch_size=16), small_dsprites, tmp_path,
                  progress=False).model
    a, b = evaluate(model, small_dsprites, SMALL), evaluate(model, small_dsprites, SMALL)
    assert a == b
    assert a["metric_settings"]["num_bins"] == 20 and "scikit-learn" in a["versions"]
    for key in ("mig", "sap", "dci_disentanglement", "active_units", "polarisation_dkl", "reconstruction"):
        assert key in a["metrics"]


def test_pcl_says_it_has_no_reconstruction_or_posterior(tmp_path, small_dsprites):
    model = train(TrainConfig("pcl", "dsprites", steps=3, batch_size=16), small_dsprites, tmp_path,
                  progress=False).model
    metrics = evaluate(model, small_dsprites, SMALL)["metrics"]
    assert "no decoder" in metrics["reconstruction_note"] and "reconstruction" not in metrics
    assert "no posterior" in metrics["active_units_note"]
    assert 0.0 <= metrics["mig"] <= 1.0


def test_unknown_metric_is_a_clear_error(small_dsprites):
    from bench.errors import UserError
    with pytest.raises(UserError, match="unknown metric 'migg'"):
        evaluate(None, small_dsprites, MetricSettings(metrics=("migg",)))
