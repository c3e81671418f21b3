"""The battery: every case a submission is run on, with its inputs, built the same way in the parent
(which computes torch's answers) and in the child (which runs the submission).

    kind "loss"      J, dJdy_hat = loss(y, y_hat) alone, for given y and y_hat
    kind "backward"  forward(x), then backward(dJdy_hat) with a known random dJdy_hat
    kind "train"     `steps` x (forward, loss, backward, W <- W - lr dW, clear_grad_and_cache)
    kind "twice"     forward, loss, backward, clear_grad_and_cache, then the same again on the same x

Graded cases run in the assignment's dtype (float32 by default, torch's default dtype, as the course's
tests make their tensors). With float32 graded, every graded case is repeated in float64 as a probe on
the same (float32-rounded) inputs: never graded unless --strict, it tells rounding from a real error.
Sizes are non-square on purpose (D=5, H=4, K=3, N=6): a transposed gradient has the wrong shape.
Inputs are drawn in float64 and cast to the case's dtype.
"""
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np

# The homework interface's f and g: a subset of the one activation table, mlp_ref.functional.ACTIVATIONS.
ACTIVATIONS = ("relu", "sigmoid", "identity")
LOSSES = ("mse", "bce")
DTYPES = ("float32", "float64")  # the first is the default graded dtype
PROBE_DTYPE = "float64"
D, H, K, N = 5, 4, 3, 6
LR = 0.1
STEPS = 3
SECTIONS = ("loss", "backward", "end-to-end", "edge", "robustness", "probe")
# Confident predictions: y_hat this far from 0 or 1 (representable in float32, far from saturation),
# where a clamp or eps of 1e-3 moves dJdy_hat by more than 1/2 and eps <= 1e-7 by under 5e-4.
CONFIDENT = (2e-4, 5e-4)


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
    twin: str = ""  # for a probe: the id of the graded case it repeats in float64

    def array(self, name):
        """An input cast to the case's dtype (a fresh copy every call)."""
        return self.inputs[name].astype(self.dtype)

    @property
    def describe(self):
        parts = {"loss": f"{self.loss} loss alone", "backward": f"backward alone, f={self.f} g={self.g}",
                 "train": f"f={self.f} g={self.g} {self.loss}, {self.steps} step{'s' * (self.steps > 1)}",
                 "twice": f"f={self.f} g={self.g} {self.loss}, backward twice with clear_grad_and_cache between"}
        sizes = f"N={self.n} K={self.k}" if self.kind == "loss" else f"N={self.n} D={self.d} H={self.h} K={self.k}"
        return (f"{parts[self.kind]}; {sizes}; {self.dtype}" + (" probe" if self.twin else "")
                + (f"; {self.why}" if self.why else ""))

    def probe(self):
        """This case again in float64 on the same float32-rounded inputs, in the probe section."""
        inputs = {k: v.astype(np.float32).astype(np.float64) for k, v in self.inputs.items()}
        return replace(self, id=self.id.rsplit("/", 1)[0] + f"/{PROBE_DTYPE}-probe",
                       section="probe", dtype=PROBE_DTYPE, inputs=inputs, twin=self.id)


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


def _case(cases, rng, kind, section, f, g, loss, n, d=D, h=H, k=K, steps=1, why="", inputs=None, dtype=DTYPES[0]):
    inputs = inputs if inputs is not None else _model_inputs(rng, f, g, loss, n, d, h, k)
    # BCE's gradient grows as y_hat nears 0 or 1; a smaller step keeps g = relu or identity inside (0, 1).
    lr = LR / 10 if loss == "bce" and g != "sigmoid" else LR
    if kind == "backward":
        inputs["dJdy_hat"] = rng.standard_normal((n, k))
    tag = f"{kind}/{f}-{g}/{loss}/N{n}-D{d}-H{h}-K{k}" + (f"/{why.split(':')[0]}" if why else "")
    cases.append(Case(f"{tag}/{dtype}", kind, section, f, g, loss, n, d, h, k, dtype, steps=steps, lr=lr, why=why,
                      inputs=inputs))


def _loss_case(cases, rng, loss, n, k, why="", y_hat=None, y=None, section="loss", dtype=DTYPES[0]):
    if y_hat is None:
        y_hat = rng.standard_normal((n, k)) if loss == "mse" else rng.uniform(0.05, 0.95, (n, k))
    if y is None:
        y = rng.standard_normal((n, k)) if loss == "mse" else rng.uniform(0, 1, (n, k))
    tag = f"loss/{loss}/N{n}-K{k}" + (f"/{why.split(':')[0]}" if why else "")
    cases.append(Case(f"{tag}/{dtype}", "loss", section, "-", "-", loss, n, 0, 0, k, dtype, why=why,
                      inputs={"y_hat": y_hat, "y": y}))


def _confident(rng, shape):
    """Distances from 0 or 1 inside CONFIDENT."""
    return rng.uniform(*CONFIDENT, shape)


WHY_CONFIDENT = ("confident: y_hat within 1e-3 of 0 or 1 (representable, not saturated), where a clamp or eps "
                 "near 0/1 shows; torch clamps only the log, at -100")


def _confident_loss(rng):
    """BCE alone: columns 0 and 1 confident (near 1, near 0), labels right and wrong; column 2 ordinary."""
    y_hat = rng.uniform(0.05, 0.95, (N, K))
    y_hat[:, 0] = 1 - _confident(rng, N)
    y_hat[:, 1] = _confident(rng, N)
    y = rng.integers(0, 2, (N, K)).astype(np.float64)
    y[:2, 0], y[:2, 1] = (1.0, 0.0), (0.0, 1.0)  # each confident column: one right, one confidently wrong
    return y_hat, y


