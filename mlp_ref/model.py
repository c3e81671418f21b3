"""The reference MLP: Linear1 -> f -> Linear2 -> g, trained in five explicit stages.

    z1 = x W1^T + b1      (N, H)        W1: (H, D)  b1: (H,)   torch nn.Linear layout (out, in)
    h  = f(z1)            (N, H)
    z2 = h W2^T + b2      (N, K)        W2: (K, H)  b2: (K,)
    y_hat = g(z2)         (N, K)

    y_hat = net.forward(x); value = net.loss(y_hat, y); net.zero_grad(); net.backward(); net.step(lr)
"""
from functools import partial
from operator import is_
from typing import NamedTuple

import numpy as np

from mlp_ref import functional as fn
from mlp_ref import losses, memory, validate

PARAM_NAMES = ("W1", "b1", "W2", "b2")
# Formatted once: forward checks every parameter on every call, and an f-string per call costs.
_PARAM_ARGS = {name: f"params[{name!r}]" for name in PARAM_NAMES}
INITS = ("torch", "xavier")


class ForwardCache(NamedTuple):
    x: np.ndarray
    z1: np.ndarray
    h: np.ndarray
    z2: np.ndarray
    y_hat: np.ndarray
    linear1: fn.LinearCache
    act1: fn.ActCache
    linear2: fn.LinearCache
    act2: fn.ActCache


def _packed(arrays, dtype):
    """One contiguous array holding `arrays` end to end, and a dict of views into it, one per name."""
    flat = np.empty(sum(a.size for a in arrays.values()), dtype)
    views, start = {}, 0
    for name, a in arrays.items():
        views[name] = flat[start:start + a.size].reshape(a.shape)
        views[name][...] = a
        start += a.size
    return flat, views


