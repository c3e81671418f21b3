"""The course's conventions, written on top of mlp_ref.functional's hand-written pairs (NumPy).

Where the course and torch differ, the course wins here: weights w are (D, M) (functional takes torch's
(out, in), so it is handed w.T); x arrives as (N, d1, ..., dk) and is flattened; softmax and SVM losses
are means over N; batch norm's running statistics keep `momentum` (0.9) of the old value and take the
biased variance; dropout's p is the drop or the keep probability by variant; L2 is 0.5 reg sum W^2.

These functions are what FullyConnectedNet is graded with in place of the student's layers (see
runner.py), and what the diagnoses' mutants are built from (see bugs.py). The graded truth is torch's
(oracle.py); tests hold this module to it.
"""
import types
from typing import NamedTuple

import numpy as np

from mlp_ref import functional as F
from mlp_ref.packs.cs231n_a2.interface import BN_MOMENTUM, EPS, OPTIM_DEFAULTS


class AffineCache(NamedTuple):
    shape: tuple
    linear: F.LinearCache


def affine_forward(x, w, b):
    """out = x.reshape(N, D) w + b.   x: (N, d1..dk), w: (D, M), b: (M,) -> (N, M)"""
    z, linear = F.linear_forward(x.reshape(x.shape[0], -1), w.T, b)
    return z, AffineCache(x.shape, linear)


def affine_backward(dout, cache):
    """dx = dout w^T (x's shape), dw = x^T dout, db = sum_n dout.   dout: (N, M)"""
    dx, dW, db = F.linear_backward(dout, cache.linear)
    return dx.reshape(cache.shape), dW.T, db


def relu_forward(x):
    """out = max(x, 0)"""
    return F.relu_forward(x)


def relu_backward(dout, cache):
    """dx = dout [x > 0]"""
    return F.relu_backward(dout, cache)


def softmax_loss(x, y):
    """loss = -mean_n log softmax(x_n)[y_n], dx = (softmax(x) - onehot(y)) / N.   x: (N, C), y: (N,)"""
    n = x.shape[0]
    p = F.softmax(x)
    loss = -np.mean(np.log(p[np.arange(n), y]))
    dx = p.copy()
    dx[np.arange(n), y] -= 1
    return loss, dx / n


def svm_loss(x, y):
    """loss = mean_n sum_{j != y_n} max(0, x_nj - x_ny + 1), dx its subgradient (0 at a zero margin)."""
    n = x.shape[0]
    margins = np.maximum(0, x - x[np.arange(n), y][:, None] + 1.0)
    margins[np.arange(n), y] = 0
    positive = (margins > 0).astype(x.dtype)
    dx = positive.copy()
    dx[np.arange(n), y] -= positive.sum(axis=1)
    return margins.sum() / n, dx / n


class BatchnormCache(NamedTuple):
    train: bool
    norm: F.NormCache


def batchnorm_forward(x, gamma, beta, bn_param):
    """Train: batch statistics, running = momentum running + (1 - momentum) batch (biased var), written
    back into bn_param. Test: the running statistics.   x: (N, D) -> (N, D)"""
    eps, momentum = bn_param.get("eps", EPS), bn_param.get("momentum", BN_MOMENTUM)
    d = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(d, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(d, dtype=x.dtype))
    if bn_param["mode"] == "train":
        out, norm = F.batchnorm_forward(x, gamma, beta, eps)
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * norm.mean
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * norm.var
        return out, BatchnormCache(True, norm)
    if bn_param["mode"] != "test":
        raise ValueError(f"bn_param['mode']: expected 'train' or 'test', got {bn_param['mode']!r}")
    out, norm = F.batchnorm_eval_forward(x, gamma, beta, running_mean, running_var, eps)
    return out, BatchnormCache(False, norm)


def batchnorm_backward(dout, cache):
    """dx, dgamma, dbeta (training mode through the batch statistics; test mode an affine map)."""
    return (F.batchnorm_backward if cache.train else F.batchnorm_eval_backward)(dout, cache.norm)


