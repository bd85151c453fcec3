"""Edge cases where bench and disentanglement_lib could part ways (issue 21), each with a value that follows from
the metric's definition on synthetic codes."""

import numpy as np
import pytest

from bench.metrics.beta_vae_score import beta_vae_score
from bench.metrics.checks import MetricInputError, check_codes_factors
from bench.metrics.factor_vae_score import factor_vae_score
from bench.metrics.information import histogram_discretize
from bench.metrics.modularity import modularity_explicitness
from bench.metrics.sap import sap

SIZES = (3, 6, 10, 4)


def _sample_factors(n, rng):
    return np.stack([rng.integers(0, s, n) for s in SIZES], axis=1)


def _grid(sizes, repeats):
    """Every combination of factor values equally often, so cross-factor covariances are exactly 0."""
    grid = np.stack(np.meshgrid(*[np.arange(s) for s in sizes], indexing="ij"), axis=-1).reshape(-1, len(sizes))
    return np.tile(grid, (repeats, 1))


@pytest.mark.parametrize("std,active", [(0.1, 4), (0.04, 3)])
def test_factor_vae_prunes_on_the_standard_deviation(std, active):
    # The code is the factors, factor 0's dim scaled to the given std (factor 0 is uniform on 3 values: std
    # sqrt(2/3)). std 0.1 has variance 0.01 < 0.05 but is kept. With every dim kept, the fixed factor's dim has
    # local variance exactly 0 and every other dim more, so each vote is (k, k) and both accuracies are 1.
    # The active count is the dims kept (disentanglement_lib would report 4, its mask's length, either way).
    scale = np.array([std / np.sqrt(2 / 3), 1.0, 1.0, 1.0])
    result = factor_vae_score(lambda f: f * scale, _sample_factors, 4, np.random.default_rng(0),
                              num_train=200, num_eval=100, num_variance_estimate=2000)
    assert result["factor_vae_active_dims"] == active
    if active == 4:
        assert result["factor_vae_train"] == 1.0 and result["factor_vae_eval"] == 1.0
    else:  # factor 0's votes go to dims that other factors win
        assert result["factor_vae_eval"] < 1.0


def _bad_after(calls: int, value: float):
    """Codes that turn bad in one row of the batch encoded at the given call, after the clean first ones."""
    count = [0]

    def sample_codes(factors):
        count[0] += 1
        codes = factors.astype(float)
        if count[0] == calls:
            codes[0, 0] = value
        return codes
    return sample_codes


@pytest.mark.parametrize("value", [np.nan, np.inf])
@pytest.mark.parametrize("score", [factor_vae_score, beta_vae_score])
def test_sampled_scores_refuse_a_bad_row_in_any_batch(score, value):
    with pytest.raises(MetricInputError, match="NaN or inf"):
        score(_bad_after(5, value), _sample_factors, 4, np.random.default_rng(0), num_train=20, num_eval=10)


def test_explicitness_standardises_a_constant_dimension_with_std_one():
    # Two binary factors, each coded exactly by one dim, plus a constant dim (disentanglement_lib divides it by
    # 0). Each factor is separated perfectly by its own dim: AUC 1. Modularity: each factor dim carries only
    # its factor (1), the constant dim nothing (0): 2/3.
    f_train, f_test = _grid((2, 2), 25), _grid((2, 2), 10)

    def code(f):
        return np.concatenate([f, np.full((len(f), 1), 7.0)], axis=1)
    result = modularity_explicitness(code(f_train), f_train, code(f_test), f_test, n_jobs=1)
    assert result["explicitness_train"] == 1.0 and result["explicitness_test"] == 1.0
    assert result["modularity"] == pytest.approx(2 / 3, abs=1e-12)


@pytest.mark.parametrize("missing_from", ["test", "train"])
def test_explicitness_refuses_a_factor_value_in_only_one_split(missing_from):
    full, short = _grid((3, 4), 10), _grid((3, 3), 10)  # factor 1's value 3 only in `full`
    f_train, f_test = (full, short) if missing_from == "test" else (short, full)
    with pytest.raises(MetricInputError, match=r"factor 1 takes value\(s\) \[3\] in only one"):
        modularity_explicitness(f_train.astype(float), f_train, f_test.astype(float), f_test, n_jobs=1)


def test_codes_are_binned_in_their_own_dtype():
    # 20 bins over [0, 1]: edge 7 is 0.35 rounded to float32 (0.34999999), where float64's is 0.35000000000000003.
    # np.digitize puts a value equal to an edge in the bin above it: float32 bin 8, float64 bin 7.
    codes = np.array([[0.0], [0.35], [1.0]], dtype=np.float32)
    assert histogram_discretize(codes, 20).ravel().tolist() == [1, 8, 20]
    assert histogram_discretize(codes.astype(np.float64), 20).ravel().tolist() == [1, 7, 20]
    assert check_codes_factors(codes, np.array([[0], [1], [1]]))[0].dtype == np.float32


def test_evaluation_passes_codes_as_float32(small_dsprites):
    from bench.metrics import MetricSettings
    from bench.metrics.evaluate import Evaluation
    from bench.train import TrainConfig, Trainer
    config = TrainConfig("beta_vae", "dsprites").resolved(small_dsprites)
    model = Trainer.new(config, small_dsprites.observation_shape, "cpu").model
    ev = Evaluation(model, small_dsprites, MetricSettings(num_train=40, num_test=20))
    assert ev.train.dtype == np.float32 and ev.test.dtype == np.float32


def test_sap_for_continuous_factors_is_the_squared_correlation():
    # a on 4 values, b on 2, a full grid: var a = 5/4, var 2b = 1, cov(a, b) = 0. Dim 0 = a: r^2 = 1 with a,
    # 0 with b. Dim 1 = a + 2b: r^2 = (5/4)^2 / (9/4 * 5/4) = 5/9 with a, (1/2)^2 / (9/4 * 1/4) = 4/9 with b.
    # Dim 2 is constant: 0. The gaps are 1 - 5/9 for a and 4/9 - 0 for b.
    f = _grid((4, 2), 5)
    codes = np.stack([f[:, 0], f[:, 0] + 2 * f[:, 1], np.full(len(f), 3.0)], axis=1)
    result = sap(codes, f, codes, f, continuous_factors=True)
    np.testing.assert_allclose(result["sap_matrix"], [[1, 0], [5 / 9, 4 / 9], [0, 0]], atol=1e-12)
    assert result["sap"] == pytest.approx(4 / 9, abs=1e-12)
