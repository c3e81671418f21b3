"""What the diagnoses see of one failing check: the quantity, both arrays as float64, torch's
intermediates for that step; and the loose match a diagnosis keys on.

Matching is loose on purpose (MATCH): the question is which bug, not whether the digits agree.
"""
import numpy as np

GRADS = ("dW1", "db1", "dW2", "db2")
MATCH_RTOL, MATCH_ATOL = 1e-4, 1e-6  # atol is relative to the largest |torch| element


class Evidence:
    """One failing check seen from the diagnoses: the quantity, both arrays as float64, torch's intermediates."""

    def __init__(self, check, expected):
        self.check, self.case, self.name, self.step = check, check.case, check.quantity, check.step
        self.a = check.actual.astype(np.float64)
        self.e = check.expected.astype(np.float64)
        self.exp = expected
        self.arrays = check.failure.arrays

    def torch(self, name):
        key = name if self.step is None else f"{self.step}.{name}"
        return self.exp[key].astype(np.float64)

    def mine(self, name, step):
        a = self.arrays.get(name if step is None else f"{step}.{name}")
        return None if a is None else a.astype(np.float64)

    def input(self, name):
        return self.case.array(name).astype(np.float64)


def close(a, p):
    """a equals the prediction p up to rounding of either dtype (and p is not all zeros)."""
    if a is None or p is None or a.shape != p.shape or not np.all(np.isfinite(a)) or not np.all(np.isfinite(p)):
        return False
    scale = float(np.max(np.abs(p), initial=0.0))
    return scale > 0 and bool(np.all(np.abs(a - p) <= MATCH_RTOL * np.abs(p) + MATCH_ATOL * scale))


def differs(ev, p):
    """A prediction only counts when it differs from torch's answer, or it explains nothing."""
    return not close(ev.e, p) if p.shape == ev.e.shape else True
