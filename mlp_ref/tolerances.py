"""The tolerance tables: parity's (the same algorithm on both sides) and the grader's (a student's
equivalent formula against torch's). Parity: a value passes when |numpy - torch| <= atol + rtol * |torch|.

float64: NumPy's OpenBLAS and torch's MKL sum the same products in different orders, so one GEMM
differs by a few ulp (~1e-16 relative); a 100-step run compounds that through the SGD updates to
~1e-14. rtol 1e-12 leaves two decades of room and still catches any real bug, which shows up at
1e-3 or worse. atol 1e-12 covers elements that cancel to near zero (a gradient summed over the batch).
The optimizers (mlp_ref.optim against torch.optim) are judged at this same tolerance: over 50
steps on 1, 2 and 4 hidden layers, every optimizer's parameters and state buffers stayed within
0.27 of it (SGD with momentum; RMSprop 0.016, Adam and AdamW 0.003), measured on the matrix
of tests/test_optim_parity.py.

float32: torch.testing's defaults for float32 (rtol 1.3e-6, atol 1e-5): one GEMM or reduction in
float32 is good to ~1e-7 relative. Run freely, the two sides drift apart as their rounding feeds
back through the updates: measured on the regression anchor (5 -> 7 -> 3, batch 16, lr 0.02) the
free runs first leave this tolerance at step 27 (db1 off by 1.2e-5 on 1.21, 1e-5 relative), and
the worst gradient error stays 1.9e-5 through 1000 steps; the sigmoid anchors stay inside for 1000.
That is drift, not error, so the parity engine resyncs float32 runs each step by default
(ParityConfig.resync) and each step is judged on its own rounding at this tolerance.
"""
import math
from itertools import accumulate
from typing import NamedTuple

import numpy as np

_TINY64 = float(np.finfo(np.float64).tiny)


class Tolerance(NamedTuple):
    rtol: float
    atol: float

    def allowed(self, expected):
        """The largest |actual - expected| accepted, elementwise."""
        return self.atol + self.rtol * np.abs(expected)


TOLERANCES = {
    "float64": Tolerance(rtol=1e-12, atol=1e-12),
    "float32": Tolerance(rtol=1.3e-6, atol=1e-5),
}

# Not torch's side: the finite-difference oracle (mlp_ref.gradcheck). A central difference with
# eps = 1e-6 in float64 is good to ~1e-10 relative (eps^2 truncation + u/eps rounding), so 1e-6
# leaves four decades of room and stays four below any real bug.
FINITE_DIFFERENCES = Tolerance(rtol=1e-6, atol=1e-8)

# Not torch's side: numbers a student worked by hand for `mlp-ref explain --input` carry about
# four significant digits; the student may override both in the input file.
HAND_WORKED = Tolerance(rtol=1e-3, atol=1e-4)


