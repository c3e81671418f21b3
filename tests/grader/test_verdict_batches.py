"""The grader compares a case's quantities in one batch: each allowance, each comparison and each note is
exactly what the quantity gets alone, and each tensor's allowance scales with its own largest element."""
import numpy as np
import pytest

from mlp_ref.grader import verdict
from mlp_ref.tolerances import GRADING


def _expected_and_noise(rng, n=40):
    """Tensors of every kind a case hands back: 0-d to 2-d, empty, both dtypes, NaN and inf among the
    expected values or the noise, noise absent, full or broadcast, and magnitudes decades apart."""
    out = []
    for _ in range(n):
        shape = [(), (3,), (4, 2), (0, 2)][rng.integers(4)]
        e = rng.standard_normal(shape) * 10.0 ** rng.integers(-4, 5)
        kind = rng.integers(6)
        if kind == 0 and e.size:
            e.flat[rng.integers(e.size)] = rng.choice([np.nan, np.inf, -np.inf])
        noise = None if kind == 1 else np.abs(rng.standard_normal(shape)) * 1e-7
        if kind == 2 and e.size:
            noise.flat[rng.integers(e.size)] = rng.choice([np.nan, np.inf])
        elif kind == 3:
            noise = 1e-6  # a scalar, broadcast
        out.append((e.astype(rng.choice([np.float32, np.float64])), noise))
    return out


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("seed", range(3))
def test_allowances_computed_together_are_each_what_it_gets_alone(seed, dtype):
    tol = GRADING[dtype]
    pairs = _expected_and_noise(np.random.default_rng(seed))
    together = tol.allowed_many([e for e, _ in pairs], [n for _, n in pairs])
    for (e, n), a in zip(pairs, together):
        alone = tol.allowed(e, n)
        assert a.shape == e.shape and a.dtype == np.float64
        np.testing.assert_array_equal(a, alone)  # NaN where NaN, bit for bit elsewhere


def test_each_tensors_scale_term_is_its_own_largest_element_not_the_batchs():
    rtol, scale = 3e-5, 3e-5  # the float32 table, as docs/grading.md states it
    big, small = np.array([100.0]), np.array([1.0, 0.0])
    _, a_small = GRADING["float32"].allowed_many([big, small], [None, None])
    assert a_small[1] == pytest.approx(scale * 1.0, rel=1e-12)  # not scale * 100
    assert a_small[0] == pytest.approx((rtol + scale) * 1.0, rel=1e-12)


def _entries(rng, n=30):
    """What case_check hands compare_graded: answers of the case's dtype, float32 in a float64 case,
    float64 in a float32 case, a one-element J, a wrong shape, NaN answers, probe (exact dtype) entries."""
    out = []
    names = ["y_hat", "J", "dJdy_hat", "dW2", "db2", "dW1", "db1"]
    for k in range(n):
        dtype = rng.choice([np.float32, np.float64])
        name = names[k % len(names)]
        shape = () if name == "J" else (4, 3)
        expected = (rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 3)).astype(dtype)
        actual = (expected + rng.choice([0.0, 1e-7, 1e-2]) * rng.standard_normal(shape)).astype(dtype)
        kind = rng.integers(6)
        if kind == 0:
            actual = actual.astype(np.float32 if dtype == np.float64 else np.float64)
        elif kind == 1 and name == "J":
            actual = actual.reshape(1, 1)
        elif kind == 2 and actual.ndim:
            actual = actual.T.copy()
        elif kind == 3 and actual.ndim:
            actual[0, 0] = np.nan
        noise = None if kind == 4 else np.full(shape, 1e-8)
        out.append((name, actual, expected, noise, bool(kind == 5)))
    return out


@pytest.mark.parametrize("seed", range(3))
def test_a_cases_comparisons_together_are_each_what_it_gets_alone(seed):
    entries = _entries(np.random.default_rng(seed))
    together = verdict.compare_graded(entries)
    alone = [verdict.compare_one(*entry) for entry in entries]
    assert [repr(c.to_dict()) for c, _, _ in together] == [repr(c.to_dict()) for c, _, _ in alone]
    assert [note for _, _, note in together] == [note for _, _, note in alone]
    for (_, a1, _), (_, a2, _) in zip(together, alone):
        assert a1.dtype == a2.dtype and a1.shape == a2.shape
        np.testing.assert_array_equal(a1, a2)
    # The batch met every path: passes and failures, problems, both tolerances, notes.
    cs = [c for c, _, _ in together]
    assert {c.ok for c in cs} == {True, False} and any(c.problem for c in cs)
    assert {c.rtol for c in cs} == {3e-5, 1e-9} and any(note for _, _, note in together)
