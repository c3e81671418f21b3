"""torch's answers for every case of the battery, computed in the grader's own process.

Keys match what the child reports: "J", "dJdy_hat" for a loss case; "<step>.<name>" otherwise, with
name in y_hat, J, dJdy_hat, dW1, db1, dW2, db2, and, for the diagnoses, the intermediates z1, h, z2,
dz2, dh, dz1 and the parameters W1, b1, W2, b2 the step started from. Every value is a numpy array of
the case's dtype; torch computes in that dtype.

Beside each answer, its noise (same keys, float64): how far the answer moves under what a correct
submission may legitimately do differently, measured on torch alone (see mlp_ref.tolerances, GRADING):
|torch float32 - torch float64| on the same inputs, scaled to the case's dtype, plus the moves of torch's
float64 answer under each place a legitimate BCE eps goes (BCE_MOVES).

The forward pass is written here rather than taken from the twin (mlp_ref.twin), on purpose: the
grader's answers must not rest on the model that parity checks the reference against, so a bug in
one cannot hide a bug in the other; and the battery grades configurations the reference refuses
(BCE after an unbounded g). The activations and losses are the twin's modules, named by the one
activation table (mlp_ref.functional.ACTIVATIONS).
"""
from dataclasses import replace
from functools import lru_cache

import numpy as np

from mlp_ref import vjp
from mlp_ref.packs.dlsp_hw1 import battery
from mlp_ref.tolerances import BCE_EPS, UNIT

FORWARD = ("z1", "h", "z2", "y_hat")
GRADS = ("dW1", "db1", "dW2", "db2")


def _act(name):
    """torch's module for the activation, from the one activation table (through the twin)."""
    from mlp_ref.twin import activation_module
    return activation_module(name)


def _loss_fn(name):
    """torch's loss module, mean-reduced as the homework's losses."""
    from mlp_ref.twin import LOSS_MODULES
    return LOSS_MODULES[name](reduction="mean")


def _np(t):
    return t.detach().cpu().numpy().copy()


# Where a legitimate BCE eps (BCE_EPS) goes, each moving torch's answer its own way: "toward_half", y_hat moved
# eps toward 1/2 (a clamp at eps); "logs", log(y_hat + eps) and log(1 - y_hat + eps), which move every term of
# J the same way (toward_half's moves partly cancel in the mean); "denominator", eps added to y_hat (1 - y_hat)
# in the fused gradient (y_hat - y) / (y_hat (1 - y_hat) + eps), which moves dJdy_hat by eps / (y_hat (1 - y_hat))
# relative even where y_hat is right (y = 0, y_hat near 0), where the other two change almost nothing.
BCE_MOVES = ("toward_half", "logs", "denominator")


def _loss(case, y_hat, y, move=None):
    """torch's loss; move = (where, eps) applies one legitimate BCE eps (BCE_MOVES), None applies none."""
    import torch
    if move is None or case.loss != "bce":
        return _loss_fn(case.loss)(y_hat, y)
    where, eps = move
    if where == "toward_half":
        return _loss_fn(case.loss)(y_hat + eps * torch.sign(0.5 - y_hat.detach()), y)
    if where == "logs":
        # torch's clamp of each log at -100, kept
        logs = y * torch.clamp(torch.log(y_hat + eps), min=-100) + (1 - y) * torch.clamp(torch.log(1 - y_hat + eps),
                                                                                          min=-100)
        return -logs.mean()
    J = _loss_fn(case.loss)(y_hat, y)
    p = y_hat.detach()
    # torch's gradient is (p - y) / max(p (1 - p), 1e-12) / (N K); adding (y_hat - p) * delta, which is exactly
    # 0 in value, turns it into (p - y) / (p (1 - p) + eps) / (N K) and leaves J as it is.
    delta = (p - y) / p.numel() * (1 / (p * (1 - p) + eps) - 1 / torch.clamp(p * (1 - p), min=1e-12))
    return J + ((y_hat - p) * delta).sum()


def loss_case(case, move=None):
    import torch
    y = torch.tensor(case.array("y"))
    y_hat = torch.tensor(case.array("y_hat"), requires_grad=True)
    J = _loss(case, y_hat, y, move)
    J.backward()
    return {"J": _np(J), "dJdy_hat": _np(y_hat.grad)}