# --- the grader's tolerance: an equivalent formula, not the same algorithm ------------------------
# Parity compares two runs of one algorithm; a student writes another formula for the same number
# (loops, einsum, a matmul with ones, eps in BCE, a fused gradient, a numpy round trip, F.* for J).
# The model, per element i of a tensor q of one case:
#     allowed_i = rtol * |q_i| + scale * max_j |q_j| + noise_factor * noise_i
# - rtol * |q_i|: rounding of an equivalent formula, relative to the element.
# - scale * max|q|: rounding carried into an element that cancels to near 0 from larger terms
#   (a bias gradient summed over the batch), so it scales with the tensor, not with the element.
# - noise_i: the case's own conditioning, measured on torch alone (mlp_ref.packs.dlsp_hw1.oracle): how far
#   torch's float32 answer lies from its float64 answer on the same inputs (scaled by the dtype's unit
#   roundoff), plus how far torch's float64 answer moves under each place a BCE eps of BCE_EPS goes
#   (mlp_ref.packs.dlsp_hw1.oracle.BCE_MOVES): y_hat moved toward 1/2 (a clamp, or eps in a log) and eps added to
#   the fused gradient's denominator y_hat (1 - y_hat). Ordinary cases have noise near
#   rounding; an ill-conditioned case (1 - y_hat near 1e-3) earns its allowance there and nowhere else.
# noise_factor 20: a different formula's rounding in an ill-conditioned case is a few times torch's own,
# and eps = 1e-7 moves BCE exactly the measured BCE_EPS amount, so 20x keeps both below 1/10 of the allowance.
# Measured (tests/grader/measure_grading_margins.py, docs/grading.md): every correct-style zoo file's worst
# error is <= 1/10 of this allowance, and every zoo bug's worst error is >= 10x above it.
class GradingTolerance(NamedTuple):
    rtol: float
    scale: float
    noise_factor: float

    def allowed(self, expected, noise=None):
        """The largest |actual - expected| accepted, elementwise (expected and noise as float64)."""
        return self.allowed_many([expected], [noise])[0]

    def allowed_many(self, expecteds, noises):
        """allowed(expected, noise) for each pair (noise None: none), computed in one pass over them all:
        a list of float64 arrays, each of its expected's shape, each what allowed() gives it alone."""
        expecteds = [np.asarray(x, dtype=np.float64) for x in expecteds]
        sizes = [x.size for x in expecteds]
        e = np.abs(np.concatenate([x.reshape(-1) for x in expecteds]))
        filled = [n for n in sizes if n]  # an empty tensor has no maximum and no allowance
        starts = list(accumulate(filled[:-1], initial=0))
        top = np.maximum.reduceat(e, starts) if filled else e
        if not math.isfinite(np.add.reduce(top)):
            # Only a tensor with a non-finite element has a non-finite maximum: its non-finite elements
            # are set aside (every other tensor's are all finite, so nothing changes for them).
            e = np.where(np.isfinite(e), e, 0.0)
            top = np.maximum.reduceat(e, starts)
        out = self.rtol * e + self.scale * np.repeat(top, filled) + _TINY64
        if any(n is not None for n in noises):
            # No noise is a noise of zeros: adding 0.0 changes no allowance (each is >= _TINY64 > 0).
            noise = np.concatenate([np.zeros(x.size) if n is None else flat64(n, x.shape)
                                    for x, n in zip(expecteds, noises)])
            if not math.isfinite(np.add.reduce(noise)):
                noise = np.nan_to_num(noise, nan=0.0, posinf=0.0)
            out += self.noise_factor * noise
        return [out[s:s + x.size].reshape(x.shape) for s, x in zip(accumulate(sizes, initial=0), expecteds)]

    def describe(self):
        return (f"rtol {self.rtol:g}*|torch| + {self.scale:g}*max|torch| + {self.noise_factor:g}*noise")


def flat64(a, shape):
    """a as a flat float64 array of shape's size (broadcast to shape when it has another): an elementwise
    allowance or noise, laid out like the tensor it belongs to."""
    a = np.asarray(a, np.float64)
    return (a if a.shape == shape else np.broadcast_to(a, shape)).reshape(-1)


GRADING = {
    # float32 (the assignment's dtype, torch's default): the correct-style zoo files move a quantity by at
    # most 2.2e-6 of its tensor's max (einsum's dW1), 0.045 of this allowance, so the room is > 20x; every
    # zoo bug lands >= 87x beyond it (BCE clamped at 1e-3; the next, half MSE, 8e3x).
    "float32": GradingTolerance(rtol=3e-5, scale=3e-5, noise_factor=20.0),
    # float64 (--dtype float64): summation order moves ~1e-14, eps 1e-12 in BCE ~1e-11 on ordinary outputs
    # (more on confident ones, which the noise term covers): 1e-9 leaves > 100x room, bugs seven decades out.
    "float64": GradingTolerance(rtol=1e-9, scale=1e-9, noise_factor=20.0),
}
# A legitimate BCE eps, in any graded dtype: Keras's epsilon (clamp at 1e-7) and eps up to 1e-7 in a log
# or in the gradient's denominator. What that moves is measured per case and enters noise_i above.
BCE_EPS = 1e-7
# Unit roundoff per dtype: the float32-vs-float64 noise is scaled by UNIT[dtype] / UNIT["float32"].
UNIT = {"float32": float(np.finfo(np.float32).eps) / 2, "float64": float(np.finfo(np.float64).eps) / 2}


# By dtype object: the grader asks once per comparison, and a dtype's .name is slow to build.
_GRADING_BY_DTYPE = {np.dtype(name): tol for name, tol in GRADING.items()}


def grading_tolerance(dtype):
    """The GradingTolerance for a dtype name."""
    if isinstance(dtype, np.dtype) and dtype in _GRADING_BY_DTYPE:
        return _GRADING_BY_DTYPE[dtype]
    try:
        return GRADING[np.dtype(str(dtype).replace("torch.", "")).name]
    except (KeyError, TypeError):
        raise TypeError(f"dtype: expected one of {tuple(GRADING)}, got {dtype!r}") from None


def tolerance(dtype):
    """The Tolerance for a dtype name or numpy/torch dtype."""
    name = str(dtype).replace("torch.", "")
    try:
        return TOLERANCES[np.dtype(name).name]
    except (KeyError, TypeError):
        raise TypeError(f"dtype: expected one of {tuple(TOLERANCES)}, got {dtype!r}") from None
