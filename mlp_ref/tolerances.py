"""The one table of tolerances. A value passes when |numpy - torch| <= atol + rtol * |torch|.

float64: NumPy's OpenBLAS and torch's MKL sum the same products in different orders, so one GEMM
differs by a few ulp (~1e-16 relative); a 100-step run compounds that through the SGD updates to
~1e-14. rtol 1e-12 leaves two decades of room and still catches any real bug, which shows up at
1e-3 or worse. atol 1e-12 covers elements that cancel to near zero (a gradient summed over the batch).

float32: torch.testing's defaults for float32 (rtol 1.3e-6, atol 1e-5): one GEMM or reduction in
float32 is good to ~1e-7 relative. Run freely, the two sides drift apart as their rounding feeds
back through the updates: measured on the regression anchor (5 -> 7 -> 3, batch 16, lr 0.02) the
free runs first leave this tolerance at step 27 (db1 off by 1.2e-5 on 1.21, 1e-5 relative), and
the worst gradient error stays 1.9e-5 through 1000 steps; the sigmoid anchors stay inside for 1000.
That is drift, not error, so the parity engine resyncs float32 runs each step by default
(ParityConfig.resync) and each step is judged on its own rounding at this tolerance.
"""
from typing import NamedTuple

import numpy as np


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


def tolerance(dtype):
    """The Tolerance for a dtype name or numpy/torch dtype."""
    name = str(dtype).replace("torch.", "")
    try:
        return TOLERANCES[np.dtype(name).name]
    except (KeyError, TypeError):
        raise TypeError(f"dtype: expected one of {tuple(TOLERANCES)}, got {dtype!r}") from None
