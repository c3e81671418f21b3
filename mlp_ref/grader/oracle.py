"""torch's answers for every case of the battery, computed in the grader's own process.

Keys match what the child reports: "J", "dJdy_hat" for a loss case; "<step>.<name>" otherwise, with
name in y_hat, J, dJdy_hat, dW1, db1, dW2, db2, and, for the diagnoses, the intermediates z1, h, z2,
dz2, dh, dz1 and the parameters W1, b1, W2, b2 the step started from. Every value is a numpy array of
the case's dtype; torch computes in that dtype.

Beside each answer, its noise (same keys, float64): how far the answer moves under what a correct
submission may legitimately do differently, measured on torch alone (see mlp_ref.tolerances, GRADING):
|torch float32 - torch float64| on the same inputs, scaled to the case's dtype, plus the move of torch's
float64 answer when BCE sees y_hat moved BCE_EPS toward 1/2.
"""
from dataclasses import replace
from functools import lru_cache

import numpy as np

from mlp_ref.grader import battery
from mlp_ref.tolerances import BCE_EPS, UNIT

FORWARD = ("z1", "h", "z2", "y_hat")
GRADS = ("dW1", "db1", "dW2", "db2")


def _act(name):
    import torch
    return {"relu": torch.relu, "sigmoid": torch.sigmoid, "identity": lambda z: z}[name]


def _loss_fn(name):
    import torch.nn.functional as F
    return {"mse": F.mse_loss, "bce": F.binary_cross_entropy}[name]


def _np(t):
    return t.detach().cpu().numpy().copy()


def _loss(case, y_hat, y, eps):
    """torch's loss; eps > 0 moves BCE's y_hat that far toward 1/2 (the legitimate-eps model)."""
    import torch
    if eps and case.loss == "bce":
        y_hat = y_hat + eps * torch.sign(0.5 - y_hat.detach())
    return _loss_fn(case.loss)(y_hat, y)


def loss_case(case, eps=0.0):
    import torch
    y = torch.tensor(case.array("y"))
    y_hat = torch.tensor(case.array("y_hat"), requires_grad=True)
    J = _loss(case, y_hat, y, eps)
    J.backward()
    return {"J": _np(J), "dJdy_hat": _np(y_hat.grad)}


def _step(case, params, x, y=None, dJdy_hat=None, eps=0.0):
    """One forward and backward in torch from `params` (numpy); the results of one step."""
    import torch
    W = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    z1 = torch.tensor(x) @ W["W1"].T + W["b1"]
    h = _act(case.f)(z1)
    z2 = h @ W["W2"].T + W["b2"]
    y_hat = _act(case.g)(z2)
    inter = {"z1": z1, "h": h, "z2": z2, "y_hat": y_hat}
    for t in inter.values():
        t.retain_grad()
    out = {}
    if dJdy_hat is None:
        J = _loss(case, y_hat, torch.tensor(y), eps)
        J.backward()
        out["J"] = _np(J)
        out["dJdy_hat"] = _np(y_hat.grad)
    else:
        y_hat.backward(torch.tensor(dJdy_hat))
    out.update({k: _np(t) for k, t in inter.items()})
    out.update({"dz2": _np(z2.grad), "dh": _np(h.grad), "dz1": _np(z1.grad)})
    out.update({f"d{k}": _np(t.grad) for k, t in W.items()})
    out.update({k: v.copy() for k, v in params.items()})
    return out


def model_case(case, eps=0.0):
    params = {k: case.array(k) for k in ("W1", "b1", "W2", "b2")}
    x = case.array("x")
    if case.kind == "backward":
        return {f"1.{k}": v for k, v in _step(case, params, x, dJdy_hat=case.array("dJdy_hat")).items()}
    y = case.array("y")
    out = {}
    for step in range(1, (2 if case.kind == "twice" else case.steps) + 1):
        res = _step(case, params, x, y, eps=eps)
        out.update({f"{step}.{k}": v for k, v in res.items()})
        if case.kind == "train":
            # W <- W - lr dW, in the case's dtype, as the grader applies it to the submission.
            lr = np.asarray(case.lr, dtype=case.dtype)
            params = {k: (v - lr * res[f"d{k}"]).astype(case.dtype) for k, v in params.items()}
    return out


def expected(case, eps=0.0):
    """torch's answers for one case."""
    return loss_case(case, eps) if case.kind == "loss" else model_case(case, eps)


def noise(case, answers=None, memo=None):
    """{key: float64 array}: the case's own noise under each answer (see the module docstring).

    memo: {(graded case id, dtype, eps): answers} shared by a case and its float64 probe, which see the
    same numbers, so the pair costs one float32 and one float64 run (and one moved BCE run), not four.
    """
    memo = {} if memo is None else memo
    answers = answers if answers is not None else expected(case)
    base = case.twin or case.id
    memo[(base, case.dtype, 0.0)] = answers
    # The numbers the case sees, in float64: torch in each dtype runs on exactly these.
    seen = {k: v.astype(case.dtype).astype(np.float64) for k, v in case.inputs.items()}

    def run(dtype, eps=0.0):
        key = (base, dtype, eps)
        if key not in memo:
            memo[key] = expected(replace(case, dtype=dtype, inputs=seen), eps)
        return memo[key]

    in32, in64 = run("float32"), run("float64")
    moved = run("float64", BCE_EPS) if case.loss == "bce" else in64
    scale = UNIT[case.dtype] / UNIT["float32"]
    out = {}
    with np.errstate(invalid="ignore", over="ignore"):
        for k in answers:
            n = scale * np.abs(in32[k].astype(np.float64) - in64[k]) + np.abs(moved[k] - in64[k])
            # Where torch itself is not finite there is no scale to speak of: robustness judges only finiteness.
            out[k] = np.where(np.isfinite(n), n, 0.0)
    return out


@lru_cache(maxsize=4)
def answers_all(seed=0, dtype=battery.DTYPES[0]):
    """{case id: (torch's answers, their noise)}, computed once per process, battery and graded dtype."""
    out, memo = {}, {}
    for c in battery.build(seed, dtype):
        # A probe's answers are its graded twin's float64 run, already made for the twin's noise.
        values = memo.get((c.twin, c.dtype, 0.0)) if c.twin else None
        values = values if values is not None else expected(c)
        out[c.id] = (values, noise(c, values, memo))
    return out


def expected_all(seed=0, dtype=battery.DTYPES[0]):
    """{case id: torch's answers}."""
    return {k: v for k, (v, _) in answers_all(seed, dtype).items()}