class MLP:
    """A two-layer perceptron whose every gradient is coded by hand.

    params, grads: dicts keyed W1, b1, W2, b2 (same shapes, the model's dtype).
    Memory: params[k] and grads[k] are views into one contiguous array each, owned by the model,
    so the finite check, zero_grad and the SGD update are one NumPy call for the whole model.
    Assigning params[k] = A (or grads[k] = A) copies A's values into the model's array at the
    next stage, which puts its own view back; A itself is not updated. The only other workspaces
    have parameter shapes (this batch's gradients, lr * grads) and the model's fixed dtype, so no
    batch size or dtype change can leave them stale. Every batch-shaped array a stage returns
    (y_hat, the cache, backward's dict) is new at each call: holding one across calls is safe.
    loss: "mse" | "bce" | "ce" (cross-entropy on softmax outputs, needs g="softmax"), reduced by
    reduction "sum" | "mean" as the matching torch loss does.
    """

    def __init__(self, n_in, n_hidden, n_out, f="relu", g="identity", loss="mse", reduction="sum",
                 dtype="float64", seed=0, *, init="torch", negative_slope=0.01, max_memory=None):
        self.n_in = validate.positive_int("n_in", n_in)
        self.n_hidden = validate.positive_int("n_hidden", n_hidden)
        self.n_out = validate.positive_int("n_out", n_out)
        self.f = validate.choice("f", f, fn.HIDDEN_ACTIVATIONS)
        self.g = validate.choice("g", g, fn.OUTPUT_ACTIVATIONS)
        self.loss_name = validate.choice("loss", loss, losses.LOSSES)
        self.reduction = validate.choice("reduction", reduction, losses.REDUCTIONS)
        self.dtype = validate.dtype_name(dtype)
        self.negative_slope = validate.finite_real("negative_slope", negative_slope)
        seed = validate.seed("seed", seed)
        if self.loss_name == "ce" and self.g != "softmax":
            raise ValueError(f"loss: 'ce' is cross-entropy on softmax outputs and needs g='softmax', got g={g!r}")
        if self.loss_name == "bce" and self.g not in ("sigmoid", "softmax"):
            raise ValueError(f"g: 'bce' takes log(y_hat) and log(1 - y_hat), so it needs outputs in [0, 1]: "
                             f"expected g='sigmoid' (or 'softmax'), got g={g!r}")
        # Sizes are checked against memory before any array is made; forward checks each batch.
        widths = (self.n_in, self.n_hidden, self.n_out)
        self._max_memory = memory.default_limit() if max_memory is None else max_memory
        memory.check(f"MLP({self.n_in}, {self.n_hidden}, {self.n_out}, dtype={self.dtype!r})",
                     memory.model_bytes(widths, self.dtype), self._max_memory, "max_memory= sets the limit")
        self._batch_bytes = memory.batch_bytes(widths, 1, self.dtype)
        self._f = self._activation(self.f)
        self._g = self._activation(self.g)
        self._flat_params, self._param_views = _packed(
            self._init_params(validate.choice("init", init, INITS), seed), self.dtype)
        zeros = {k: np.zeros_like(v) for k, v in self._param_views.items()}
        self._flat_grads, self._grad_views = _packed(zeros, self.dtype)
        # This batch's gradients, before they are added into grads (torch accumulates too).
        self._flat_dparams, self._dparam_views = _packed(zeros, self.dtype)
        self._flat_update = np.empty_like(self._flat_params)  # lr * grads
        self.params = validate.FixedKeys("params", self._param_views)
        self.grads = validate.FixedKeys("grads", self._grad_views)
        self._param_list, self._grad_list = list(self.params.values()), list(self.grads.values())
        self.cache = None
        self._dloss = None

    def _activation(self, name):
        act = fn.ACTIVATIONS[name]
        if name == "leaky_relu":
            return fn.Activation(partial(act.forward, slope=self.negative_slope),
                                 partial(act.backward, slope=self.negative_slope))
        return act

    def _init_params(self, init, seed):
        # Drawn in float64 and then cast, so a float32 model starts from the rounded float64 one.
        rng = np.random.default_rng(seed)
        params = {}
        for i, (fan_out, fan_in) in ((1, (self.n_hidden, self.n_in)), (2, (self.n_out, self.n_hidden))):
            if init == "torch":
                # nn.Linear's default: W and b uniform in +-1/sqrt(fan_in).
                bound = 1 / np.sqrt(fan_in)
                W = rng.uniform(-bound, bound, (fan_out, fan_in))
                b = rng.uniform(-bound, bound, fan_out)
            else:
                bound = np.sqrt(6 / (fan_in + fan_out))
                W = rng.uniform(-bound, bound, (fan_out, fan_in))
                b = np.zeros(fan_out)
            params[f"W{i}"], params[f"b{i}"] = W.astype(self.dtype), b.astype(self.dtype)
        return params

    @property
    def shapes(self):
        """Expected shape of each parameter, in torch's (out, in) layout."""
        return {"W1": (self.n_hidden, self.n_in), "b1": (self.n_hidden,),
                "W2": (self.n_out, self.n_hidden), "b2": (self.n_out,)}

    def set_params(self, params):
        """Copy W1, b1, W2, b2 from a dict of arrays of the right shapes and the model's dtype."""
        if not isinstance(params, dict) or set(params) != set(PARAM_NAMES):
            got = sorted(params) if isinstance(params, dict) else type(params).__name__
            raise ValueError(f"params: expected a dict with keys {list(PARAM_NAMES)}, got {got}")
        for name, shape in self.shapes.items():
            validate.array(f"params[{name!r}]", params[name], shape=shape, dtype=self.dtype)
        for name in PARAM_NAMES:
            self._param_views[name][...] = params[name]
            self.params[name] = self._param_views[name]
        self.cache = None
        self._dloss = None
        return self

    # --- stage 1 -----------------------------------------------------------------------------
    def forward(self, x):
        """y_hat = g(f(x W1^T + b1) W2^T + b2).   x: (N, D) -> y_hat: (N, K); caches what backward needs."""
        validate.array("x", x, shape=(None, self.n_in), dtype=self.dtype, names=("N", "n_in"))
        if not 0 < x.shape[0] * self._batch_bytes <= self._max_memory:
            self._batch_too_large(x.shape[0])
        self._own()
        if not validate.surely_finite(self._flat_params):
            for name in PARAM_NAMES:
                validate.finite(_PARAM_ARGS[name], self.params[name])
        z1, linear1 = fn.linear_forward(x, self.params["W1"], self.params["b1"])
        h, act1 = self._f.forward(z1)
        z2, linear2 = fn.linear_forward(h, self.params["W2"], self.params["b2"])
        y_hat, act2 = self._g.forward(z2)
        self.cache = ForwardCache(x, z1, h, z2, y_hat, linear1, act1, linear2, act2)
        self._dloss = None
        return y_hat

    def _batch_too_large(self, n):
        if n == 0:
            raise ValueError(f"x: expected at least one sample, got shape (0, {self.n_in})")
        memory.check(f"forward on a batch of N={n}", n * self._batch_bytes, self._max_memory,
                     "max_memory= sets the limit")

    # --- stage 2 -----------------------------------------------------------------------------
    def loss(self, y_hat, y):
        """The loss as a Python float; caches dL/dy_hat (dL/dz2 for softmax + ce, the fused form).

        y: (N, K) of the model's dtype for mse and bce; (N,) integer class indices for ce.
        """
        if self.cache is None:
            raise ValueError("loss() called before forward(): run y_hat = net.forward(x) first")
        n = self.cache.x.shape[0]
        if y_hat is self.cache.y_hat:
            # forward's own output: its type, shape and dtype are known; only overflow can be new.
            validate.finite("y_hat", y_hat)
        else:
            validate.array("y_hat", y_hat, shape=(n, self.n_out), dtype=self.dtype, names=("N", "n_out"))
        if self.loss_name == "ce":
            validate.class_targets("y", y, n=n, n_classes=self.n_out)
            value, self._dloss = losses.cross_entropy(self.cache.z2, y, self.reduction)
        else:
            validate.array("y", y, shape=(n, self.n_out), dtype=self.dtype, names=("N", "n_out"))
            if self.loss_name == "bce":
                validate.probabilities("y", y)
                value, self._dloss = losses.bce(y_hat, y, self.reduction)
            else:
                value, self._dloss = losses.mse(y_hat, y, self.reduction)
        return float(value)

    # --- stage 3 -----------------------------------------------------------------------------
    def zero_grad(self):
        """Every gradient buffer to exactly 0."""
        self._own()
        self._flat_grads.fill(0)

    # --- stage 4 -----------------------------------------------------------------------------
    def backward(self):
        """ADD this batch's gradients into self.grads, as torch accumulates into .grad.

        Returns the intermediate gradients {dy_hat, dz2, dh, dz1} (dy_hat is None for softmax + ce).
        """
        if self.cache is None:
            raise ValueError("backward() called before forward(): run forward(x), then loss(y_hat, y)")
        if self._dloss is None:
            raise ValueError("backward() called before loss(): run loss(y_hat, y) after forward(x); "
                             "as in torch, each loss can be backpropagated once")
        c = self.cache
        if self.loss_name == "ce":
            dy_hat, dz2 = None, self._dloss
        else:
            dy_hat = self._dloss
            dz2 = self._g.backward(dy_hat, c.act2)
        d = self._dparam_views
        dh, _, _ = fn.linear_backward(dz2, c.linear2, out=(d["W2"], d["b2"]))
        dz1 = self._f.backward(dh, c.act1)
        fn.linear_backward_params(dz1, c.linear1, out=(d["W1"], d["b1"]))  # dx is not needed: x is data
        self._own()
        self._flat_grads += self._flat_dparams
        self._dloss = None
        return {"dy_hat": dy_hat, "dz2": dz2, "dh": dh, "dz1": dz1}

    # --- stage 5 -----------------------------------------------------------------------------
    def step(self, lr):
        """W <- W - lr * dW for every parameter, in place."""
        lr = validate.learning_rate(lr)
        self._own()
        np.multiply(self._flat_grads, lr, out=self._flat_update)
        self._flat_params -= self._flat_update

    def _own(self):
        """Put the model's own views back under params and grads, copying in the values of any
        entry assigned from outside (see the class docstring)."""
        # The common case, nothing reassigned, in two C-level passes: this runs at every stage.
        if all(map(is_, self.params.values(), self._param_list)) and \
                all(map(is_, self.grads.values(), self._grad_list)):
            return
        for what, entries, views in (("params", self.params, self._param_views),
                                     ("grads", self.grads, self._grad_views)):
            for name, view in views.items():
                if entries[name] is not view:
                    validate.array(f"{what}[{name!r}]", entries[name], shape=view.shape, dtype=self.dtype)
                    view[...] = entries[name]
                    entries[name] = view

    def __repr__(self):
        return (f"MLP({self.n_in}, {self.n_hidden}, {self.n_out}, f={self.f!r}, g={self.g!r}, "
                f"loss={self.loss_name!r}, reduction={self.reduction!r}, dtype={self.dtype!r})")
