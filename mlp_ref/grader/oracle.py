"""torch's answers for every case of the battery, computed in the grader's own process.

Keys match what the child reports: "J", "dJdy_hat" for a loss case; "<step>.<name>" otherwise, with
name in y_hat, J, dJdy_hat, dW1, db1, dW2, db2, and, for the diagnoses, the intermediates z1, h, z2,
dz2, dh, dz1 and the parameters W1, b1, W2, b2 the step started from. Every value is a numpy array of
the case's dtype; torch computes in that dtype (float64 and float32 separately).
"""
from functools import lru_cache

import numpy as np

from mlp_ref.grader import battery

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


def loss_case(case):
    import torch
    y = torch.tensor(case.array("y"))
    y_hat = torch.tensor(case.array("y_hat"), requires_grad=True)
    J = _loss_fn(case.loss)(y_hat, y)
    J.backward()
    return {"J": _np(J), "dJdy_hat": _np(y_hat.grad)}


def _step(case, params, x, y=None, dJdy_hat=None):
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
        J = _loss_fn(case.loss)(y_hat, torch.tensor(y))
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


def model_case(case):
    params = {k: case.array(k) for k in ("W1", "b1", "W2", "b2")}
    x = case.array("x")
    if case.kind == "backward":
        return {f"1.{k}": v for k, v in _step(case, params, x, dJdy_hat=case.array("dJdy_hat")).items()}
    y = case.array("y")
    out = {}
    for step in range(1, (2 if case.kind == "twice" else case.steps) + 1):
        res = _step(case, params, x, y)
        out.update({f"{step}.{k}": v for k, v in res.items()})
        if case.kind == "train":
            # W <- W - lr dW, in the case's dtype, as the grader applies it to the submission.
            lr = np.asarray(case.lr, dtype=case.dtype)
            params = {k: (v - lr * res[f"d{k}"]).astype(case.dtype) for k, v in params.items()}
    return out


def expected(case):
    """torch's answers for one case."""
    return loss_case(case) if case.kind == "loss" else model_case(case)


@lru_cache(maxsize=4)
def expected_all(seed=0):
    """{case id: torch's answers}, computed once per process and battery."""
    return {c.id: expected(c) for c in battery.build(seed)}
