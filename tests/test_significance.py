import numpy as np
import pytest
from scipy import stats

from bench.report.significance import (cohens_d, cohens_dz, holm, mean_ci, paired_t, sign_flip, sign_flip_p,
                                       welch)

# Constant differences are cases with known answers; scipy warns that their variance is (exactly) zero.
pytestmark = pytest.mark.filterwarnings("ignore:Precision loss:RuntimeWarning")


def test_sign_flip_counts_the_patterns_at_least_as_extreme():
    assert sign_flip_p(np.array([0.1, 0.2, 0.3, 0.4, 0.5])) == 1 / 32  # only the observed pattern
    assert sign_flip_p(np.full(5, 0.5)) == 1 / 32  # ties with the observed sum count, and only it ties
    # the sum is 5 - 2 x (number of minus signs): at least the observed 3 with at most one minus, 6 of 32;
    # at most 3 with at least one minus, 31 of 32
    assert sign_flip_p(np.array([1.0, 1, 1, 1, -1])) == 6 / 32
    assert sign_flip_p(np.array([1.0, 1, 1, 1, -1]), "less") == 31 / 32
    assert sign_flip_p(np.zeros(4)) == 1.0


def test_paired_t_is_scipys_ttest_rel_and_constant_differences_give_p_zero():
    first, second = np.array([0.30, 0.25, 0.41, 0.33, 0.29]), np.array([0.20, 0.22, 0.30, 0.31, 0.18])
    expected = stats.ttest_rel(first, second, alternative="greater").pvalue
    assert paired_t(first - second, "greater", 0.05) == pytest.approx(expected)
    assert paired_t(np.full(5, 0.5), "greater", 0.05) == 0.0


def test_tost_inside_and_outside_the_margin():
    inside = np.array([0.01, -0.02, 0.015, 0.0, -0.005, 0.01])
    outside = inside + 0.2
    assert paired_t(inside, "equivalent", 0.05) < 0.01
    assert paired_t(outside, "equivalent", 0.05) > 0.99
    lower = stats.ttest_1samp(inside, -0.05, alternative="greater").pvalue
    upper = stats.ttest_1samp(inside, 0.05, alternative="less").pvalue
    assert paired_t(inside, "equivalent", 0.05) == pytest.approx(max(lower, upper))
    # d + 0.05 all positive and d - 0.05 all negative: each side's only extreme pattern is the observed one
    assert sign_flip(np.full(5, 0.01), "equivalent", 0.05) == 1 / 32
    assert sign_flip(np.full(5, 0.25), "equivalent", 0.05) == 1.0


def test_welch_is_scipys_and_its_tost_shifts_the_second_arm():
    a, b = np.array([0.30, 0.32, 0.28, 0.31]), np.array([0.10, 0.12, 0.09, 0.11])
    assert welch(a, b, "greater", 0.05) == pytest.approx(
        stats.ttest_ind(a, b, equal_var=False, alternative="greater").pvalue)
    assert welch(a, a + 0.001, "equivalent", 0.05) < 0.01
    assert welch(a, b, "equivalent", 0.05) > 0.99


def test_interval_and_effect_sizes_follow_their_definitions():
    assert mean_ci(np.full(4, 0.5)) == (0.5, 0.5)
    d = np.array([0.1, 0.3, 0.2, 0.4])
    assert mean_ci(d) == pytest.approx(stats.t.interval(0.95, 3, loc=d.mean(), scale=stats.sem(d)))
    assert cohens_dz(d) == pytest.approx(0.25 / np.std(d, ddof=1))
    assert cohens_dz(np.full(3, 0.5)) == np.inf
    assert cohens_d(np.array([1.0, 3.0]), np.array([0.0, 2.0])) == pytest.approx(1 / np.sqrt(2))


def test_holm_on_known_p_values():
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])
    # a contrast without a test still counts in the family's size
    adjusted = holm([0.01, np.nan])
    assert adjusted[0] == pytest.approx(0.02) and np.isnan(adjusted[1])
