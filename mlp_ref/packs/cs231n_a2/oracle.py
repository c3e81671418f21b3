"""torch's answer for every case: the graded truth, in float64, gradients by autograd.

The course's conventions are written here in torch (weights (D, M), means over N, the biased variance
in batch norm's statistics and running averages, momentum keeping 0.9 of the old value, L2 as
0.5 reg sum W^2); torch.nn.functional is used where it already means the same thing (cross-entropy).
Keys are the child's: "quantity@unit"; an input's key (x@affine_forward) expects it unchanged.
"""
import threading

import numpy as np
import torch
import torch.nn.functional as TF

from mlp_ref import vjp
from mlp_ref.packs.cs231n_a2.interface import BN_MOMENTUM, EPS, OPTIM_DEFAULTS
from mlp_ref.tolerances import UNIT

_dtype = threading.local()  # float64 for the answer; float32 once more to measure each case's noise


def _t(a, grad=False):
    dtype = getattr(_dtype, "value", np.float64)
    return torch.tensor(np.asarray(a, dtype=np.float64).astype(dtype), requires_grad=grad)


def _n(t):
    return t.detach().numpy().astype(np.float64)


def with_noise(answer, *args):
    """(answer in float64, its noise): each quantity's |float32 answer - float64 answer| scaled to float64's
    unit roundoff, as the homework's tolerance model measures it (a gradient that is 0 in exact
    arithmetic, b1's under batch norm, is then allowed its rounding)."""
    try:
        _dtype.value = np.float32
        low = answer(*args)
    finally:
        _dtype.value = np.float64
    high = answer(*args)
    scale = UNIT["float64"] / UNIT["float32"]
    with np.errstate(invalid="ignore", over="ignore"):
        noise = {k: np.abs(np.asarray(low[k], np.float64) - np.asarray(v, np.float64)) * scale for k, v in high.items()}
    return high, noise


def _backward(out, dout, leaves):
    """The gradients of sum(out * dout) with respect to each leaf (a random upstream gradient)."""
    grads = vjp.grad(out, leaves, _t(dout))
    return [_n(g) for g in grads]


def _inputs(case, unit, names):
    return {f"{k}@{unit}": np.asarray(case.inputs[k], dtype=np.float64) for k in names}


def _norm(x, gamma, beta, dim):
    mean = x.mean(dim=dim, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=dim, keepdim=True)  # biased, as the course normalizes and averages
    return gamma * (x - mean) / torch.sqrt(var + EPS) + beta, mean.squeeze(dim), var.squeeze(dim)


def affine(case):
    i = case.inputs
    x, w, b = _t(i["x"], True), _t(i["w"], True), _t(i["b"], True)
    out = x.reshape(x.shape[0], -1) @ w + b
    dx, dw, db = _backward(out, i["dout"], (x, w, b))
    return {"out@affine_forward": _n(out), "dx@affine_backward": dx, "dw@affine_backward": dw,
            "db@affine_backward": db, **_inputs(case, "affine_forward", "xwb"),
            **_inputs(case, "affine_backward", ("dout",))}


def relu(case):
    x = _t(case.inputs["x"], True)
    out = torch.relu(x)  # relu'(0) = 0
    (dx,) = _backward(out, case.inputs["dout"], (x,))
    return {"out@relu_forward": _n(out), "dx@relu_backward": dx, **_inputs(case, "relu_forward", "x"),
            **_inputs(case, "relu_backward", ("dout",))}


def _loss_answer(case, loss_of):
    name = case.group
    x = _t(case.inputs["x"], True)
    loss = loss_of(x, torch.as_tensor(case.inputs["y"]))
    (dx,) = torch.autograd.grad(loss, (x,))
    return {f"loss@{name}": _n(loss), f"dx@{name}": _n(dx), **_inputs(case, name, "x")}


def softmax_loss(case):
    return _loss_answer(case, lambda x, y: TF.cross_entropy(x, y))  # the mean over N


def svm_loss(case):
    def hinge(x, y):
        rows = torch.arange(x.shape[0])
        margins = torch.relu(x - x[rows, y].unsqueeze(1) + 1.0)  # a zero margin has subgradient 0
        keep = torch.ones_like(x)
        keep[rows, y] = 0
        return (margins * keep).sum() / x.shape[0]
    return _loss_answer(case, hinge)


def batchnorm(case):
    i, bn = case.inputs, case.inputs["bn_param"]
    x, gamma, beta = _t(i["x"], True), _t(i["gamma"], True), _t(i["beta"], True)
    d = i["x"].shape[1]
    running_mean = bn.get("running_mean", np.zeros(d))
    running_var = bn.get("running_var", np.zeros(d))
    ans = _inputs(case, "batchnorm_forward", ("x", "gamma", "beta"))
    if bn["mode"] == "test":
        out = gamma * (x - _t(running_mean)) / torch.sqrt(_t(running_var) + EPS) + beta
        return {**ans, "out@batchnorm_forward": _n(out), "running_mean@batchnorm_forward": running_mean,
                "running_var@batchnorm_forward": running_var}
    out, mean, var = _norm(x, gamma, beta, 0)
    ans.update({"out@batchnorm_forward": _n(out),
                "running_mean@batchnorm_forward": BN_MOMENTUM * running_mean + (1 - BN_MOMENTUM) * _n(mean),
                "running_var@batchnorm_forward": BN_MOMENTUM * running_var + (1 - BN_MOMENTUM) * _n(var)})
    dx, dgamma, dbeta = _backward(out, i["dout"], (x, gamma, beta))
    for unit in ("batchnorm_backward", "batchnorm_backward_alt"):
        ans.update({f"dx@{unit}": dx, f"dgamma@{unit}": dgamma, f"dbeta@{unit}": dbeta,
                    **_inputs(case, unit, ("dout",))})
    return ans