batchnorm_backward_alt = batchnorm_backward


def layernorm_forward(x, gamma, beta, ln_param):
    """Statistics over each row's D features, the same in training and test.   x: (N, D) -> (N, D)"""
    return F.layernorm_forward(x, gamma, beta, ln_param.get("eps", EPS))


def layernorm_backward(dout, cache):
    return F.layernorm_backward(dout, cache)


def dropout_mask(shape, keep, seed=None, rng=None):
    """The course's mask: uniform draws below the keep probability (np.random.seed(seed) first, when given)."""
    if seed is not None:
        np.random.seed(seed)
    return (rng or np.random).rand(*shape) < keep


def dropout_pair(p_is_keep):
    """(dropout_forward, dropout_backward) for a variant: p is the keep or the drop probability."""

    def dropout_forward(x, dropout_param):
        """Train: inverted dropout, out = x mask / keep. Test: out = x."""
        p, mode = dropout_param["p"], dropout_param["mode"]
        keep = p if p_is_keep else 1 - p
        if mode == "test":
            return x.copy(), None
        mask = dropout_mask(x.shape, keep, dropout_param.get("seed"))
        return F.dropout_forward(x, mask, 1 - keep)

    def dropout_backward(dout, cache):
        return dout.copy() if cache is None else F.dropout_backward(dout, cache)

    return dropout_forward, dropout_backward


def l2(reg, weights):
    """The course's L2 term: 0.5 reg sum_l sum W_l^2."""
    return 0.5 * reg * sum(float(np.sum(w * w)) for w in weights)


def _config(name, config):
    config = {} if config is None else config
    for k, v in OPTIM_DEFAULTS[name].items():
        config.setdefault(k, v)
    return config


def sgd(w, dw, config=None):
    """w - lr dw"""
    config = _config("sgd", config)
    return w - config["learning_rate"] * dw, config


def sgd_momentum(w, dw, config=None):
    """v = momentum v - lr dw; w + v"""
    config = _config("sgd_momentum", config)
    v = config["momentum"] * config.get("velocity", np.zeros_like(w)) - config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config


def rmsprop(w, dw, config=None):
    """cache = decay cache + (1 - decay) dw^2; w - lr dw / (sqrt(cache) + eps)"""
    config = _config("rmsprop", config)
    cache = config["decay_rate"] * config.get("cache", np.zeros_like(w)) + (1 - config["decay_rate"]) * dw * dw
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config


def adam(w, dw, config=None):
    """t += 1 first; m, v moving averages; w - lr m_hat / (sqrt(v_hat) + eps), x_hat = x / (1 - beta^t)"""
    config = _config("adam", config)
    b1, b2 = config["beta1"], config["beta2"]
    t = config["t"] + 1
    m = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * dw
    v = b2 * config.get("v", np.zeros_like(w)) + (1 - b2) * dw * dw
    config.update(t=t, m=m, v=v)
    return w - config["learning_rate"] * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + config["epsilon"]), config


def layers_module(variant, name="cs231n.layers"):
    """A module holding the reference layers under the course's names, for the variant's dropout."""
    module = types.ModuleType(name, "the grader's reference layers (the course's conventions)")
    drop_f, drop_b = dropout_pair(variant.p_is_keep)
    module.__dict__.update(
        affine_forward=affine_forward, affine_backward=affine_backward, relu_forward=relu_forward,
        relu_backward=relu_backward, softmax_loss=softmax_loss, svm_loss=svm_loss,
        batchnorm_forward=batchnorm_forward, batchnorm_backward=batchnorm_backward,
        batchnorm_backward_alt=batchnorm_backward_alt, layernorm_forward=layernorm_forward,
        layernorm_backward=layernorm_backward, dropout_forward=drop_f, dropout_backward=drop_b, np=np)
    return module
