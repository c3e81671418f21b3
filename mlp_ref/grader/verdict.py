"""The verdict, computed in the grader's process: the child's arrays against torch's, case by case.

Each case becomes one Check. Within a step the quantities are compared in the order the math
produces them, so the first one that disagrees is where the error was born; every comparison of
that step is kept for the diagnoses. Three checks span the whole battery: inputs unchanged,
no autograd, output within the cap.
"""
import math
from dataclasses import dataclass, field, replace
from typing import NamedTuple, Optional

import numpy as np

from mlp_ref.compare import Comparison, compare
from mlp_ref.grader.adapters import SUPPORTED_KINDS
from mlp_ref.grader.sandbox import unpack
from mlp_ref.tolerances import grading_tolerance

ORDER = {"loss": ("J", "dJdy_hat"), "backward": ("y_hat", "dW2", "db2", "dW1", "db1"),
         "train": ("y_hat", "J", "dJdy_hat", "dW2", "db2", "dW1", "db1")}
ORDER["twice"] = ORDER["train"]
STAGE = {"y_hat": "forward", "J": "loss", "dJdy_hat": "loss", "dW2": "backward", "db2": "backward",
         "dW1": "backward", "db1": "backward"}
NUMPY_OPTIONAL = ("dJdy_hat",)  # the five-stage interface need not expose dL/dy_hat


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


def arrays_of(event):
    """The arrays of one child event; ValueError for anything that is not a dict of packed arrays."""
    packed = (event or {}).get("arrays") or {}
    if not isinstance(packed, dict):
        raise ValueError(f"expected a dict of arrays, got {type(packed).__name__}")
    try:
        return {str(k): unpack(v) for k, v in packed.items()}
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
    """compare() with the grading allowance (magnitude-scaled, plus the case's noise); a one-element J is a scalar."""
    if name == "J" and actual.size == 1:
        actual = actual.reshape(())
    actual, tol, note = _tol_and_cast(actual, expected.dtype, exact_dtype)
    allowed = tol.allowed(expected, noise) if actual.shape == expected.shape else None
    c = compare(name, actual, expected, tol, allowed=allowed, model=tol.describe())
    return c, actual, note


def _robust(c, actual, expected):
    """Robustness asks one thing: finite wherever torch is finite (how close is reported, not judged)."""
    if c.problem is None:
        c.ok = not np.any(~np.isfinite(actual) & np.isfinite(expected))
    return c


def _robust_note(c, actual, expected):
    if c.ok and c.problem is None and not np.allclose(actual, expected, rtol=1e-3, atol=0, equal_nan=True):
        return (f"{c.name} finite but not torch's (worst {c.actual:.6g} vs {c.expected:.6g}): torch clamps "
                "differently; only finiteness is judged here")
    return ""


def _steps(case):
    return 2 if case.kind == "twice" else (1 if case.kind == "backward" else case.steps)


def _keep_worst(worst, c, expected):
    if c.problem is None:
        top = float(np.max(np.abs(expected), initial=0.0))
        h, r = worst.get(c.name, (0.0, 0.0))
        worst[c.name] = (max(h, c.headroom), max(r, c.max_abs / top if top > 0 else 0.0))


def headroom_of(comparisons, case=None):
    """The worst error as a fraction of its allowance over comparisons (inf for a shape or dtype mismatch);
    None for robustness, which judges finiteness only."""
    if case is not None and case.section == "robustness":
        return None
    worst = [math.inf if c.problem else c.headroom for c in comparisons]
    return max(worst) if worst else None


def max_score_of(case):
    """Robustness and the probe count only under --strict (grade.rescore sets that)."""
    return 0.0 if case.section in ("robustness", "probe") else 1.0


