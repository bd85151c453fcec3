"""Metric properties with values derivable by hand (synthetic codes; no model needed)."""

import operator

import numpy as np
import pytest

from bench.metrics.checks import MetricInputError
from bench.metrics.dci import dci
from bench.metrics.factor_vae_score import factor_vae_score
from bench.metrics.beta_vae_score import beta_vae_score
from bench.metrics.mig import mig
from bench.metrics.modularity import modularity_explicitness
from bench.metrics.parallel import parallel_map
from bench.metrics.sap import sap

SIZES = (3, 6, 10)


def _factors(n, rng, sizes=SIZES):
    return np.stack([rng.integers(0, s, n) for s in sizes], axis=1)


def _perfect(factors, rng, noise=1e-3):
    return factors / 10.0 + noise * rng.standard_normal(factors.shape)


@pytest.fixture
def data(rng):
    f_train, f_test = _factors(3000, rng), _factors(1000, rng)
    return f_train, f_test


def test_perfect_code_scores_high(data, rng):
    f_train, f_test = data
    c_train, c_test = _perfect(f_train, rng), _perfect(f_test, rng)
    assert mig(c_train, f_train)["mig"] >= 0.9
    assert dci(c_train, f_train, c_test, f_test, n_jobs=1)["dci_disentanglement"] >= 0.9


@pytest.mark.parametrize("kind", ["constant", "random"])
def test_constant_and_random_codes_score_low(data, rng, kind):
    f_train, f_test = data
    make = (lambda n: np.ones((n, 3))) if kind == "constant" else (lambda n: rng.standard_normal((n, 3)))
    c_train, c_test = make(len(f_train)), make(len(f_test))
    assert mig(c_train, f_train)["mig"] <= 0.1
    assert dci(c_train, f_train, c_test, f_test, n_jobs=1)["dci_disentanglement"] <= 0.1


def test_duplicated_latent_closes_its_factors_gap(rng):
    f = _factors(4000, rng, sizes=(4, 4))
    code = _perfect(f, rng)
    before = mig(code, f)
    after = mig(np.concatenate([code, code[:, :1]], axis=1), f)
    assert before["mig"] >= 0.95
    assert after["mig_per_factor"][0] == pytest.approx(0.0, abs=1e-12)  # top two codes now equal
    assert after["mig"] == pytest.approx(before["mig"] / 2, abs=0.01)


