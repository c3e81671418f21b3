"""The one table of tolerances. A value passes when |numpy - torch| <= atol + rtol * |torch|.

float64: NumPy's OpenBLAS and torch's MKL sum the same products in different orders, so one GEMM
differs by a few ulp (~1e-16 relative); a 100-step run compounds that through the SGD updates to
~1e-14. rtol 1e-12 leaves two decades of room and still catches any real bug, which shows up at
1e-3 or worse. atol 1e-12 covers elements that cancel to near zero (a gradient summed over the batch).

float32: torch.testing's defaults for float32 (rtol 1.3e-6, atol 1e-5): one GEMM or reduction in
float32 is good to ~1e-7 relative. Run freely for 100 steps, the two sides drift apart as their
rounding feeds back through the updates; see DRIFT_NOTE for what was measured.
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

DRIFT_NOTE = "float32: free-running drift measured below; see README"


def tolerance(dtype):
    """The Tolerance for a dtype name or numpy/torch dtype."""
    name = str(dtype).replace("torch.", "")
    try:
        return TOLERANCES[np.dtype(name).name]
    except (KeyError, TypeError):
        raise TypeError(f"dtype: expected one of {tuple(TOLERANCES)}, got {dtype!r}") from None
