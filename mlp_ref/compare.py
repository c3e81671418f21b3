"""Closeness of one tensor against its expected value, and the mismatch report for it.

The expected side (torch, or finite differences) is trusted: closeness is
|actual - expected| <= atol + rtol * |expected|, elementwise, as torch.testing.assert_close.
Shape and dtype are checked before any value.
"""
import math
from dataclasses import asdict, dataclass
from itertools import accumulate
from typing import Optional

import numpy as np

from mlp_ref.tolerances import Tolerance, flat64


@dataclass
class Comparison:
    """One quantity at one step: where it is worst, by how much, and whether it passed."""
    name: str
    ok: bool
    shape: tuple
    dtype: str
    rtol: float
    atol: float
    device: str = "cpu"
    n_mismatched: int = 0
    n_total: int = 0
    max_abs: float = 0.0
    max_rel: float = 0.0
    worst_index: Optional[tuple] = None
    actual: Optional[float] = None
    expected: Optional[float] = None
    problem: Optional[str] = None  # a shape, dtype or device mismatch, decided before any value
    headroom: float = 0.0          # the worst |actual - expected| / allowed over the elements (> 1 fails)
    allowance: Optional[float] = None  # with an elementwise allowance: the allowance at the worst element
    model: str = ""                # with an elementwise allowance: its formula, for the message

    def to_dict(self):
        return asdict(self)

    def describe(self, actual_label="numpy", expected_label="torch"):
        """Two or three lines: the count mismatched, the worst element with both values, the allowance."""
        if self.problem:
            return f"  {self.problem}"
        where = "" if self.worst_index is None else f" at {self.worst_index}"
        allowed = (f"{self.atol:g} + {self.rtol:g}*|{expected_label}|" if self.allowance is None else
                   f"{self.allowance:.2g} there ({self.model}); {self.headroom:.3g}x the allowance")
        lines = [f"  {self.n_mismatched} / {self.n_total} mismatched; worst |{actual_label} - {expected_label}| = "
                 f"{self.max_abs:.2g}{where}; allowed {allowed}",
                 f"  {actual_label} = {self.actual:.10g}   {expected_label} = {self.expected:.10g}"]
        return "\n".join(lines)


_TINY = np.finfo(np.float64).tiny
_NAMES = {}


def _name(dtype):
    """dtype.name, built once per dtype (NumPy builds the string anew at every call)."""
    name = _NAMES.get(dtype)
    if name is None:
        name = _NAMES[dtype] = dtype.name
    return name


def compare(name, actual, expected, tol: Tolerance, *, device="cpu", allowed=None, model=""):
    """Compare actual (numpy) against expected (numpy, already moved off `device`, which is only reported).

    allowed: an elementwise allowance (float64, broadcast to expected's shape) used instead of tol's
    atol + rtol |expected|; model: its formula, for the message.
    """
    return compare_many([(name, actual, expected, tol, allowed, model)], device=device)[0]


def compare_many(items, *, device="cpu"):
    """One Comparison per item (name, actual, expected, tol[, allowed, model]), each exactly what compare()
    gives that item alone, from one set of array passes over the items together.

    A step compares a dozen small arrays: alone, each costs some twenty NumPy calls of ~1 us whatever
    its size; together, the elementwise work is one pass over the concatenated values, and each
    item's maximum a reduceat over its own segment. Items are taken together up to BATCH_ELEMENTS
    (a larger one alone), so the temporaries stay those of the largest item or of a small batch.
    """
    out, batch, size = [None] * len(items), [], 0
    for i, item in enumerate(items):
        name, actual, expected, tol = item[:4]
        allowed, model = item[4:6] if len(item) > 4 else (None, "")
        actual, expected = np.asarray(actual), np.asarray(expected)
        base = dict(name=name, shape=expected.shape, dtype=_name(expected.dtype), rtol=tol.rtol,
                    atol=getattr(tol, "atol", 0.0), device=device)
        if actual.shape != expected.shape:
            out[i] = Comparison(ok=False, problem=f"shape mismatch: got {actual.shape}, expected {expected.shape}"
                                + (" (the transpose)" if actual.shape == expected.shape[::-1] else ""), **base)
        elif actual.dtype != expected.dtype:
            out[i] = Comparison(ok=False, problem=f"dtype mismatch: got {actual.dtype}, expected {expected.dtype}",
                                **base)
        elif expected.size == 0:
            out[i] = Comparison(ok=True, **base)
        else:
            if allowed is not None:
                allowed = flat64(allowed, expected.shape)
            if batch and size + expected.size > BATCH_ELEMENTS:
                _judge(batch, out)
                batch, size = [], 0
            # Flat views: the same code for 0-d (a loss) and n-d tensors.
            batch.append((i, base, actual.reshape(-1), expected.reshape(-1),
                          allowed if allowed is not None else (tol.atol, tol.rtol), model))
            size += expected.size
    if batch:
        _judge(batch, out)
    return out