def test_mig_matches_closed_form_on_a_two_factor_toy():
    # a uniform over 4 values, b uniform over 2, every combination equally often. Code 0 = a // 2 keeps
    # 1 bit of a's 2 bits; code 1 = b. MI(code0; a) = log 2, H(a) = log 4, so a's gap is 0.5; b's gap is 1.
    a, b = np.meshgrid(np.arange(4), np.arange(2), indexing="ij")
    f = np.tile(np.stack([a.ravel(), b.ravel()], axis=1), (50, 1))
    code = np.stack([f[:, 0] // 2, f[:, 1]], axis=1).astype(float)
    result = mig(code, f)
    assert result["mig_per_factor"] == pytest.approx([0.5, 1.0], abs=1e-12)
    assert result["mutual_information"][0][0] == pytest.approx(np.log(2), abs=1e-12)


def test_mig_cannot_reach_one_on_factors_with_more_values_than_bins(rng):
    f = _factors(20_000, rng, sizes=(40, 32))
    result = mig(f.astype(float), f)  # the most perfect code there is
    assert max(result["mig_per_factor"]) < 0.9  # at most log 20 / log 32 ~ 0.86 with 20 bins


def test_sap_stays_far_below_one_for_a_perfect_code_of_many_values(rng):
    f_train, f_test = _factors(3000, rng, sizes=(32, 40)), _factors(1000, rng, sizes=(32, 40))
    assert sap(_perfect(f_train, rng), f_train, _perfect(f_test, rng), f_test, n_jobs=1)["sap"] < 0.5


def test_sap_is_high_for_a_perfect_binary_code(rng):
    f_train, f_test = _factors(2000, rng, sizes=(2, 2)), _factors(500, rng, sizes=(2, 2))
    result = sap(_perfect(f_train, rng), f_train, _perfect(f_test, rng), f_test, n_jobs=1)
    assert result["sap"] >= 0.4  # perfect dim 1.0 against ~0.5 for the other


def test_invariant_to_permuting_latents(data, rng):
    f_train, f_test = data
    c_train, c_test = _perfect(f_train, rng, noise=0.1), _perfect(f_test, rng, noise=0.1)
    perm = [2, 0, 1]
    assert mig(c_train[:, perm], f_train)["mig"] == pytest.approx(mig(c_train, f_train)["mig"], abs=1e-12)
    a = sap(c_train, f_train, c_test, f_test, n_jobs=1)["sap"]
    b = sap(c_train[:, perm], f_train, c_test[:, perm], f_test, n_jobs=1)["sap"]
    assert a == pytest.approx(b, abs=1e-12)


def test_mig_and_dci_invariant_to_rescaling_latents(rng):
    f_train, f_test = _factors(1000, rng), _factors(400, rng)
    c_train, c_test = _perfect(f_train, rng, noise=0.1), _perfect(f_test, rng, noise=0.1)
    scale = np.array([4.0, 0.5, 2.0])  # powers of two: the bin edges scale exactly
    assert mig(c_train * scale, f_train)["mig"] == pytest.approx(mig(c_train, f_train)["mig"], abs=1e-12)
    a = dci(c_train, f_train, c_test, f_test, n_jobs=1)
    b = dci(c_train * scale, f_train, c_test * scale, f_test, n_jobs=1)
    assert a["dci_disentanglement"] == pytest.approx(b["dci_disentanglement"], abs=1e-9)


def test_parallel_equals_serial(rng):
    f_train, f_test = _factors(1000, rng), _factors(400, rng)
    c_train, c_test = _perfect(f_train, rng, noise=0.2), _perfect(f_test, rng, noise=0.2)
    assert dci(c_train, f_train, c_test, f_test, n_jobs=1) == dci(c_train, f_train, c_test, f_test, n_jobs=2)
    assert sap(c_train, f_train, c_test, f_test, n_jobs=1) == sap(c_train, f_train, c_test, f_test, n_jobs=2)


@pytest.mark.parametrize("costs", [[1, 1, 1, 1, 1], [3, 6, 40, 32, 32]])  # even; uneven enough to oversubscribe
def test_parallel_map_keeps_the_order_on_every_schedule(costs, monkeypatch):
    monkeypatch.setenv("BENCH_THREADS", "2")
    jobs = [(i,) for i in range(5)]
    expected = [operator.mul(3, i) for i in range(5)]
    assert parallel_map(operator.mul, jobs, costs=costs, oversubscribe=True, shared=(3,)) == expected
    assert parallel_map(operator.mul, jobs, n_jobs=2, costs=costs, shared=(3,)) == expected


def test_modularity_and_explicitness_of_a_perfect_code(data, rng):
    f_train, f_test = data
    result = modularity_explicitness(_perfect(f_train, rng), f_train, _perfect(f_test, rng), f_test, n_jobs=1)
    assert result["modularity"] >= 0.9 and result["explicitness_test"] >= 0.8


def _sampler(code_of):
    def sample_codes(factors):
        return code_of(factors)
    return sample_codes


def _sample_factors(n, rng):
    return _factors(n, rng, sizes=(3, 6, 10, 4, 8, 5, 7, 9, 6, 5))


@pytest.mark.parametrize("score,key", [(factor_vae_score, "factor_vae_eval"), (beta_vae_score, "beta_vae_eval")])
def test_sampled_scores_perfect_and_random(score, key):
    rng = np.random.default_rng(0)
    # Unit-scale codes: FactorVAE's score prunes dimensions whose standard deviation is below 0.05.
    perfect = score(_sampler(lambda f: f + 0.01 * rng.standard_normal(f.shape)), _sample_factors, 10, np.random.default_rng(1),
                    num_train=300, num_eval=200, **({"num_variance_estimate": 2000} if score is factor_vae_score else {}))
    random = score(_sampler(lambda f: rng.standard_normal(f.shape)), _sample_factors, 10, np.random.default_rng(1),
                   num_train=300, num_eval=200, **({"num_variance_estimate": 2000} if score is factor_vae_score else {}))
    assert perfect[key] >= 0.9
    assert random[key] <= 0.25  # chance is 1 / 10 factors


def test_factor_vae_score_of_a_constant_code_is_zero():
    result = factor_vae_score(lambda f: np.ones((len(f), 3)), _sample_factors, 10, np.random.default_rng(0),
                              num_train=10, num_eval=10, num_variance_estimate=100)
    assert result["factor_vae_eval"] == 0.0 and result["factor_vae_active_dims"] == 0


def test_fixed_generator_gives_deterministic_results():
    runs = [factor_vae_score(_sampler(lambda f: f + 0.3 * np.random.default_rng(2).standard_normal(f.shape)),
                             _sample_factors,
                             10, np.random.default_rng(5), num_train=100, num_eval=50, num_variance_estimate=500)
            for _ in range(2)]
    assert runs[0] == runs[1]


@pytest.mark.parametrize("codes,factors,message", [
    (np.full((100, 2), np.nan), np.zeros((100, 2), int), "NaN or inf"),
    (np.zeros((100, 2)), np.zeros((99, 2), int), "matching"),
    (np.random.default_rng(0).random((100, 2)), np.zeros((100, 2), int), "single value"),
    (np.random.default_rng(0).random((10, 2)), np.arange(20).reshape(10, 2), "too few"),
    (np.zeros((100, 2)), np.zeros((100, 2)), "integer class"),
])
def test_bad_input_is_a_one_line_error(codes, factors, message):
    with pytest.raises(MetricInputError, match=message):
        mig(codes, factors)


def test_vectorised_mig_equals_the_per_pair_sklearn_reference(rng):
    from bench.benchmarks.metrics import reference_mig, synthetic_codes
    codes, factors = synthetic_codes((3, 6, 40, 32, 32), 10, rng, 3000)
    assert mig(codes, factors)["mig"] == pytest.approx(reference_mig(codes, factors), abs=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])  # float32: the encoder's, binned as numpy bins it
def test_fast_discretisation_equals_numpy_histogram_digitize(dtype):
    from bench.metrics.information import histogram_discretize
    rng = np.random.default_rng(0)
    for trial in range(100):
        codes = (rng.standard_normal((500, 4)) * rng.uniform(1e-3, 1e3) + rng.uniform(-1e3, 1e3)).astype(dtype)
        if trial % 3 == 0:
            codes = np.round(codes, 1)  # values on the bin edges
        if trial % 5 == 0:  # values exactly on the edges, in the codes' own dtype
            codes[:21] = np.stack([np.histogram(codes[:, d], 20)[1] for d in range(4)], axis=1)
        if trial % 7 == 0:
            codes[:, 1] = 5.0  # a constant dimension
        expected = np.stack([np.digitize(codes[:, d], np.histogram(codes[:, d], 20)[1][:-1]) for d in range(4)], 1)
        np.testing.assert_array_equal(histogram_discretize(codes, 20), expected)