def _confident_model(rng, f):
    """Sigmoid output with z2 near +-8 in columns 0 and 1 (1 - y_hat or y_hat in CONFIDENT), column 2 ordinary."""
    p = _model_inputs(rng, f, "sigmoid", "bce", N, D, H, K)
    p["W2"] = p["W2"] * 0.05
    p["b2"] = np.array([8.0, -8.0, 0.0])
    y = rng.integers(0, 2, (N, K)).astype(np.float64)
    y[:2, 0], y[:2, 1] = (1.0, 0.0), (0.0, 1.0)
    p["y"] = y
    return p


@lru_cache(maxsize=4)
def build(seed=0, dtype=DTYPES[0]):
    """The whole battery as a tuple of Cases, the same for the same seed and graded dtype."""
    if dtype not in DTYPES:
        raise ValueError(f"dtype: expected one of {DTYPES}, got {dtype!r}")
    rng = np.random.default_rng(seed)
    cases = []
    for loss in LOSSES:
        for n in (1, N):
            _loss_case(cases, rng, loss, n, K, dtype=dtype)
    for f in ACTIVATIONS:
        for g in ACTIVATIONS:
            _case(cases, rng, "backward", "backward", f, g, "mse", N, dtype=dtype)
    for f in ACTIVATIONS:
        for g in ACTIVATIONS:
            for loss in LOSSES:
                for n in (1, N):
                    _case(cases, rng, "train", "end-to-end", f, g, loss, n, steps=STEPS, dtype=dtype)
    edge = dict(dtype=dtype)
    _case(cases, rng, "train", "edge", "relu", "identity", "mse", N, steps=2, inputs=_relu_zero_inputs(rng, "identity"),
          why="zero-preactivation: z1 has exact zeros, where ReLU'(0) = 0 as in torch", **edge)
    _case(cases, rng, "train", "edge", "relu", "relu", "mse", N, steps=2, inputs=_relu_zero_inputs(rng, "relu"),
          why="zero-preactivation: z1 and z2 have exact zeros, where ReLU'(0) = 0 as in torch", **edge)
    why_b = "broadcast: K = 1 targets of shape (N, 1), where y_hat - y.squeeze() or y.T broadcasts to (N, N)"
    for loss in LOSSES:
        _loss_case(cases, rng, loss, N, 1, why=why_b, section="edge", **edge)
    _case(cases, rng, "train", "edge", "relu", "identity", "mse", N, k=1, steps=2, why=why_b, **edge)
    _case(cases, rng, "train", "edge", "sigmoid", "sigmoid", "bce", N, k=1, steps=2, why=why_b, **edge)
    why_sq = "square: N = D = H = K, where a matrix product in place of an elementwise one runs instead of crashing"
    for f, g in (("relu", "sigmoid"), ("sigmoid", "identity")):
        _case(cases, rng, "train", "edge", f, g, "mse", 4, d=4, h=4, k=4, why=why_sq, **edge)
    for f, g in (("sigmoid", "identity"), ("relu", "sigmoid")):
        _case(cases, rng, "twice", "edge", f, g, "mse", N, why="twice: the second backward must not add onto the first",
              **edge)
    y_hat, y = _confident_loss(rng)
    _loss_case(cases, rng, "bce", N, K, why=WHY_CONFIDENT, y_hat=y_hat, y=y, section="edge", **edge)
    for f in ("relu", "sigmoid"):
        _case(cases, rng, "train", "edge", f, "sigmoid", "bce", N, steps=STEPS, inputs=_confident_model(rng, f),
              why=WHY_CONFIDENT, **edge)
    _robustness(cases, rng, dtype)
    if dtype != PROBE_DTYPE:
        cases += [c.probe() for c in cases if c.section != "robustness"]
    return tuple(cases)


def _robustness(cases, rng, dtype):
    """Inputs torch survives and naive code may not; reported, failing only under --strict."""
    # exp overflows past 88.7 in float32 and 709.8 in float64: the pre-activations reach beyond it.
    big = {"float32": 1.0, "float64": 10.0}[dtype]
    overflow = _model_inputs(rng, "sigmoid", "sigmoid", "mse", N, D, H, K)
    overflow["x"] = overflow["x"] * 80 * big
    overflow["W2"] = overflow["W2"] * 200 * big
    _case(cases, rng, "train", "robustness", "sigmoid", "sigmoid", "mse", N, inputs=overflow, dtype=dtype,
          why="overflow: |z1|, |z2| beyond where exp(|z|) overflows")
    y_hat = rng.uniform(0.05, 0.95, (N, K))
    y_hat[0], y_hat[1] = 0.0, 1.0
    y = rng.integers(0, 2, (N, K)).astype(np.float64)
    y[0, 0], y[1, 0] = 1.0, 0.0  # log(0) on a term that counts
    _loss_case(cases, rng, "bce", N, K, why="saturated: y_hat exactly 0 or 1, so log(0) and a division by 0 await",
               y_hat=y_hat, y=y, section="robustness", dtype=dtype)
    sat = _model_inputs(rng, "relu", "sigmoid", "bce", N, D, H, K)
    sat["b2"] = np.array([40.0, -40.0, 0.0])  # sigmoid(40) rounds to exactly 1.0 in float32 and float64
    _case(cases, rng, "train", "robustness", "relu", "sigmoid", "bce", N, inputs=sat, dtype=dtype,
          why="saturated: sigmoid outputs exactly 1.0, fed to BCE")


def by_id(seed=0, dtype=DTYPES[0]):
    return {c.id: c for c in build(seed, dtype)}
