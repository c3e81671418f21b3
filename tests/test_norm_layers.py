"""Batch norm, layer norm and dropout pairs: equal to torch's modules, forward and backward, in both
dtypes; each planted mistake of the classic derivations is caught, by torch and by finite differences."""
import numpy as np
import pytest
import torch

from mlp_ref import functional as fn
from mlp_ref.compare import compare
from mlp_ref.gradcheck import check_layer, layer_pairs
from mlp_ref.tolerances import tolerance

N, H = 6, 4


def inputs(dtype, rng=None, near_constant=False):
    """z with non-zero mean and unequal scales (and one near-constant column), gamma away from 1, beta
    away from 0, a random non-uniform dout (a uniform one makes batch norm's dz vanish)."""
    rng = rng or np.random.default_rng(11)
    z = rng.standard_normal((N, H)) * np.array([0.5, 1, 2, 4]) + np.array([1, -2, 0.3, 5])
    if near_constant:
        z[:, 0] = 0.7 + 1e-3 * rng.standard_normal(N)  # var ~1e-6: eps's place changes z_hat visibly
    gamma, beta = rng.uniform(0.5, 2, H), rng.standard_normal(H)
    dout = rng.standard_normal((N, H))
    return [a.astype(dtype) for a in (z, gamma, beta, dout)]


def torch_norm(module, z, gamma, beta, dout):
    """torch's output and (dz, dgamma, dbeta) for the module, its affine parameters set to gamma, beta."""
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(gamma))
        module.bias.copy_(torch.from_numpy(beta))
    zt = torch.from_numpy(z).requires_grad_(True)
    out = module(zt)
    out.backward(torch.from_numpy(dout))
    return [t.detach().numpy() for t in (out, zt.grad, module.weight.grad, module.bias.grad)]


def assert_matches(dtype, mine, theirs, names=("out", "dz", "dgamma", "dbeta")):
    tol = tolerance(dtype)
    for name, a, b in zip(names, mine, theirs):
        c = compare(name, a, b, tol)
        assert c.ok, c.describe("numpy", "torch")


def mismatches(dtype, mine, theirs, names=("out", "dz", "dgamma", "dbeta")):
    tol = tolerance(dtype)
    return [name for name, a, b in zip(names, mine, theirs) if not compare(name, a, b, tol).ok]


def ours(forward, backward, z, gamma, beta, dout, **kw):
    out, cache = forward(z, gamma, beta, **kw)
    return (out, *backward(dout, cache))


# A near-constant column in float32 is ill-conditioned for both sides (its variance loses ~4 digits to
# cancellation), so it is checked in float64, where eps's place is what it shows.
@pytest.mark.parametrize("dtype, near_constant", [("float64", False), ("float64", True), ("float32", False)])
def test_batchnorm_training_equals_torch(dtype, near_constant):
    z, gamma, beta, dout = inputs(dtype, near_constant=near_constant)
    bn = torch.nn.BatchNorm1d(H, eps=1e-5).to(getattr(torch, dtype)).train()
    assert_matches(dtype, ours(fn.batchnorm_forward, fn.batchnorm_backward, z, gamma, beta, dout),
                   torch_norm(bn, z, gamma, beta, dout))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_batchnorm_eval_equals_torch(dtype):
    z, gamma, beta, dout = inputs(dtype)
    mean, var = np.array([0.2, -1, 0, 4], dtype), np.array([0.5, 2, 1e-4, 9], dtype)
    bn = torch.nn.BatchNorm1d(H).to(getattr(torch, dtype)).eval()
    bn.running_mean.copy_(torch.from_numpy(mean))
    bn.running_var.copy_(torch.from_numpy(var))
    out, cache = fn.batchnorm_eval_forward(z, gamma, beta, mean, var)
    assert_matches(dtype, (out, *fn.batchnorm_eval_backward(dout, cache)), torch_norm(bn, z, gamma, beta, dout))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_layernorm_equals_torch(dtype):
    z, gamma, beta, dout = inputs(dtype)
    ln = torch.nn.LayerNorm(H, eps=1e-5).to(getattr(torch, dtype))
    assert_matches(dtype, ours(fn.layernorm_forward, fn.layernorm_backward, z, gamma, beta, dout),
                   torch_norm(ln, z, gamma, beta, dout))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_dropout_with_a_fixed_mask_equals_torch_with_that_mask(dtype):
    """torch's own dropout is inverted too: kept units times 1 / (1 - p). With the mask given, the twin's
    computation is h * mask / (1 - p), and its autograd gives the backward."""
    rng = np.random.default_rng(5)
    h, dout = rng.standard_normal((N, H)).astype(dtype), rng.standard_normal((N, H)).astype(dtype)
    mask, p = (rng.random((N, H)) >= 0.3).astype(dtype), 0.3
    out, cache = fn.dropout_forward(h, mask, p)
    ht = torch.from_numpy(h).requires_grad_(True)
    expected = ht * torch.from_numpy(mask) / (1 - p)
    expected.backward(torch.from_numpy(dout))
    assert_matches(dtype, (out, fn.dropout_backward(dout, cache)), (expected.detach().numpy(), ht.grad.numpy()),
                   names=("out", "dh"))
    assert out.dtype == np.dtype(dtype)
    assert np.all(out[mask == 0] == 0)