def _step(case, params, x, y=None, dJdy_hat=None, move=None):
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
        J = _loss(case, y_hat, torch.tensor(y), move)
        J.backward()
        out["J"] = _np(J)
        out["dJdy_hat"] = _np(y_hat.grad)
    else:
        vjp.backward(y_hat, torch.tensor(dJdy_hat))
    out.update({k: _np(t) for k, t in inter.items()})
    out.update({"dz2": _np(z2.grad), "dh": _np(h.grad), "dz1": _np(z1.grad)})
    out.update({f"d{k}": _np(t.grad) for k, t in W.items()})
    out.update({k: v.copy() for k, v in params.items()})
    return out


def model_case(case, move=None):
    params = {k: case.array(k) for k in ("W1", "b1", "W2", "b2")}
    x = case.array("x")
    if case.kind == "backward":
        return {f"1.{k}": v for k, v in _step(case, params, x, dJdy_hat=case.array("dJdy_hat")).items()}
    y = case.array("y")
    out = {}
    for step in range(1, (2 if case.kind == "twice" else case.steps) + 1):
        res = _step(case, params, x, y, move=move)
        out.update({f"{step}.{k}": v for k, v in res.items()})
        if case.kind == "train":
            # W <- W - lr dW, in the case's dtype, as the grader applies it to the submission.
            lr = np.asarray(case.lr, dtype=case.dtype)
            params = {k: (v - lr * res[f"d{k}"]).astype(case.dtype) for k, v in params.items()}
    return out


def expected(case, move=None):
    """torch's answers for one case (move: one legitimate BCE eps applied, see BCE_MOVES)."""
    return loss_case(case, move) if case.kind == "loss" else model_case(case, move)


def noise(case, answers=None, memo=None):
    """{key: float64 array}: the case's own noise under each answer (see the module docstring).

    memo: {(graded case id, dtype, move): answers} shared by a case and its float64 probe, which see the
    same numbers, so the pair costs one float32 and one float64 run (and the moved BCE runs), not four.
    """
    memo = {} if memo is None else memo
    answers = answers if answers is not None else expected(case)
    base = case.twin or case.id
    memo[(base, case.dtype, None)] = answers
    # The numbers the case sees, in float64: torch in each dtype runs on exactly these.
    seen = {k: v.astype(case.dtype).astype(np.float64) for k, v in case.inputs.items()}

    def run(dtype, move=None):
        key = (base, dtype, move)
        if key not in memo:
            memo[key] = expected(replace(case, dtype=dtype, inputs=seen), move)
        return memo[key]

    in32, in64 = run("float32"), run("float64")
    # Each move is measured at float64's y_hat, the same for the graded case and its probe; they add up
    # because a file may combine them (eps in the logs for J and in the fused gradient's denominator).
    moved = [run("float64", (where, BCE_EPS)) for where in BCE_MOVES] if case.loss == "bce" else []
    scale = UNIT[case.dtype] / UNIT["float32"]
    out = {}
    with np.errstate(invalid="ignore", over="ignore"):
        for k in answers:
            n = scale * np.abs(in32[k].astype(np.float64) - in64[k]) + sum(np.abs(m[k] - in64[k]) for m in moved)
            # Where torch itself is not finite there is no scale to speak of: robustness judges only finiteness.
            out[k] = np.where(np.isfinite(n), n, 0.0)
    return out


@lru_cache(maxsize=4)
def answers_all(seed=0, dtype=battery.DTYPES[0]):
    """{case id: (torch's answers, their noise)}, computed once per process, battery and graded dtype."""
    out, memo = {}, {}
    for c in battery.build(seed, dtype):
        # A probe's answers are its graded twin's float64 run, already made for the twin's noise.
        values = memo.get((c.twin, c.dtype, None)) if c.twin else None
        values = values if values is not None else expected(c)
        out[c.id] = (values, noise(c, values, memo))
    return out


def expected_all(seed=0, dtype=battery.DTYPES[0]):
    """{case id: torch's answers}."""
    return {k: v for k, (v, _) in answers_all(seed, dtype).items()}
