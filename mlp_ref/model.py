"""The reference MLP: Linear1 -> f -> Linear2 -> g, trained in five explicit stages.

    z1 = x W1^T + b1      (N, H)        W1: (H, D)  b1: (H,)   torch nn.Linear layout (out, in)
    h  = f(z1)            (N, H)
    z2 = h W2^T + b2      (N, K)        W2: (K, H)  b2: (K,)
    y_hat = g(z2)         (N, K)

    y_hat = net.forward(x); value = net.loss(y_hat, y); net.zero_grad(); net.backward(); net.step(lr)
"""
from functools import partial
from typing import NamedTuple

import numpy as np

from mlp_ref import functional as fn
from mlp_ref import losses, validate

PARAM_NAMES = ("W1", "b1", "W2", "b2")
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


class MLP:
    """A two-layer perceptron whose every gradient is coded by hand.

    params, grads: dicts keyed W1, b1, W2, b2 (same shapes, the model's dtype).
    loss: "mse" | "bce" | "ce" (cross-entropy on softmax outputs, needs g="softmax"), reduced by
    reduction "sum" | "mean" as the matching torch loss does.
    """

    def __init__(self, n_in, n_hidden, n_out, f="relu", g="identity", loss="mse", reduction="sum",
                 dtype="float64", seed=0, *, init="torch", negative_slope=0.01):
        self.n_in = validate.positive_int("n_in", n_in)
        self.n_hidden = validate.positive_int("n_hidden", n_hidden)
        self.n_out = validate.positive_int("n_out", n_out)
        self.f = validate.choice("f", f, fn.HIDDEN_ACTIVATIONS)
        self.g = validate.choice("g", g, fn.OUTPUT_ACTIVATIONS)
        self.loss_name = validate.choice("loss", loss, losses.LOSSES)
        self.reduction = validate.choice("reduction", reduction, losses.REDUCTIONS)
        self.dtype = validate.dtype_name(dtype)
        self.negative_slope = float(negative_slope)
        if self.loss_name == "ce" and self.g != "softmax":
            raise ValueError(f"loss: 'ce' is cross-entropy on softmax outputs and needs g='softmax', got g={g!r}")
        self._f = self._activation(self.f)
        self._g = self._activation(self.g)
        self.params = self._init_params(validate.choice("init", init, INITS), seed)
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
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
            self.params[name] = params[name].copy()
        self.cache = None
        self._dloss = None
        return self

    # --- stage 1 -----------------------------------------------------------------------------
    def forward(self, x):
        """y_hat = g(f(x W1^T + b1) W2^T + b2).   x: (N, D) -> y_hat: (N, K); caches what backward needs."""
        validate.array("x", x, shape=(None, self.n_in), dtype=self.dtype, names=("N", "n_in"))
        for name in PARAM_NAMES:
            validate.finite(f"params[{name!r}]", self.params[name])
        z1, linear1 = fn.linear_forward(x, self.params["W1"], self.params["b1"])
        h, act1 = self._f.forward(z1)
        z2, linear2 = fn.linear_forward(h, self.params["W2"], self.params["b2"])
        y_hat, act2 = self._g.forward(z2)
        self.cache = ForwardCache(x, z1, h, z2, y_hat, linear1, act1, linear2, act2)
        self._dloss = None
        return y_hat

    # --- stage 2 -----------------------------------------------------------------------------
    def loss(self, y_hat, y):
        """The loss as a Python float; caches dL/dy_hat (dL/dz2 for softmax + ce, the fused form).

        y: (N, K) of the model's dtype for mse and bce; (N,) integer class indices for ce.
        """
        if self.cache is None:
            raise ValueError("loss() called before forward(): run y_hat = net.forward(x) first")
        n = self.cache.x.shape[0]
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
        for dW in self.grads.values():
            dW.fill(0)

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
        dh, dW2, db2 = fn.linear_backward(dz2, c.linear2)
        dz1 = self._f.backward(dh, c.act1)
        dW1, db1 = fn.linear_backward_params(dz1, c.linear1)  # dx is not needed: x is data
        for name, d in (("W1", dW1), ("b1", db1), ("W2", dW2), ("b2", db2)):
            self.grads[name] += d
        self._dloss = None
        return {"dy_hat": dy_hat, "dz2": dz2, "dh": dh, "dz1": dz1}

    # --- stage 5 -----------------------------------------------------------------------------
    def step(self, lr):
        """W <- W - lr * dW for every parameter, in place."""
        lr = validate.learning_rate(lr)
        for name, W in self.params.items():
            W -= lr * self.grads[name]

    def __repr__(self):
        return (f"MLP({self.n_in}, {self.n_hidden}, {self.n_out}, f={self.f!r}, g={self.g!r}, "
                f"loss={self.loss_name!r}, reduction={self.reduction!r}, dtype={self.dtype!r})")
