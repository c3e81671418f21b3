"""The third oracle: central finite differences in float64, independent of torch.

    dL/dtheta_i ~ (L(theta + eps e_i) - L(theta - eps e_i)) / (2 eps)

Error of the estimate: O(eps^2) truncation + O(u / eps) rounding (u = 2.2e-16 the float64 unit
roundoff); eps = 1e-6 balances them near 1e-10 relative, so agreement is judged at rtol 1e-6,
atol 1e-8, four decades above that and four below any real bug. An estimate is meaningless where
a perturbation crosses a kink (ReLU or leaky ReLU at 0): the result counts the pre-activations
within reach of one, so a failure there can be told from a bug (the tests keep inputs off kinks).
"""
from typing import NamedTuple

import numpy as np

from mlp_ref import functional as fn
from mlp_ref.compare import compare
from mlp_ref.tolerances import FINITE_DIFFERENCES as FD_TOLERANCE

EPS = 1e-6
KINKED = ("relu", "leaky_relu")


class GradCheck(NamedTuple):
    """Per parameter: the Comparison of the analytic gradient against the estimate; kinks skipped."""
    comparisons: dict
    kinks: int

    @property
    def ok(self):
        return all(c.ok for c in self.comparisons.values())


def numerical_gradient(f, x, eps=EPS):
    """Central differences of the scalar function f() with respect to the array x, perturbed in place
    and restored exactly.   x: any shape -> same shape"""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        plus = f()
        x[i] = old - eps
        minus = f()
        x[i] = old
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def _near_kink(net, x, eps):
    """How many hidden pre-activations (z1 .. z_{L-1}) of a kinked f lie within reach of an eps-perturbation."""
    if net.f not in KINKED:
        return 0
    net.forward(x)
    # A change of eps in one parameter moves z1 by at most eps * max(|x|, 1); deeper layers see it
    # through weights of size ~1, so ten times that is a generous reach for the small test models.
    reach = eps * max(1.0, float(np.abs(x).max())) * 10
    f_input = "zn" if getattr(net, "norm", None) else "z"  # f acts on the norm's output where there is one
    return sum(int((np.abs(getattr(net.cache, f"{f_input}{l}")) < reach).sum()) for l in range(1, net.n_layers))


def check_model(net, x, y, eps=EPS, tol=FD_TOLERANCE):
    """Compare net.backward()'s gradients with finite differences of net.loss, for every parameter.

    The model must be float64 (finite differences in float32 would be noise). Gradients are zeroed first.
    In the model's mode: batch norm in training differentiates through the batch statistics; dropout
    keeps one mask for every evaluation (the first forward's, or the model's frozen ones), and the
    running statistics are put back as they were.
    """
    if net.dtype != "float64":
        raise TypeError(f"net.dtype: finite differences need a float64 model, got {net.dtype}")

    def loss():
        return net.loss(net.forward(x), y)

    buffers = {k: v.copy() for k, v in getattr(net, "buffers", {}).items()}
    freeze = bool(getattr(net, "dropout", 0)) and net.training and net._frozen_masks is None
    try:
        loss()
        if freeze:
            net.freeze_masks()
        loss()
        net.zero_grad()
        net.backward()
        analytic = {k: v.copy() for k, v in net.grads.items()}
        kinks = _near_kink(net, x, eps)
        comparisons = {}
        for name in net.param_names:
            estimate = numerical_gradient(loss, net.params[name], eps)
            comparisons[name] = compare(f"d{name}", analytic[name], estimate, tol)
        net.zero_grad()
    finally:
        if freeze:
            net.unfreeze_masks()
        for k, v in buffers.items():
            net.buffers[k][...] = v
    return GradCheck(comparisons, kinks)


def check_layer(forward, backward, inputs, seed=0, eps=EPS, tol=FD_TOLERANCE):
    """Check one forward/backward pair with a random upstream gradient dout, as CS231n does:
    the scalar L = sum(forward(*inputs) * dout) has dL/d(input) = backward(dout, cache).

    forward(*inputs) -> (out, cache); backward(dout, cache) -> one gradient or a tuple, one per input.
    Returns a Comparison per input.
    """
    inputs = [np.array(a, dtype=np.float64) for a in inputs]
    out, cache = forward(*inputs)
    dout = np.random.default_rng(seed).standard_normal(out.shape)
    grads = backward(dout, cache)
    grads = grads if isinstance(grads, tuple) else (grads,)
    result = []
    for i, (a, g) in enumerate(zip(inputs, grads)):
        estimate = numerical_gradient(lambda: float(np.sum(forward(*inputs)[0] * dout)), a, eps)
        result.append(compare(f"d(input {i})", g, estimate, tol))
    return result


def _running_stats(h, dtype):
    """Running statistics for evaluation-mode checks: means in [-0.5, 0.5), variances in [0.5, 1.5)."""
    k = np.arange(h, dtype=dtype) / max(h, 1)
    return k - 0.5, k + 0.5


def layer_pairs(negative_slope=0.01, mask=None, p=0.5):
    """Every forward/backward pair in functional, by name, for check_layer. The normalizations take
    (z, gamma, beta); dropout takes h alone, with a fixed 0/1 mask of h's shape (all kept by default)."""
    pairs = {name: (act.forward, act.backward) for name, act in fn.ACTIVATIONS.items()}
    pairs["leaky_relu"] = (lambda z: fn.leaky_relu_forward(z, negative_slope),
                           lambda d, c: fn.leaky_relu_backward(d, c, negative_slope))
    pairs["linear"] = (fn.linear_forward, fn.linear_backward)
    pairs["batchnorm"] = (fn.batchnorm_forward, fn.batchnorm_backward)
    # Evaluation mode with fixed statistics of the input's width: an affine map per feature.
    pairs["batchnorm_eval"] = (
        lambda z, gamma, beta: fn.batchnorm_eval_forward(z, gamma, beta, *_running_stats(z.shape[1], z.dtype)),
        fn.batchnorm_eval_backward)
    pairs["layernorm"] = (fn.layernorm_forward, fn.layernorm_backward)
    pairs["dropout"] = (lambda h: fn.dropout_forward(h, np.ones_like(h) if mask is None else mask, p),
                        fn.dropout_backward)
    return pairs
