"""compare(): shape and dtype before values, torch.testing's closeness with torch trusted, the worst
element the one furthest past its allowance, and non-finite values handled on purpose. compare_many():
each item of a batch gets exactly what it gets alone."""
import numpy as np
import pytest

from mlp_ref import compare as compare_module
from mlp_ref.compare import compare, compare_many
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


# --- compare_many: one batch, each item judged on its own values -------------------------------------------

def _fields(c):
    return repr(c.to_dict())  # repr: a NaN field equals a NaN field


def _items(rng, mix, n=60):
    """Items of every kind a batch meets: float32 and float64, 0-d to 3-d, empty, a wrong shape or dtype,
    integers, NaN and inf on either side, three tolerances, and elementwise allowances (full or broadcast).
    mix "one tolerance": no allowance and one tolerance; "allowances": every item has one (as grading)."""
    tols = [TOL] if mix == "one tolerance" else [TOL, tolerance("float32"), tolerance("float64")]
    items = []
    for k in range(n):
        shape = [(), (3,), (2, 3), (4, 1, 2), (0, 3)][rng.integers(5)]
        dtype = [np.float64, np.float32][rng.integers(2)]
        expected = (rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 4)).astype(dtype)
        noise = rng.choice([0.0, 1e-12, 1e-7, 1e-3, 1.0], size=shape)
        actual = (expected + noise * rng.standard_normal(shape)).astype(dtype)
        kind = rng.integers(10)
        if kind == 0 and actual.size:
            actual.flat[rng.integers(actual.size)] = rng.choice([np.nan, np.inf, -np.inf])
        elif kind == 1 and actual.size:
            i = rng.integers(actual.size)
            expected.flat[i] = actual.flat[i] = rng.choice([np.nan, np.inf])
        elif kind == 2:
            actual = actual.astype(np.float32 if dtype == np.float64 else np.float64)
        elif kind == 3 and actual.ndim:
            actual = actual.T.copy()
        elif kind == 4:
            actual, expected = (rng.integers(-3, 3, size=shape) for _ in range(2))
        item = ("q%d" % k, actual, expected, tols[rng.integers(len(tols))])
        if mix == "allowances" or (mix == "mixed" and kind in (5, 6)):
            allowed = 1e-4 if kind == 5 else rng.uniform(0, 1e-2, size=shape)
            item += (allowed, "a model")
        items.append(item)
    return items


@pytest.mark.parametrize("batch_elements", [compare_module.BATCH_ELEMENTS, 7])
@pytest.mark.parametrize("mix", ["mixed", "one tolerance", "allowances"])
@pytest.mark.parametrize("seed", range(3))
def test_each_item_of_a_batch_gets_what_it_gets_alone(seed, mix, batch_elements, monkeypatch):
    """Also with batches cut at 7 elements: several batches, an item larger than one alone."""
    monkeypatch.setattr(compare_module, "BATCH_ELEMENTS", batch_elements)
    items = _items(np.random.default_rng(seed), mix)
    together = compare_many(items)
    alone = [compare(*item[:4], allowed=item[4] if len(item) > 4 else None, model=item[5] if len(item) > 4 else "")
             for item in items]
    assert [_fields(c) for c in together] == [_fields(c) for c in alone]
    # The batch met every path: passes, value failures, non-finite errors, problems, empty, allowances.
    assert {c.ok for c in together} == {True, False}
    assert any(c.problem for c in together) and any(c.n_total == 0 for c in together if not c.problem)
    assert any(c.max_abs == np.inf for c in together)
    assert any(c.allowance is not None for c in together) is (mix != "one tolerance")


def test_an_items_worst_element_count_and_values_are_its_own_not_its_neighbours():
    big = ("big", np.array([0.0, 5.0]), np.zeros(2), TOL)
    small = ("small", np.array([0.0, 1e-3, 0.0]), np.zeros(3), TOL)
    broken = ("broken", np.array([np.nan]), np.array([1.0]), TOL)
    fine = ("fine", np.array([[1.0, 2.0]]), np.array([[1.0, 2.0]]), TOL)
    b, s, n, f = compare_many([big, small, broken, fine])
    assert (b.worst_index, b.max_abs, b.n_mismatched) == ((1,), 5.0, 1)
    assert (s.worst_index, s.max_abs, s.n_mismatched, s.actual) == ((1,), 1e-3, 1, 1e-3)
    assert (n.worst_index, n.max_abs, n.n_mismatched) == ((0,), np.inf, 1)
    assert f.ok and (f.max_abs, f.n_mismatched, f.headroom) == (0.0, 0, 0.0)
