"""The battery: every case a submission is run on, with its inputs, built the same way in the parent
(which computes torch's answers) and in the child (which runs the submission).

    kind "loss"      J, dJdy_hat = loss(y, y_hat) alone, for given y and y_hat
    kind "backward"  forward(x), then backward(dJdy_hat) with a known random dJdy_hat
    kind "train"     `steps` x (forward, loss, backward, W <- W - lr dW, clear_grad_and_cache)
    kind "twice"     forward, loss, backward, clear_grad_and_cache, then the same again on the same x

Sizes are non-square on purpose (D=5, H=4, K=3, N=6): a transposed gradient has the wrong shape.
Inputs are drawn in float64 and cast, so the float32 cases see the rounded float64 values.
"""
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

ACTIVATIONS = ("relu", "sigmoid", "identity")
LOSSES = ("mse", "bce")
DTYPES = ("float64", "float32")
D, H, K, N = 5, 4, 3, 6
LR = 0.1
STEPS = 3
SECTIONS = ("loss", "backward", "end-to-end", "edge", "robustness")


@dataclass(frozen=True)
class Case:
    """One run of the submission. inputs: float64 arrays (W1, b1, W2, b2, x, y, dJdy_hat or y_hat)."""
    id: str
    kind: str
    section: str
    f: str
    g: str
    loss: str
    n: int
    d: int
    h: int
    k: int
    dtype: str
    steps: int = 1
    lr: float = LR
    why: str = ""
    inputs: dict = field(default_factory=dict, compare=False, repr=False)

    def array(self, name):
        """An input cast to the case's dtype (a fresh copy every call)."""
        return self.inputs[name].astype(self.dtype)

    @property
    def describe(self):
        parts = {"loss": f"{self.loss} loss alone", "backward": f"backward alone, f={self.f} g={self.g}",
                 "train": f"f={self.f} g={self.g} {self.loss}, {self.steps} step{'s' * (self.steps > 1)}",
                 "twice": f"f={self.f} g={self.g} {self.loss}, backward twice with clear_grad_and_cache between"}
        sizes = f"N={self.n} K={self.k}" if self.kind == "loss" else f"N={self.n} D={self.d} H={self.h} K={self.k}"
        return (f"{parts[self.kind]}; {sizes}; {self.dtype}"
                + (f"; {self.why}" if self.why else ""))


def _params(rng, d, h, k, *, out_scale=1.0, out_bias=None):
    """W uniform in +-1/sqrt(fan_in) * 2 (so sigmoid is not stuck near its linear part), b non-zero."""
    p = {"W1": rng.uniform(-2, 2, (h, d)) / np.sqrt(d), "b1": rng.uniform(-0.5, 0.5, h),
         "W2": out_scale * rng.uniform(-2, 2, (k, h)) / np.sqrt(h), "b2": rng.uniform(-0.5, 0.5, k)}
    if out_bias is not None:
        p["b2"] = np.full(k, out_bias)
    return p


def _targets(rng, loss, g, n, k):
    if loss == "bce":
        return rng.integers(0, 2, (n, k)).astype(np.float64)
    return rng.standard_normal((n, k)) if g == "identity" else rng.uniform(0, 1, (n, k))


def _model_inputs(rng, f, g, loss, n, d, h, k):
    # BCE needs y_hat in (0, 1): for g = relu or identity, a small W2 and b2 = 0.5 keep it near 0.5.
    small_out = loss == "bce" and g != "sigmoid"
    p = _params(rng, d, h, k, out_scale=0.02 if small_out else 1.0, out_bias=0.5 if small_out else None)
    return {**p, "x": rng.standard_normal((n, d)), "y": _targets(rng, loss, g, n, k)}


def _dyadic(rng, shape, denominator=4):
    """Small multiples of 1/denominator: every product and sum of a few of them is exact in float32."""
    return rng.integers(-4, 5, shape) / denominator


def _relu_zero_inputs(rng, g):
    """W1, b1, x with z1 exactly 0 in rows 0 and 1 (and, for g = relu, z2 exactly 0 in row 2)."""
    x, W1, W2 = _dyadic(rng, (N, D)), _dyadic(rng, (H, D)), _dyadic(rng, (K, H))
    x[1] = x[0]
    b1 = _dyadic(rng, H)
    b1[::2] = -(x[0] @ W1[::2].T)
    z1 = x @ W1.T + b1
    hid = np.maximum(z1, 0)
    b2 = _dyadic(rng, K)
    if g == "relu":
        b2[0] = -(hid[2] @ W2[0])
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2, "x": x, "y": _dyadic(rng, (N, K))}