# Elements compared in one batch at most (a larger item is compared alone): its ten float64 temporaries
# take 1.3 MB, less than a single 500 x 400 gradient's.
BATCH_ELEMENTS = 1 << 14


def _judge(batch, out):
    """The Comparisons of a batch of (index in out, base fields, actual, expected (flat, same dtype, not
    empty), allowed or (atol, rtol), model), written into out."""
    a, e = _float64([b[2] for b in batch]), _float64([b[3] for b in batch])
    bounds = [b[4] for b in batch]
    sizes = [b[3].size for b in batch]
    starts = list(accumulate(sizes[:-1], initial=0))
    # The reductions are spelled as ufunc.reduce(at) and ndarray methods: the same values as np.max,
    # np.sum and np.argmax, without their Python wrappers (about 1 us each).
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(a - e)
        abs_e = np.abs(e)
        if not math.isfinite(np.add.reduce(err)):
            # Equal infinities (or both NaN) count as agreement; any other non-finite error is a
            # mismatch, and a non-finite expected value earns no (infinite) allowance. Elementwise,
            # so an item's non-finite values change nothing in the others.
            same = (a == e) | (np.isnan(a) & np.isnan(e))
            err[same] = 0.0
            err[np.isnan(err)] = np.inf
            abs_e[~np.isfinite(abs_e)] = 0.0
        bound = _bounds(bounds, sizes, abs_e)
        # The worst element is the one furthest past its own allowance, so a small element with a
        # large relative error is not hidden behind a large element with a small one.
        excess = err - bound
        worst_excess = np.maximum.reduceat(excess, starts).tolist()
        max_abs = np.maximum.reduceat(err, starts).tolist()
        max_rel = np.maximum.reduceat(err / np.maximum(abs_e, _TINY), starts).tolist()
        headroom = np.maximum.reduceat(err / np.maximum(bound, _TINY), starts).tolist()
    for k, ((i, base, _, _, allowed, model), s, n) in enumerate(zip(batch, starts, sizes)):
        mine = excess[s:s + n]
        flat = int(mine.argmax())
        # Elements past their allowance are counted only where the worst one is (most items have none).
        n_bad = int(np.count_nonzero(mine > 0)) if worst_excess[k] > 0 else 0
        extra = {} if type(allowed) is tuple else {"allowance": float(allowed[flat]), "model": model}
        out[i] = Comparison(ok=n_bad == 0, n_mismatched=n_bad, n_total=n, max_abs=max_abs[k],
                            max_rel=max_rel[k], headroom=headroom[k], worst_index=_unravel(flat, base["shape"]),
                            actual=float(a[s + flat]), expected=float(e[s + flat]), **base, **extra)


def _float64(parts):
    """The flat parts as one float64 array."""
    if len(parts) == 1:
        return parts[0].astype(np.float64, copy=False)
    return np.concatenate(parts, dtype=np.float64, casting="unsafe")


def _bounds(bounds, sizes, abs_e):
    """The allowance per element: an item's own allowed array, or atol + rtol |expected| with its tolerance."""
    tols = [b for b in bounds if type(b) is tuple]
    if not tols:
        return _float64(bounds) if len(bounds) > 1 else bounds[0]
    if all(t == tols[0] for t in tols):
        atol, rtol = tols[0]
    else:
        atol, rtol = (np.repeat([t[j] if type(t) is tuple else 0.0 for t in bounds], sizes) for j in (0, 1))
    bound = atol + rtol * abs_e
    if len(tols) < len(bounds):
        s = 0
        for b, n in zip(bounds, sizes):
            if type(b) is not tuple:
                bound[s:s + n] = b
            s += n
    return bound


def _unravel(flat, shape):
    """np.unravel_index(flat, shape) as a tuple of ints (C order), in plain Python."""
    index = []
    for size in reversed(shape):
        flat, i = divmod(flat, size)
        index.append(i)
    return tuple(reversed(index))
