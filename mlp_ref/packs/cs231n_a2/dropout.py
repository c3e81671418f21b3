"""Dropout graded on what is determined, since the mask is random.

Test mode: out == x. Train mode: each element is 0 or x / keep; the kept fraction of a 100 x 100 input
lies within a binomial bound of keep; the mask varies across samples and across features; the same seed
gives the same output and another seed another; dropout_backward applies the forward's own mask and
scale (read from its output, since x is positive everywhere), after a seeded forward and after one
without a seed (where a mask drawn again differs).
"""
import numpy as np

from mlp_ref.tolerances import GRADING

# Bound on |kept fraction - keep|, in binomial standard deviations: a correct mask leaves it with
# probability ~6e-7 at 5 sigma, while every wrong distribution tried lands > 15 sigma out.
SIGMAS = 5.0


def close(actual, expected):
    """Elementwise: within the grading tolerance of expected (float64)."""
    with np.errstate(invalid="ignore"):
        return np.abs(actual - expected) <= GRADING["float64"].allowed(expected)


def forward(arrays, case):
    """(diagnosis or None, message) for dropout_forward; (None, "") when it passes."""
    x, keep = case.inputs["x"], case.inputs["keep"]
    got = {k: arrays.get(f"{k}@dropout_forward") for k in ("out.a", "out.b", "out.c", "out.test", "x")}
    for k, v in got.items():
        if v is None or v.shape != x.shape:
            return None, f"{k}: expected shape {x.shape}, got {None if v is None else v.shape}"
    if not np.all(close(got["x"], x)):
        return "input_mutated", "x was changed by dropout_forward"
    test = got["out.test"]
    if not np.all(close(test, x)):
        scaled = np.all(close(test, x * keep)) or np.all(close(test, x / keep))
        return ("dropout_scaled_in_test" if scaled else None), "test mode: out differs from x"
    a = got["out.a"]
    kept = a != 0
    bug, message = mask_problem(kept, keep)
    if message:
        return bug, "train mode: " + message
    if not np.all(close(a[kept], x[kept] / keep)):
        plain = np.all(close(a[kept], x[kept]))
        return ("dropout_not_inverted" if plain else None), (
            f"train mode: kept elements are {'x' if plain else 'not x / keep'}, expected x / keep (keep = {keep:g})")
    if not np.array_equal(a, got["out.b"]):
        return "dropout_seed_ignored", "train mode: two calls with seed 0 differ"
    if np.array_equal(a, got["out.c"]):
        return None, "train mode: seeds 0 and 1 give the same mask"
    return None, ""


def _constant_along(kept, live, axis):
    """Whether the mask bit is the same for every live element along `axis` (a mask shared that way)."""
    lo = np.where(live, kept, True).all(axis=axis)   # every live bit kept
    hi = ~np.where(live, kept, False).any(axis=axis)  # every live bit dropped
    return bool(np.all(lo | hi)) and live.sum() > live.shape[1 - axis]


def mask_problem(kept, keep, live=None):
    """(diagnosis, message) when a boolean keep mask of shape (N, H) cannot be a correct one, else (None, "").
    live: the elements whose bit can be read (x != 0); all by default."""
    live = np.ones_like(kept) if live is None else live
    # Sharing first: a shared mask has far fewer independent bits than the binomial bound assumes.
    if _constant_along(kept, live, 0):
        return "dropout_mask_shared", "every sample (row) has the same mask"
    if _constant_along(kept, live, 1):
        return "dropout_mask_shared", "every feature (column) of a sample has the same mask bit"
    n = int(live.sum())
    rate, bound = kept[live].mean(), SIGMAS * np.sqrt(keep * (1 - keep) / n) + 1 / n
    if abs(rate - keep) > bound:
        return "dropout_mask_distribution", (f"keeps {rate:.3f} of {n} units, expected {keep:g} "
                                             f"(+- {bound:.3f}, {SIGMAS:g} binomial standard deviations)")
    return None, ""


def backward(arrays, case):
    """(diagnosis or None, message) for dropout_backward fed the forward's cache of the seed-0 call."""
    x, dout = case.inputs["x"], case.inputs["dout"]
    dx, a = arrays.get("dx@dropout_backward"), arrays.get("out.a@dropout_forward")
    if dx is None or dx.shape != x.shape:
        return None, f"dx: expected shape {x.shape}, got {None if dx is None else dx.shape}"
    if not np.all(close(arrays.get("dout@dropout_backward", dout), dout)):
        return "input_mutated", "dout was changed by dropout_backward"
    for tag, out in (("", a), (".u", arrays.get("out.u@dropout_forward"))):
        got = arrays.get(f"dx{tag}@dropout_backward")
        if got is None or out is None or got.shape != x.shape:
            return None, f"dx{tag}: expected shape {x.shape}, got {None if got is None else got.shape}"
        expected = dout * (out / x)  # the forward's own mask and scale
        ok = close(got, expected)
        if not np.all(ok):
            i = np.unravel_index(int(np.argmin(ok)), ok.shape)
            where = ("" if not tag else " after a forward without a seed (the seeded one was right: the mask "
                     "is drawn again instead of taken from the cache)")
            return ("dropout_mask_regenerated" if tag else None), (
                f"dx differs from dout * mask / keep (the forward's own mask){where} at "
                f"{tuple(int(j) for j in i)}: {got[i]:.6g} vs {expected[i]:.6g}")
    return None, ""


def model_masks(arrays, n_layers, keep):
    """The keep masks the model drew, from its recorded dropout calls: (masks, None, "") or
    (None, diagnosis or None, problem)."""
    masks = []
    for i in range(n_layers):
        x, out = arrays.get(f"drop{i}.x"), arrays.get(f"drop{i}.out")
        if x is None or out is None:
            return None, None, (f"the model made {i} dropout_forward call(s) in train mode, expected {n_layers} "
                                "(one after each hidden ReLU, through dropout_forward)")
        if out.shape != x.shape or out.ndim != 2:
            return None, None, f"dropout call {i}: out has shape {out.shape}, x {x.shape}"
        live = x != 0  # where x is 0 (a ReLU's zero) the mask bit changes nothing and cannot be read
        bug, problem = mask_problem(out != 0, keep, live) if live.any() else (None, "")
        if problem:
            return None, bug, f"dropout call {i}: {problem}"
        mask = (out != 0) | ~live
        if not np.all(close(out, x * mask / keep)):
            plain = np.all(close(out, x * mask))
            return None, "dropout_not_inverted" if plain else None, \
                f"dropout call {i}: out is not 0 or x / keep elementwise (keep = {keep:g})"
        masks.append(mask.astype(np.float64))
    return masks, None, ""
