"""Losses as (value, gradient) pairs, with torch's reductions and torch's numerical guards.

y_hat, y: (N, K). Each function returns (loss as a 0-d array of the inputs' dtype, dL/dy_hat (N, K)),
except cross_entropy, which takes the logits z2 and returns dL/dz2 (the fused softmax+CE gradient).
reduction "sum" adds over every element; "mean" divides by the number of elements for mse and bce
(as torch) and by the batch size N for cross-entropy (as torch).
"""
import numpy as np

REDUCTIONS = ("sum", "mean")
# torch's BCELoss clamps each log term at -100, so a saturated y_hat (exactly 0 or 1) gives a finite loss;
# its backward divides by max(y_hat (1 - y_hat), 1e-12) for the same reason. torch's constant is the
# float32 literal 1e-12f (9.99999996e-13), and at saturation that difference shows at float64 precision.
BCE_LOG_CLAMP = -100.0
BCE_GRAD_EPS = float(np.float32(1e-12))


def mse(y_hat, y, reduction="sum"):
    """L = sum (y_hat - y)^2 [/ N K].   dL/dy_hat = 2 (y_hat - y) [/ N K]"""
    diff = y_hat - y
    value = np.vdot(diff, diff) if reduction == "sum" else np.vdot(diff, diff) / diff.size
    # diff is this call's own array: scaling it in place saves an (N, K) array and a pass. A 0-d factor
    # of diff's dtype (the value a Python float rounds to anyway) spares the scalar's type resolution.
    np.multiply(diff, np.asarray(2.0 if reduction == "sum" else 2.0 / diff.size, diff.dtype), out=diff)
    return value, diff


def bce(y_hat, y, reduction="sum"):
    """L = -sum [y log y_hat + (1 - y) log(1 - y_hat)] [/ N K], each log clamped at -100.
    dL/dy_hat = (y_hat - y) / max(y_hat (1 - y_hat), 1e-12) [/ N K]"""
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(y_hat), BCE_LOG_CLAMP)
        log_1mp = np.maximum(np.log(1 - y_hat), BCE_LOG_CLAMP)
    terms = -(y * log_p + (1 - y) * log_1mp)
    dy_hat = (y_hat - y) / np.maximum((1 - y_hat) * y_hat, BCE_GRAD_EPS)
    if reduction == "sum":
        return terms.sum(), dy_hat
    return terms.sum() / terms.size, dy_hat / terms.size


def cross_entropy(z2, target, reduction="mean"):
    """L = sum_n [logsumexp(z2_n) - z2_n,target_n] [/ N].   dL/dz2 = (softmax(z2) - onehot(target)) [/ N]

    z2: (N, K) logits, target: (N,) integer class indices in [0, K).
    """
    m = z2.max(axis=1, keepdims=True)
    e = np.exp(z2 - m)
    sum_e = e.sum(axis=1, keepdims=True)
    rows = np.arange(z2.shape[0])
    nll = (np.log(sum_e) + m)[:, 0] - z2[rows, target]
    dz2 = e / sum_e
    dz2[rows, target] -= 1
    if reduction == "sum":
        return nll.sum(), dz2
    n = z2.shape[0]
    return nll.sum() / n, dz2 / n


LOSSES = ("mse", "bce", "ce")
# The output activations a loss takes (mse: any), the first its default g: bce logs y_hat and
# 1 - y_hat, so y_hat must lie in [0, 1]; ce is written on softmax outputs.
OUTPUTS = {"bce": ("sigmoid", "softmax"), "ce": ("softmax",)}
# The one wording of each requirement, for the API's refusal and the command line's.
NEEDS = {"bce": "'bce' takes log(y_hat) and log(1 - y_hat), so it needs outputs in [0, 1]: expected sigmoid (or softmax)",
         "ce": "'ce' is cross-entropy on softmax outputs, so it needs g='softmax': expected softmax"}


def default_output(loss):
    """The output activation a loss takes when g is not given: its first in OUTPUTS, else identity."""
    return OUTPUTS.get(loss, ("identity",))[0]


def check_output(arg, loss, g):
    """A ValueError naming arg when the loss cannot take the output activation g."""
    if loss in OUTPUTS and g not in OUTPUTS[loss]:
        raise ValueError(f"{arg}: {NEEDS[loss]}, got {g!r}")
