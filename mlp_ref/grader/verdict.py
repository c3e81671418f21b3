"""The verdict model, computed in the grader's process, never in the child: one Check per pass/fail line,
an array of the submission against the oracle's under the grading tolerance (magnitude-scaled, plus the
case's measured noise), the headroom (worst error over its allowance), and the output cap.

An assignment pack builds its checks from these (which quantities, in which order, is the pack's).
"""
import math
from dataclasses import dataclass, field, replace
from typing import NamedTuple, Optional

import numpy as np

from mlp_ref.compare import Comparison, compare_many
from mlp_ref.grader.sandbox import unpack
from mlp_ref.tolerances import grading_tolerance


class Failure(NamedTuple):
    """Where a case first disagrees with torch: the step, the quantity, both arrays, the step's comparisons."""
    step: Optional[int]
    quantity: str
    comparison: Comparison
    comparisons: tuple       # every comparison of the failing step, in the order the math produces them
    actual: np.ndarray
    expected: np.ndarray
    arrays: dict             # everything the child returned for the case


@dataclass(frozen=True)
class Check:
    """One pass/fail line of the report (immutable: a change is a new Check, made with dataclasses.replace)."""
    name: str
    section: str
    passed: Optional[bool]          # None: skipped (the interface has no such call)
    case: Optional[object] = None   # battery.Case, None for the battery-wide checks
    max_score: float = 1.0
    message: str = ""
    note: str = ""
    error: Optional[dict] = None    # what the submission raised, or how the process ended
    failure: Optional[Failure] = None
    diagnosis: Optional[str] = None
    evidence: str = ""
    headroom: Optional[float] = None  # worst error / its allowance over the case (None: no numbers compared)
    # {quantity: (worst error / its allowance, worst error / max |torch|)} over the case's comparisons
    worst: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def score(self):
        return self.max_score if self.passed else 0.0

    # The failure's fields, read as the check's own (None when it did not fail on a number).
    step = property(lambda self: self.failure.step if self.failure else (self.error or {}).get("step"))
    quantity = property(lambda self: self.failure.quantity if self.failure else None)
    comparison = property(lambda self: self.failure.comparison if self.failure else None)
    comparisons = property(lambda self: self.failure.comparisons if self.failure else ())
    actual = property(lambda self: self.failure.actual if self.failure else None)
    expected = property(lambda self: self.failure.expected if self.failure else None)


def arrays_of(event, keep=None):
    """The arrays of one child event (those whose name keep(name) accepts, when given); ValueError for
    anything that is not a dict of packed arrays."""
    packed = (event or {}).get("arrays") or {}
    if not isinstance(packed, dict):
        raise ValueError(f"expected a dict of arrays, got {type(packed).__name__}")
    try:
        return {str(k): unpack(v) for k, v in packed.items() if keep is None or keep(str(k))}
    except (TypeError, KeyError, AttributeError, ValueError) as e:
        raise ValueError(f"{type(e).__name__}: {e}") from None


def _tol_and_cast(actual, expected_dtype, exact_dtype=False):
    """The grading tolerance of the less precise dtype; a float32 answer in a float64 case is compared, not
    failed (exact_dtype: the probe, which asks whether the file runs in float64, leaves it to fail)."""
    tol = grading_tolerance(expected_dtype)
    note = ""
    if actual.dtype != np.dtype(expected_dtype) and not exact_dtype:
        if actual.dtype.kind == "f" and actual.dtype.itemsize < np.dtype(expected_dtype).itemsize:
            tol = grading_tolerance("float32")
            note = f"returned {actual.dtype} in a {expected_dtype} case: compared with the float32 tolerance"
        elif actual.dtype.kind == "f":
            note = (f"returned {actual.dtype} in a {expected_dtype} case: compared after rounding to "
                    f"{expected_dtype}; the interface asks for the case's dtype")
        actual = actual.astype(expected_dtype)
    return actual, tol, note


def compare_one(name, actual, expected, noise=None, exact_dtype=False):
    """compare() with the grading allowance (magnitude-scaled, plus the case's noise); a one-element J is a
    scalar. Returns (Comparison, actual as compared, note)."""
    return compare_graded([(name, actual, expected, noise, exact_dtype)])[0]


def compare_graded(entries):
    """compare_one for each (name, actual, expected, noise, exact_dtype), the comparisons made in one batch
    (mlp_ref.compare.compare_many): [(Comparison, actual as compared, note)] in the entries' order."""
    items, compared, by_tol = [], [], {}
    for name, actual, expected, noise, exact_dtype in entries:
        if name == "J" and actual.size == 1:
            actual = actual.reshape(())
        actual, tol, note = _tol_and_cast(actual, expected.dtype, exact_dtype)
        items.append([name, actual, expected, tol, None, ""])
        compared.append((actual, note))
        if actual.shape == expected.shape:  # else a shape mismatch, failed before any allowance
            by_tol.setdefault(tol, []).append((len(items) - 1, expected, noise))
    # The allowances, one batch per tolerance (float32 answers in a float64 case take float32's).
    for tol, group in by_tol.items():
        model = tol.describe()
        for (i, _, _), allowed in zip(group, tol.allowed_many([e for _, e, _ in group], [n for _, _, n in group])):
            items[i][4:] = allowed, model
    return [(c, actual, note) for c, (actual, note) in zip(compare_many(items), compared)]


def keep_worst(worst, c, expected):
    if c.problem is None:
        top = float(np.maximum.reduce(np.abs(expected), axis=None, initial=0.0))
        h, r = worst.get(c.name, (0.0, 0.0))
        worst[c.name] = (max(h, c.headroom), max(r, c.max_abs / top if top > 0 else 0.0))


def headroom_of(comparisons, case=None):
    """The worst error as a fraction of its allowance over comparisons (inf for a shape or dtype mismatch);
    None for robustness, which judges finiteness only."""
    if case is not None and case.section == "robustness":
        return None
    worst = [math.inf if c.problem else c.headroom for c in comparisons]
    return max(worst) if worst else None


def output_check(run, cap):
    check = Check(f"output stays under {cap} bytes (prints in forward/backward)", "contract", True)
    if run.output_bytes > cap or any(e.get("event") == "output_flood" for e in run.events):
        return replace(check, passed=False, error={"outcome": "output_flood"},
                       message=f"the submission printed over {cap} bytes ({max(run.output_bytes, cap + 1)} "
                               "counted); the rest was dropped")
    return check
