"""Bug: NumPy interface; db2 is the mean of dz2 over the batch instead of the sum, so it is off by a factor N.

Copied from correct_numpy.py with this one bug.
"""
import numpy as np

ACTIVATIONS = ("relu", "sigmoid", "identity")
LOSSES = ("mse", "bce")
REDUCTIONS = ("sum", "mean")


def _check(name, value, allowed):
    if value not in allowed:
        raise ValueError(f"{name}: expected one of {allowed}, got {value!r}")
    return value


def _act(name, z):
    if name == "relu":
        return np.maximum(z, 0)
    if name == "sigmoid":
        # exp(-|z|) never overflows; the two branches are the same function.
        e = np.exp(-np.abs(z))
        return np.where(z >= 0, 1 / (1 + e), e / (1 + e))
    return z


def _act_grad(name, dout, z, out):
    """dL/dz from dL/dout; ReLU'(0) = 0 as in torch."""
    if name == "relu":
        return dout * (z > 0)
    if name == "sigmoid":
        return dout * out * (1 - out)
    return dout


class MLP:
    def __init__(self, n_in, n_hidden, n_out, f="relu", g="identity", loss="mse", reduction="sum",
                 dtype="float64", seed=0):
        self.f = _check("f", f, ACTIVATIONS)
        self.g = _check("g", g, ACTIVATIONS)
        self.loss_name = _check("loss", loss, LOSSES)
        self.reduction = _check("reduction", reduction, REDUCTIONS)
        self.dtype = np.dtype(dtype)
        rng = np.random.default_rng(seed)
        self.params = {}
        for i, (fan_out, fan_in) in ((1, (n_hidden, n_in)), (2, (n_out, n_hidden))):
            bound = 1 / np.sqrt(fan_in)
            self.params[f"W{i}"] = rng.uniform(-bound, bound, (fan_out, fan_in)).astype(self.dtype)
            self.params[f"b{i}"] = rng.uniform(-bound, bound, fan_out).astype(self.dtype)
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.cache = None
        self.dy_hat = None

    def set_params(self, params):
        for k in self.params:
            self.params[k] = np.array(params[k], dtype=self.dtype)

    def forward(self, x):
        p = self.params
        z1 = x @ p["W1"].T + p["b1"]
        h = _act(self.f, z1)
        z2 = h @ p["W2"].T + p["b2"]
        y_hat = _act(self.g, z2)
        self.cache = (x, z1, h, z2, y_hat)
        return y_hat

    def loss(self, y_hat, y):
        """The loss as a float; keeps dL/dy_hat for backward. "mean" divides by N K, as torch."""
        scale = 1 if self.reduction == "sum" else 1 / y.size
        if self.loss_name == "mse":
            diff = y_hat - y
            self.dy_hat = 2 * diff * scale
            return float(np.sum(diff * diff) * scale)
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(y_hat), -100)
            log_1mp = np.maximum(np.log(1 - y_hat), -100)
        self.dy_hat = (y_hat - y) / np.maximum(y_hat * (1 - y_hat), 1e-12) * scale
        return float(-np.sum(y * log_p + (1 - y) * log_1mp) * scale)

    def zero_grad(self):
        for d in self.grads.values():
            d[...] = 0

    def backward(self):
        x, z1, h, z2, y_hat = self.cache
        dz2 = _act_grad(self.g, self.dy_hat, z2, y_hat)
        dz1 = _act_grad(self.f, dz2 @ self.params["W2"], z1, h)
        self.grads["W2"] += dz2.T @ h
        self.grads["b2"] += dz2.mean(axis=0)
        self.grads["W1"] += dz1.T @ x
        self.grads["b1"] += dz1.sum(axis=0)

    def step(self, lr):
        for k, W in self.params.items():
            W -= lr * self.grads[k]