def case_check(case, expected, event, interface, noise=None):
    """The Check for one case from torch's answers (and their noise) and the child's event for it (None:
    never reported)."""
    noise = noise or {}
    base = Check(case.describe, case.section, None, case=case, max_score=max_score_of(case))
    if event is None:
        return replace(base, passed=False, message="not run: the submission's process ended before this case")
    if event.get("skipped"):
        # Decided here, not taken from the child: only what the interface cannot express is left ungraded.
        return replace(base, message=str(event["skipped"]),
                       passed=None if case.kind not in SUPPORTED_KINDS.get(interface, ()) else False)
    try:
        arrays = arrays_of(event)
    except ValueError as e:
        return replace(base, passed=False, message=f"the child's results for this case could not be read: {e}")
    error = event.get("error") if isinstance(event.get("error"), dict) else None
    steps = [None] if case.kind == "loss" else range(1, _steps(case) + 1)
    missing, note, seen, worst = None, "", [], {}
    base = replace(base, worst=worst)  # filled in as the comparisons are made
    for step in steps:
        prefix = "" if step is None else f"{step}."
        step_comparisons, first = [], None
        for name in ORDER[case.kind]:
            key = prefix + name
            if key not in arrays:
                if interface == "numpy" and name in NUMPY_OPTIONAL and error is None:
                    continue
                missing = missing or key
                break
            c, actual, n = compare_one(name, arrays[key], expected[key], noise.get(key), case.section == "probe")
            if case.section == "robustness":
                c, n = _robust(c, actual, expected[key]), n or _robust_note(c, actual, expected[key])
            step_comparisons.append(c)
            _keep_worst(worst, c, expected[key])
            note = note or n
            if not c.ok and first is None:
                first = (name, c, actual, expected[key])
        seen += step_comparisons
        if first is not None:
            name, c, actual, exp = first
            # What went wrong later is a consequence; the first disagreement is the story.
            message = "" if error is None else \
                f"afterwards, in {error.get('stage')}: {error.get('type')}: {error.get('message')}"
            return replace(base, passed=False, note=note, message=message, headroom=headroom_of(seen, case),
                           failure=Failure(step, name, c, tuple(step_comparisons), actual, exp, arrays))
        if error is not None and (error.get("step") in (step, None)):
            break
    if error is not None:
        return replace(base, passed=False, error=error, note=note, headroom=headroom_of(seen, case))
    if missing is not None:
        # Never a pass by omission: every value the case asks for must have come back.
        return replace(base, passed=False, note=note,
                       message=f"{missing} is missing from what the child reported, with no error")
    return replace(base, passed=True, note=note, headroom=headroom_of(seen, case))


def mutation_check(cases, events):
    """Inputs unchanged: x after forward and backward, y and y_hat after the loss, dJdy_hat after backward."""
    check = Check("inputs are not modified in place (x, y, y_hat, dJdy_hat)", "contract", True)
    for case in cases:
        try:
            arrays = arrays_of(events.get(case.id))
        except ValueError:
            continue  # that case's own check reports it
        for key, a in arrays.items():
            if "@" not in key:
                continue
            head, call = key.split("@")
            name = head.split(".")[-1]
            if name == "dJdy_hat":
                if call == "before":
                    continue
                original = arrays[head + "@before"]
            else:
                original = case.array(name)
            if a.shape != original.shape or not np.array_equal(a, original.astype(a.dtype), equal_nan=True):
                n = a.size if a.shape != original.shape else int((a != original.astype(a.dtype)).sum())
                return replace(check, passed=False, case=case, diagnosis="input_mutated",
                               evidence=f"{call} modified {name}",
                               message=f"{call} modified {name} in place ({case.describe}): {n} / {original.size} "
                                       f"elements changed")
    return check


def autograd_check(cases, events, import_calls=0):
    """No autograd: no call into torch's autograd (reverse or forward mode, torch.func), at import or in
    any case, and no returned tensor that tracks gradients."""
    check = Check("backward is hand-written: torch autograd never runs", "contract", True)
    if import_calls:
        return replace(check, passed=False, diagnosis="autograd_used",
                       message=f"torch's autograd ran {import_calls} time(s) while the submission was imported")
    for case in cases:
        event = events.get(case.id) or {}
        calls, tracked = event.get("autograd_calls", 0), event.get("tracked") or []
        if calls or tracked:
            what = [f"torch's autograd (engine, forward mode or torch.func) ran {calls} time(s)"] if calls else []
            what += [f"returned tensors carry autograd state (requires_grad or grad_fn): {sorted(set(tracked))}"] \
                if tracked else []
            return replace(check, passed=False, case=case, diagnosis="autograd_used",
                           message="; ".join(what) + f" ({case.describe})")
    return check


def autograd_cases(checks, events, import_calls=0):
    """Every case check whose answers autograd helped compute, failed: they are not hand-derived, so
    they earn nothing (the contract check alone would cost one point). Autograd at import taints every
    case: it may have computed what the cases return."""
    out = []
    for c in checks:
        calls = ((events.get(c.case.id) or {}).get("autograd_calls") or 0) if c.case is not None else 0
        if c.case is not None and (calls or import_calls):
            where = f"{calls} time(s) in this case" if calls else f"{import_calls} time(s) at import"
            c = replace(c, passed=False, diagnosis="autograd_used",
                        message=f"torch's autograd ran {where}: the answers are not computed by hand")
        out.append(c)
    return out


def output_check(run, cap):
    check = Check(f"output stays under {cap} bytes (prints in forward/backward)", "contract", True)
    if run.output_bytes > cap or any(e.get("event") == "output_flood" for e in run.events):
        return replace(check, passed=False, error={"outcome": "output_flood"},
                       message=f"the submission printed over {cap} bytes ({max(run.output_bytes, cap + 1)} "
                               "counted); the rest was dropped")
    return check