def test_dropout_gradcheck_with_a_fixed_mask():
    rng = np.random.default_rng(2)
    mask = (rng.random((N, H)) >= 0.5).astype(float)
    pairs = layer_pairs(mask=mask, p=0.5)
    (c,) = check_layer(*pairs["dropout"], [rng.standard_normal((N, H))])
    assert c.ok, c.describe("analytic", "numeric")


def test_batchnorm_of_a_batch_of_one_is_beta_with_zero_input_gradient():
    """One sample: z - mu = 0, so z_hat = 0 and dz = 0 (torch refuses this in training; the model does too)."""
    z, gamma, beta, dout = (a[:1] if a.ndim == 2 else a for a in inputs("float64"))
    out, dz, dgamma, dbeta = ours(fn.batchnorm_forward, fn.batchnorm_backward, z, gamma, beta, dout)
    np.testing.assert_array_equal(out[0], beta)
    np.testing.assert_array_equal(dz, np.zeros_like(dz))


# Negative controls: each a classic mistake, written here, caught against torch at the named quantity.

def _unbiased_forward(z, gamma, beta, eps=1e-5):
    out, cache = fn.batchnorm_forward(z, gamma, beta, eps)
    n = z.shape[0]
    inv_std = 1 / np.sqrt(cache.var * n / (n - 1) + eps)
    z_hat = (z - cache.mean) * inv_std
    return z_hat * gamma + beta, cache._replace(z_hat=z_hat, inv_std=inv_std)


def _eps_outside_forward(z, gamma, beta, eps=1e-5):
    out, cache = fn.batchnorm_forward(z, gamma, beta, 0.0)
    inv_std = 1 / (np.sqrt(cache.var) + eps)
    z_hat = (z - cache.mean) * inv_std
    return z_hat * gamma + beta, cache._replace(z_hat=z_hat, inv_std=inv_std)


def _layernorm_over_the_batch(z, gamma, beta, eps=1e-5):
    return fn.batchnorm_forward(z, gamma, beta, eps)


def _backward_without_the_mean_terms(dout, cache):
    dz, dgamma, dbeta = fn.batchnorm_backward(dout, cache)
    return dout * cache.gamma * cache.inv_std, dgamma, dbeta


def _dgamma_not_summed(dout, cache):
    dz, _, dbeta = fn.batchnorm_backward(dout, cache)
    return dz, (dout * cache.z_hat)[0], dbeta


@pytest.mark.parametrize("forward, backward, module, near_constant, first_wrong", [
    (_unbiased_forward, fn.batchnorm_backward, "batch", False, "out"),
    (_eps_outside_forward, fn.batchnorm_backward, "batch", True, "out"),
    (fn.batchnorm_forward, _backward_without_the_mean_terms, "batch", False, "dz"),
    (fn.batchnorm_forward, _dgamma_not_summed, "batch", False, "dgamma"),
    (_layernorm_over_the_batch, fn.batchnorm_backward, "layer", False, "out"),
], ids=["unbiased variance", "eps outside the sqrt", "dz without the mean terms", "dgamma not summed",
        "layer norm over the batch axis"])
def test_torch_catches_a_planted_normalization_mistake(forward, backward, module, near_constant, first_wrong):
    z, gamma, beta, dout = inputs("float64", near_constant=near_constant)
    m = torch.nn.BatchNorm1d(H).double().train() if module == "batch" else torch.nn.LayerNorm(H).double()
    wrong = mismatches("float64", ours(forward, backward, z, gamma, beta, dout), torch_norm(m, z, gamma, beta, dout))
    assert wrong and wrong[0] == first_wrong, wrong


def test_torch_catches_dropout_not_inverted():
    rng = np.random.default_rng(5)
    h = rng.standard_normal((N, H))
    mask, p = (rng.random((N, H)) >= 0.5).astype(float), 0.5
    out, _ = fn.dropout_forward(h, mask, p)
    assert not compare("out", h * mask, out, tolerance("float64")).ok


def test_finite_differences_catch_the_backward_without_the_mean_terms():
    z, gamma, beta, _ = inputs("float64")
    results = check_layer(fn.batchnorm_forward, _backward_without_the_mean_terms, [z, gamma, beta])
    assert not results[0].ok and results[1].ok and results[2].ok
