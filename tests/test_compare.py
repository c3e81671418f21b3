"""compare(): shape and dtype before values, torch.testing's closeness with torch trusted, the worst
element the one furthest past its allowance, and non-finite values handled on purpose."""
import numpy as np
import pytest

from mlp_ref.compare import compare
from mlp_ref.tolerances import Tolerance, tolerance

TOL = Tolerance(rtol=1e-6, atol=1e-8)


def test_shape_is_checked_before_values_and_a_transpose_is_named():
    c = compare("dW1", np.zeros((2, 3)), np.zeros((3, 2)), TOL)
    assert not c.ok and c.problem == "shape mismatch: got (2, 3), expected (3, 2) (the transpose)"


def test_dtype_is_checked_before_values():
    c = compare("y_hat", np.zeros(3, np.float32), np.zeros(3), TOL)
    assert not c.ok and c.problem == "dtype mismatch: got float32, expected float64"


def test_closeness_is_atol_plus_rtol_times_the_expected_value():
    expected = np.array([1000.0, 0.0])
    inside = compare("q", expected + [0.9e-3, 0.9e-8], expected, TOL)
    outside = compare("q", expected + [1.1e-3, 0.0], expected, TOL)
    assert inside.ok and inside.n_mismatched == 0
    assert not outside.ok and outside.n_mismatched == 1 and outside.worst_index == (0,)


def test_the_worst_element_is_the_one_furthest_past_its_own_allowance():
    # 1e-6 off on 1e3 is fine; 1e-7 off on 0 is not: the small element is the one to report.
    expected = np.array([1000.0, 0.0])
    c = compare("q", expected + [1e-6, 1e-7], expected, TOL)
    assert not c.ok and c.worst_index == (1,) and c.actual == 1e-7 and c.expected == 0.0
    assert c.max_abs == pytest.approx(1e-6)


def test_equal_infinities_and_nans_agree():
    values = np.array([np.inf, -np.inf, np.nan, 1.0])
    assert compare("q", values.copy(), values, TOL).ok


@pytest.mark.parametrize("actual, expected", [(-np.inf, np.inf), (np.nan, 0.0), (1.0, np.inf), (np.inf, 1e300)])
def test_any_other_non_finite_disagreement_is_a_mismatch(actual, expected):
    c = compare("q", np.array([0.5, actual]), np.array([0.5, expected]), TOL)
    assert not c.ok and c.n_mismatched == 1 and c.worst_index == (1,) and c.max_abs == np.inf


def test_the_message_gives_count_worst_index_both_values_and_the_allowance():
    tol = tolerance("float32")
    expected = np.arange(6, dtype=np.float32).reshape(2, 3)
    actual = expected.copy()
    actual[1, 2] += 0.5
    text = compare("dW2", actual, expected, tol).describe()
    assert text.splitlines() == ["  1 / 6 mismatched; worst |numpy - torch| = 0.5 at (1, 2); allowed 1e-05 + 1.3e-06*|torch|",
                                 "  numpy = 5.5   torch = 5"]


@pytest.mark.parametrize("actual, ok", [(2.0, True), (np.nan, False), (2.5, False)])
def test_a_zero_dimensional_value_such_as_a_loss(actual, ok):
    c = compare("loss", np.asarray(actual), np.asarray(2.0), TOL)
    assert c.ok is ok and c.worst_index == () and c.n_total == 1
