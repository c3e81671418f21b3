"""Every tolerance table pinned from both sides, through the code that uses it.

For each entry, an error of a known size is planted where one term of the allowance dominates: twice
the stated allowance must fail, half of it must pass, and the reported headroom (error / allowance)
must sit within 15% of what the stated numbers give. So loosening or tightening any entry 3x breaks a
test here: a looser entry lets the 2x error pass, a tighter one moves the headroom out of its band.

The stated numbers below are the documented ones (docs/parity.md, docs/grading.md), written here
by hand, not read from mlp_ref.tolerances.
"""
import numpy as np
import pytest

from mlp_ref import gradcheck
from mlp_ref.compare import compare
from mlp_ref.explain import derivation as explain
from mlp_ref.explain import input as explain_input
from mlp_ref.grader import verdict
from mlp_ref.tolerances import tolerance

# (rtol, atol): the parity table, torch.testing's float32 defaults and 1e-12 in float64.
PARITY = {"float64": (1e-12, 1e-12), "float32": (1.3e-6, 1e-5)}
# (rtol, scale, noise_factor): the grading table.
GRADING = {"float32": (3e-5, 3e-5, 20.0), "float64": (1e-9, 1e-9, 20.0)}
FINITE_DIFFERENCES = (1e-6, 1e-8)
HAND_WORKED = (1e-3, 1e-4)
BAND = 0.15


def assert_pinned(result, error, allowance, k):
    """result: a Comparison for an error of `error` where the stated allowance is `allowance` (k = error / allowance)."""
    assert result.ok is (k < 1), f"an error {k}x the stated allowance: ok={result.ok}, headroom {result.headroom:.3g}"
    assert abs(result.headroom / k - 1) <= BAND, (
        f"headroom {result.headroom:.4g} for an error {k}x the stated allowance {allowance:.3g}: the table moved")


# --- parity: |numpy - torch| <= atol + rtol |torch| -------------------------------------------------------
@pytest.mark.parametrize("k", [0.5, 2.0])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_parity_rtol_pinned(dtype, k):
    rtol, atol = PARITY[dtype]
    # |torch| large enough that rtol's term is > 99% of the allowance.
    e = np.array([1e6 if dtype == "float64" else 1e4, 3.0], dtype=dtype)
    allowance = atol + rtol * float(e[0])
    a = e.copy()
    a[0] = np.asarray(float(e[0]) + k * allowance, dtype)
    err = abs(float(a[0]) - float(e[0]))  # what survives rounding to the dtype
    assert_pinned(compare("q", a, e, tolerance(dtype)), err, allowance, err / allowance)


@pytest.mark.parametrize("k", [0.5, 2.0])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_parity_atol_pinned(dtype, k):
    rtol, atol = PARITY[dtype]
    e = np.array([0.0, 1e-30], dtype=dtype)  # atol alone: rtol |0| is nothing
    a = e.copy()
    a[0] = k * atol
    err = float(np.asarray(k * atol, dtype))
    assert_pinned(compare("q", a, e, tolerance(dtype)), err, atol, err / atol)


# --- grading: rtol |q_i| + scale max|q| + noise_factor noise_i -------------------------------------------
def _graded(dtype, e, i, error, noise=None):
    a = e.copy()
    a[i] = a[i] + np.asarray(error, dtype)
    c, _, _ = verdict.compare_one("dW1", a, e, noise)
    return c, abs(float(a[i]) - float(e[i]))


@pytest.mark.parametrize("k", [0.5, 2.0])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_grading_scale_pinned_on_an_element_near_zero(dtype, k):
    """An element that cancels to 0 is allowed scale * max|q|, whatever rtol is."""
    rtol, scale, _ = GRADING[dtype]
    e = np.array([[1.0, -0.5], [0.0, 0.25]], dtype=dtype)
    allowance = scale * 1.0
    c, err = _graded(dtype, e, (1, 0), k * allowance)
    assert_pinned(c, err, allowance, err / allowance)


@pytest.mark.parametrize("k", [0.5, 2.0])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_grading_rtol_pinned_on_the_largest_element(dtype, k):
    """The largest element is allowed (rtol + scale) |q|: rtol loosened 3x doubles that, and tightened 3x
    moves the headroom out of its band."""
    rtol, scale, _ = GRADING[dtype]
    e = np.array([[4.0, -0.5], [0.0, 0.25]], dtype=dtype)
    allowance = (rtol + scale) * 4.0
    c, err = _graded(dtype, e, (0, 0), k * allowance)
    assert_pinned(c, err, allowance, err / allowance)


@pytest.mark.parametrize("k", [0.5, 2.0])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_grading_noise_factor_pinned(dtype, k):
    """Where the case's measured noise dominates, the allowance is noise_factor * noise_i."""
    rtol, scale, factor = GRADING[dtype]
    e = np.array([1e-3, 0.0, -1e-3], dtype=dtype)
    noise = np.array([0.0, 1e-4, 0.0])  # 20 * 1e-4 dwarfs the scale term (3e-8 / 1e-12)
    allowance = factor * 1e-4 + scale * 1e-3
    c, err = _graded(dtype, e, 1, k * allowance, noise)
    assert_pinned(c, err, allowance, err / allowance)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_grading_without_noise_is_not_looser_than_the_table(dtype):
    """Negative control for the noise test: the same error with no measured noise fails by far."""
    _, scale, factor = GRADING[dtype]
    e = np.array([1e-3, 0.0, -1e-3], dtype=dtype)
    c, _ = _graded(dtype, e, 1, 0.5 * factor * 1e-4)
    assert not c.ok and c.headroom > 100


# --- finite differences (mlp_ref.gradcheck's default) and hand-worked numbers (explain --input) ------------
C = np.array([2.0, 0.0, -1.5])


def _linear(x):
    return x * C, None


@pytest.mark.parametrize("k", [0.5, 2.0])
@pytest.mark.parametrize("term", ["rtol", "atol"])
def test_finite_difference_tolerance_pinned(term, k):
    """check_layer on x * C, whose central difference is exact to ~1e-10: an analytic gradient off by a
    known amount, at an element where rtol dominates (|g| = 2) or where atol alone counts (g = 0)."""
    rtol, atol = FINITE_DIFFERENCES
    i = 0 if term == "rtol" else 1
    dout = np.random.default_rng(0).standard_normal(3)
    g = dout * C
    allowance = atol + rtol * abs(g[i])
    planted = g.copy()
    planted[i] += k * allowance
    (c,) = gradcheck.check_layer(_linear, lambda d, cache: d * C + (planted - g), [np.ones(3)], seed=0)
    assert_pinned(c, k * allowance, allowance, k)


@pytest.mark.parametrize("k", [0.5, 2.0])
@pytest.mark.parametrize("term", ["rtol", "atol"])
def test_hand_worked_tolerance_pinned(term, k):
    """The tolerance explain --input applies when the student's file names none."""
    rtol, atol = HAND_WORKED
    tol, _ = explain_input.read_mine(explain.derive(explain.default_problem("sigmoid", "identity", "mse")), {})
    e = np.array([40.0, 0.0])  # rtol's term 40x atol's at 40; atol alone at 0
    i = 0 if term == "rtol" else 1
    allowance = atol + rtol * abs(e[i])
    a = e.copy()
    a[i] += k * allowance
    assert_pinned(compare("dW1", a, e, tol), k * allowance, allowance, k)