def layernorm(case):
    i = case.inputs
    x, gamma, beta = _t(i["x"], True), _t(i["gamma"], True), _t(i["beta"], True)
    out, _, _ = _norm(x, gamma, beta, 1)
    dx, dgamma, dbeta = _backward(out, i["dout"], (x, gamma, beta))
    return {"out@layernorm_forward": _n(out), "dx@layernorm_backward": dx, "dgamma@layernorm_backward": dgamma,
            "dbeta@layernorm_backward": dbeta, **_inputs(case, "layernorm_forward", ("x", "gamma", "beta")),
            **_inputs(case, "layernorm_backward", ("dout",))}


def optimizer(case):
    name, i = case.group, case.inputs
    config = {**OPTIM_DEFAULTS[name], **(i["config"] or {})}
    w, dw, lr = _t(i["w"]), _t(i["dw"]), config["learning_rate"]
    zeros = torch.zeros_like(w)
    ans = _inputs(case, name, ("w", "dw"))
    if name == "sgd":
        next_w = w - lr * dw
    elif name == "sgd_momentum":
        v = config["momentum"] * _t(config.get("velocity", zeros)) - lr * dw
        next_w, ans[f"velocity@{name}"] = w + v, _n(v)
    elif name == "rmsprop":
        c = config["decay_rate"] * _t(config.get("cache", zeros)) + (1 - config["decay_rate"]) * dw ** 2
        next_w, ans[f"cache@{name}"] = w - lr * dw / (torch.sqrt(c) + config["epsilon"]), _n(c)
    else:
        b1, b2, t = config["beta1"], config["beta2"], config["t"] + 1  # t incremented before use
        m = b1 * _t(config.get("m", zeros)) + (1 - b1) * dw
        v = b2 * _t(config.get("v", zeros)) + (1 - b2) * dw ** 2
        next_w = w - lr * (m / (1 - b1 ** t)) / (torch.sqrt(v / (1 - b2 ** t)) + config["epsilon"])
        ans.update({f"m@{name}": _n(m), f"v@{name}": _n(v), f"t@{name}": np.float64(t)})
    ans[f"next_w@{name}"] = _n(next_w)
    return ans


def model(case, masks=(), keep=1.0, layers=2, norm_first=True):
    """FullyConnectedNet's loss (softmax + 0.5 reg sum W^2), every gradient, and its test-mode scores.

    masks: one (N, H) keep mask per hidden layer, in order, for the dropout configuration (the model's
    own, read from its run); keep: their keep probability. norm_first=False: ReLU before the norm (a
    mistake's shape, for the diagnoses).
    """
    i, config = case.inputs, case.inputs["config"]
    p = {k: _t(v, True) for k, v in i["params"].items()}
    X, y = _t(i["X"]), torch.as_tensor(i["y"])

    def forward(train):
        h = X.reshape(X.shape[0], -1)
        for layer in range(1, layers + 1):
            h = h @ p[f"W{layer}"] + p[f"b{layer}"]
            if not norm_first:
                h = torch.relu(h)
            if config in ("batchnorm", "layernorm"):
                h, _, _ = _norm(h, p[f"gamma{layer}"], p[f"beta{layer}"], 0 if config == "batchnorm" else 1)
            if norm_first:
                h = torch.relu(h)
            if config == "dropout" and train:
                h = h * _t(masks[layer - 1]) / keep
        return h @ p[f"W{layers + 1}"] + p[f"b{layers + 1}"]

    scores = forward(True)
    loss = TF.cross_entropy(scores, y) + 0.5 * i["reg"] * sum((p[f"W{k}"] ** 2).sum() for k in range(1, layers + 2))
    grads = torch.autograd.grad(loss, list(p.values()))
    ans = {"loss": _n(loss), **{f"grad.{k}": _n(g) for k, g in zip(p, grads)}, "X@model": i["X"].copy()}
    if config != "batchnorm":
        with torch.no_grad():
            ans["scores"] = _n(forward(False))
    return ans


ANSWERS = {"affine": affine, "relu": relu, "softmax_loss": softmax_loss, "svm_loss": svm_loss,
           "batchnorm": batchnorm, "layernorm": layernorm, "sgd": optimizer, "sgd_momentum": optimizer,
           "rmsprop": optimizer, "adam": optimizer}


def answers(case):
    """torch's answers for a case of any group but the model and dropout (whose answers need the run)."""
    return with_noise(ANSWERS[case.group], case)
