"""Closeness of one tensor against its expected value, and the mismatch report for it.

The expected side (torch, or finite differences) is trusted: closeness is
|actual - expected| <= atol + rtol * |expected|, elementwise, as torch.testing.assert_close.
Shape and dtype are checked before any value.
"""
import math
from dataclasses import asdict, dataclass
from typing import Optional

import numpy as np

from mlp_ref.tolerances import Tolerance


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

    allowed: an elementwise allowance (float64, expected's shape) used instead of tol's atol + rtol |expected|.
    """
    actual, expected = np.asarray(actual), np.asarray(expected)
    base = dict(name=name, shape=expected.shape, dtype=_name(expected.dtype), rtol=tol.rtol,
                atol=getattr(tol, "atol", 0.0), device=device)
    if actual.shape != expected.shape:
        return Comparison(ok=False, problem=f"shape mismatch: got {actual.shape}, expected {expected.shape}"
                          + (" (the transpose)" if actual.shape == expected.shape[::-1] else ""), **base)
    if actual.dtype != expected.dtype:
        return Comparison(ok=False, problem=f"dtype mismatch: got {actual.dtype}, expected {expected.dtype}", **base)
    n = expected.size
    if n == 0:
        return Comparison(ok=True, **base)
    if allowed is not None:
        allowed = np.broadcast_to(np.asarray(allowed, dtype=np.float64), expected.shape).reshape(-1)
    # Flat float64 views: the same code for 0-d (a loss) and n-d tensors.
    a = actual.astype(np.float64, copy=False).reshape(-1)
    e = expected.astype(np.float64, copy=False).reshape(-1)
    # The reductions are spelled as ufunc.reduce and ndarray methods: the same values as np.max, np.sum
    # and np.argmax, without their Python wrappers (about 1 us each, most of the time on a small array).
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(a - e)
        abs_e = np.abs(e)
        if not math.isfinite(np.add.reduce(err)):
            # Equal infinities (or both NaN) count as agreement; any other non-finite error is a
            # mismatch, and a non-finite expected value earns no (infinite) allowance.
            same = (a == e) | (np.isnan(a) & np.isnan(e))
            err[same] = 0.0
            err[np.isnan(err)] = np.inf
            abs_e[~np.isfinite(abs_e)] = 0.0
        # The worst element is the one furthest past its own allowance, so a small element with a
        # large relative error is not hidden behind a large element with a small one.
        bound = tol.atol + tol.rtol * abs_e if allowed is None else allowed
        excess = err - bound
        n_bad = int(np.count_nonzero(excess > 0))
        rel = err / np.maximum(abs_e, _TINY)
        ratio = err / np.maximum(bound, _TINY)
    flat = int(excess.argmax())
    extra = {} if allowed is None else {"allowance": float(allowed[flat]), "model": model}
    return Comparison(ok=n_bad == 0, n_mismatched=n_bad, n_total=n, max_abs=float(np.maximum.reduce(err)),
                      max_rel=float(np.maximum.reduce(rel)), headroom=float(np.maximum.reduce(ratio)),
                      worst_index=_unravel(flat, expected.shape), actual=float(a[flat]), expected=float(e[flat]),
                      **base, **extra)


def _unravel(flat, shape):
    """np.unravel_index(flat, shape) as a tuple of ints (C order), in plain Python."""
    index = []
    for size in reversed(shape):
        flat, i = divmod(flat, size)
        index.append(i)
    return tuple(reversed(index))