def _case(cases, rng, kind, section, f, g, loss, n, d=D, h=H, k=K, steps=1, why="", inputs=None, dtypes=DTYPES):
    inputs = inputs if inputs is not None else _model_inputs(rng, f, g, loss, n, d, h, k)
    # BCE's gradient grows as y_hat nears 0 or 1; a smaller step keeps g = relu or identity inside (0, 1).
    lr = LR / 10 if loss == "bce" and g != "sigmoid" else LR
    if kind == "backward":
        inputs["dJdy_hat"] = rng.standard_normal((n, k))
    for dtype in dtypes:
        tag = f"{kind}/{f}-{g}/{loss}/N{n}-D{d}-H{h}-K{k}/{dtype}" + (f"/{why.split(':')[0]}" if why else "")
        cases.append(Case(tag, kind, section, f, g, loss, n, d, h, k, dtype, steps=steps, lr=lr, why=why, inputs=inputs))


def _loss_case(cases, rng, loss, n, k, why="", y_hat=None, y=None, section="loss", dtypes=DTYPES):
    if y_hat is None:
        y_hat = rng.standard_normal((n, k)) if loss == "mse" else rng.uniform(0.05, 0.95, (n, k))
    if y is None:
        y = rng.standard_normal((n, k)) if loss == "mse" else rng.uniform(0, 1, (n, k))
    for dtype in dtypes:
        tag = f"loss/{loss}/N{n}-K{k}/{dtype}" + (f"/{why.split(':')[0]}" if why else "")
        cases.append(Case(tag, "loss", section, "-", "-", loss, n, 0, 0, k, dtype, why=why,
                          inputs={"y_hat": y_hat, "y": y}))


@lru_cache(maxsize=4)
def build(seed=0):
    """The whole battery as a tuple of Cases, the same for the same seed."""
    rng = np.random.default_rng(seed)
    cases = []
    for loss in LOSSES:
        for n in (1, N):
            _loss_case(cases, rng, loss, n, K)
    for f in ACTIVATIONS:
        for g in ACTIVATIONS:
            _case(cases, rng, "backward", "backward", f, g, "mse", N)
    for f in ACTIVATIONS:
        for g in ACTIVATIONS:
            for loss in LOSSES:
                for n in (1, N):
                    _case(cases, rng, "train", "end-to-end", f, g, loss, n, steps=STEPS)
    _case(cases, rng, "train", "edge", "relu", "identity", "mse", N, steps=2, inputs=_relu_zero_inputs(rng, "identity"),
          why="zero-preactivation: z1 has exact zeros, where ReLU'(0) = 0 as in torch")
    _case(cases, rng, "train", "edge", "relu", "relu", "mse", N, steps=2, inputs=_relu_zero_inputs(rng, "relu"),
          why="zero-preactivation: z1 and z2 have exact zeros, where ReLU'(0) = 0 as in torch")
    why_b = "broadcast: K = 1 targets of shape (N, 1), where y_hat - y.squeeze() or y.T broadcasts to (N, N)"
    for loss in LOSSES:
        _loss_case(cases, rng, loss, N, 1, why=why_b, section="edge")
    _case(cases, rng, "train", "edge", "relu", "identity", "mse", N, k=1, steps=2, why=why_b)
    _case(cases, rng, "train", "edge", "sigmoid", "sigmoid", "bce", N, k=1, steps=2, why=why_b)
    why_sq = "square: N = D = H = K, where a matrix product in place of an elementwise one runs instead of crashing"
    for f, g in (("relu", "sigmoid"), ("sigmoid", "identity")):
        _case(cases, rng, "train", "edge", f, g, "mse", 4, d=4, h=4, k=4, why=why_sq)
    for f, g in (("sigmoid", "identity"), ("relu", "sigmoid")):
        _case(cases, rng, "twice", "edge", f, g, "mse", N, why="twice: the second backward must not add onto the first")
    _robustness(cases, rng)
    return tuple(cases)


def _robustness(cases, rng):
    """Inputs torch survives and naive code may not; reported, failing only under --strict."""
    overflow = _model_inputs(rng, "sigmoid", "sigmoid", "mse", N, D, H, K)
    overflow["x"] = overflow["x"] * 80
    overflow["W2"] = overflow["W2"] * 200
    _case(cases, rng, "train", "robustness", "sigmoid", "sigmoid", "mse", N, inputs=overflow, dtypes=("float32",),
          why="overflow: |z1|, |z2| > 88, where exp(|z|) overflows float32")
    y_hat = rng.uniform(0.05, 0.95, (N, K))
    y_hat[0], y_hat[1] = 0.0, 1.0
    y = rng.integers(0, 2, (N, K)).astype(np.float64)
    y[0, 0], y[1, 0] = 1.0, 0.0  # log(0) on a term that counts
    _loss_case(cases, rng, "bce", N, K, why="saturated: y_hat exactly 0 or 1, so log(0) and a division by 0 await",
               y_hat=y_hat, y=y, section="robustness")
    sat = _model_inputs(rng, "relu", "sigmoid", "bce", N, D, H, K)
    sat["b2"] = np.array([40.0, -40.0, 0.0])  # sigmoid(40) rounds to exactly 1.0 in float32
    _case(cases, rng, "train", "robustness", "relu", "sigmoid", "bce", N, inputs=sat, dtypes=("float32",),
          why="saturated: sigmoid outputs exactly 1.0 in float32 fed to BCE")


def by_id(seed=0):
    return {c.id: c for c in build(seed)}
