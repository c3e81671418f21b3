"""Each forward/backward pair in functional: right against finite differences with a random upstream
gradient, right at the kinks, stable where a naive formula overflows, and pure."""
import warnings

import numpy as np
import pytest
import torch

from mlp_ref import functional as fn
from mlp_ref.gradcheck import check_layer, layer_pairs
from mlp_ref.tolerances import tolerance
from mlp_ref.compare import compare

PAIRS = layer_pairs(negative_slope=0.1)


def off_kink(rng, shape):
    """Standard normal values kept 0.01 away from 0, where ReLU's finite difference is meaningless."""
    z = rng.standard_normal(shape)
    return np.where(np.abs(z) < 0.01, 0.5, z)


NORMS = ("batchnorm", "batchnorm_eval", "layernorm")


def pair_inputs(name, rng, shape):
    """The inputs of one pair: (x, W, b) for linear, (z, gamma, beta) for a norm with gamma away from 1
    and beta away from 0, z alone otherwise."""
    n, d = shape
    if name == "linear":
        return [rng.standard_normal((n, d)), rng.standard_normal((d + 2, d)), rng.standard_normal(d + 2)]
    if name in NORMS:
        return [off_kink(rng, shape) * 3 + 1, rng.uniform(0.5, 2, d), rng.standard_normal(d)]
    return [off_kink(rng, shape)]


@pytest.mark.parametrize("name", sorted(PAIRS))
@pytest.mark.parametrize("shape", [(1, 3), (4, 5)])
def test_backward_matches_finite_differences_for_a_random_upstream_gradient(name, shape):
    rng = np.random.default_rng(7)
    inputs = pair_inputs(name, rng, shape)
    for c in check_layer(*PAIRS[name], inputs):
        assert c.ok, f"{name}: {c.name}\n{c.describe('analytic', 'numeric')}"


def test_gradient_checker_catches_a_wrong_derivative():
    """Negative control: sigmoid's backward with s instead of s (1 - s) must fail the check."""
    def wrong_backward(dout, cache):
        return dout * cache.out

    z = np.random.default_rng(0).standard_normal((4, 3))
    (c,) = check_layer(fn.sigmoid_forward, wrong_backward, [z])
    assert not c.ok and c.n_mismatched == c.n_total


def torch_grad(module, z, dout):
    t = torch.tensor(z, requires_grad=True)
    module(t).backward(torch.tensor(dout))
    return t.grad.numpy()


@pytest.mark.parametrize("name, module, expected_at_zero", [
    ("relu", torch.nn.ReLU(), 0.0),              # ReLU'(0) = 0
    ("leaky_relu", torch.nn.LeakyReLU(0.1), 0.1),  # LeakyReLU'(0) = slope
])
def test_derivative_at_the_kink_is_torchs(name, module, expected_at_zero):
    z = np.array([[-1.0, 0.0, 1.0, 0.0]])
    dout = np.ones_like(z)
    forward, backward = PAIRS[name]
    dz = backward(dout, forward(z)[1])
    assert dz[0, 1] == dz[0, 3] == expected_at_zero
    np.testing.assert_array_equal(dz, torch_grad(module, z, dout))


@pytest.mark.parametrize("name, module", [("sigmoid", torch.nn.Sigmoid()), ("softmax", torch.nn.Softmax(dim=1)),
                                          ("tanh", torch.nn.Tanh())])
def test_saturating_activations_are_stable_up_to_1e4(name, module):
    z = np.array([[-1e4, -50.0, 0.0, 50.0, 1e4], [1e4, 1e4 - 1, 3.0, -1e4, 0.0]])
    dout = np.random.default_rng(1).standard_normal(z.shape)
    forward, backward = PAIRS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow RuntimeWarning fails the test
        out, cache = forward(z)
        dz = backward(dout, cache)
    assert np.isfinite(out).all() and np.isfinite(dz).all()
    tol = tolerance("float64")
    expected = module(torch.tensor(z)).numpy()
    assert compare(name, out, expected, tol).ok
    assert compare(f"d{name}", dz, torch_grad(module, z, dout), tol).ok


@pytest.mark.parametrize("name", sorted(PAIRS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pairs_mutate_no_input_and_keep_the_dtype(name, dtype):
    rng = np.random.default_rng(3)
    inputs = [a.astype(dtype) for a in pair_inputs(name, rng, (4, 3))]
    before = [a.copy() for a in inputs]
    forward, backward = PAIRS[name]
    out, cache = forward(*inputs)
    dout = rng.standard_normal(out.shape).astype(dtype)
    dout_before = dout.copy()
    grads = backward(dout, cache)
    for a, b in zip(inputs + [dout], before + [dout_before]):
        np.testing.assert_array_equal(a, b)
    for g in (grads if isinstance(grads, tuple) else (grads,)) + (out,):
        assert g.dtype == np.dtype(dtype)
