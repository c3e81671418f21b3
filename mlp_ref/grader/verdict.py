"""The verdict, computed in the grader's process: the child's arrays against torch's, case by case.

Each case becomes one Check. Within a step the quantities are compared in the order the math
produces them, so the first one that disagrees is where the error was born; every comparison of
that step is kept for the diagnoses. Three checks span the whole battery: inputs unchanged,
no autograd, output within the cap.
"""
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from mlp_ref.compare import Comparison, compare
from mlp_ref.grader.adapters import SUPPORTED_KINDS
from mlp_ref.grader.sandbox import unpack
from mlp_ref.tolerances import tolerance

ORDER = {"loss": ("J", "dJdy_hat"), "backward": ("y_hat", "dW2", "db2", "dW1", "db1"),
         "train": ("y_hat", "J", "dJdy_hat", "dW2", "db2", "dW1", "db1")}
ORDER["twice"] = ORDER["train"]
STAGE = {"y_hat": "forward", "J": "loss", "dJdy_hat": "loss", "dW2": "backward", "db2": "backward",
         "dW1": "backward", "db1": "backward"}
NUMPY_OPTIONAL = ("dJdy_hat",)  # the five-stage interface need not expose dL/dy_hat


@dataclass
class Check:
    """One pass/fail line of the report."""
    name: str
    section: str
    passed: Optional[bool]          # None: skipped (the interface has no such call)
    case: Optional[object] = None   # battery.Case, None for the battery-wide checks
    step: Optional[int] = None
    quantity: Optional[str] = None  # the first quantity that disagrees
    comparison: Optional[Comparison] = None
    comparisons: list = field(default_factory=list)  # every comparison of the failing step
    error: Optional[dict] = None    # what the submission raised, or how the process ended
    message: str = ""
    note: str = ""
    diagnosis: Optional[str] = None
    evidence: str = ""
    actual: Optional[np.ndarray] = None
    expected: Optional[np.ndarray] = None
    arrays: dict = field(default_factory=dict, repr=False)  # everything the child returned for the case
    max_score: float = 1.0

    @property
    def score(self):
        return self.max_score if self.passed else 0.0


def arrays_of(event):
    """The arrays of one child event; ValueError for anything that is not a dict of packed arrays."""
    packed = (event or {}).get("arrays") or {}
    if not isinstance(packed, dict):
        raise ValueError(f"expected a dict of arrays, got {type(packed).__name__}")
    try:
        return {str(k): unpack(v) for k, v in packed.items()}
    except (TypeError, KeyError, AttributeError, ValueError) as e:
        raise ValueError(f"{type(e).__name__}: {e}") from None


def _tol_and_cast(actual, expected_dtype):
    """The tolerance of the less precise dtype; a float32 answer in a float64 case is compared, not failed."""
    tol = tolerance(expected_dtype)
    note = ""
    if actual.dtype != np.dtype(expected_dtype):
        if actual.dtype.kind == "f" and actual.dtype.itemsize < np.dtype(expected_dtype).itemsize:
            tol = tolerance("float32")
            note = f"returned {actual.dtype} in a {expected_dtype} case: compared with the float32 tolerance"
        elif actual.dtype.kind == "f":
            note = (f"returned {actual.dtype} in a {expected_dtype} case: compared after rounding to "
                    f"{expected_dtype}; the interface asks for the case's dtype")
        actual = actual.astype(expected_dtype)
    return actual, tol, note


def compare_one(name, actual, expected):
    """compare() after the dtype allowance; a one-element J is taken as a scalar."""
    if name == "J" and actual.size == 1:
        actual = actual.reshape(())
    actual, tol, note = _tol_and_cast(actual, expected.dtype)
    return compare(name, actual, expected, tol), actual, note


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


def case_check(case, expected, event, interface):
    """The Check for one case from torch's answers and the child's event for it (None: never reported)."""
    check = Check(case.describe, case.section, None, case=case,
                  max_score=0.0 if case.section == "robustness" else 1.0)
    if event is None:
        check.passed, check.message = False, "not run: the submission's process ended before this case"
        return check
    if event.get("skipped"):
        check.message = str(event["skipped"])
        # Decided here, not taken from the child: only what the interface cannot express is left ungraded.
        check.passed = None if case.kind not in SUPPORTED_KINDS.get(interface, ()) else False
        return check
    try:
        arrays = arrays_of(event)
    except ValueError as e:
        check.passed, check.message = False, f"the child's results for this case could not be read: {e}"
        return check
    error = event.get("error") if isinstance(event.get("error"), dict) else None
    steps = [None] if case.kind == "loss" else range(1, _steps(case) + 1)
    missing = None
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
            c, actual, note = compare_one(name, arrays[key], expected[key])
            if case.section == "robustness":
                c, note = _robust(c, actual, expected[key]), note or _robust_note(c, actual, expected[key])
            step_comparisons.append(c)
            check.note = check.note or note
            if not c.ok and first is None:
                first = (name, c, actual, expected[key])
        if first is not None:
            name, c, actual, exp = first
            check.passed, check.step, check.quantity, check.comparison = False, step, name, c
            check.comparisons, check.actual, check.expected = step_comparisons, actual, exp
            if error is not None:
                # What went wrong later is a consequence; the first disagreement is the story.
                check.message = f"afterwards, in {error.get('stage')}: {error.get('type')}: {error.get('message')}"
            check.arrays = arrays
            return check
        if error is not None and (error.get("step") in (step, None)):
            break
    if error is not None:
        check.passed, check.error, check.step = False, error, error.get("step")
        check.arrays = arrays
        return check
    if missing is not None:
        # Never a pass by omission: every value the case asks for must have come back.
        check.passed, check.message = False, f"{missing} is missing from what the child reported, with no error"
        return check
    check.passed = True
    return check


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
            changed = a.shape != original.shape or not np.array_equal(a, original.astype(a.dtype), equal_nan=True)
            if changed:
                check.passed = False
                check.case = case
                n = a.size if a.shape != original.shape else int((a != original.astype(a.dtype)).sum())
                check.message = (f"{call} modified {name} in place ({case.describe}): {n} / {original.size} "
                                 f"elements changed")
                check.diagnosis = "input_mutated"
                return check
    return check


def autograd_check(cases, events, import_calls=0):
    """No autograd: no call into torch's autograd (reverse or forward mode, torch.func), at import or in
    any case, and no returned tensor that tracks gradients."""
    check = Check("backward is hand-written: torch autograd never runs", "contract", True)
    if import_calls:
        check.passed, check.diagnosis = False, "autograd_used"
        check.message = f"torch's autograd ran {import_calls} time(s) while the submission was imported"
        return check
    for case in cases:
        event = events.get(case.id) or {}
        calls, tracked = event.get("autograd_calls", 0), event.get("tracked") or []
        if calls or tracked:
            check.passed, check.case, check.diagnosis = False, case, "autograd_used"
            what = [f"torch's autograd (engine, forward mode or torch.func) ran {calls} time(s)"] if calls else []
            what += [f"returned tensors carry autograd state (requires_grad or grad_fn): {sorted(set(tracked))}"] \
                if tracked else []
            check.message = "; ".join(what) + f" ({case.describe})"
            return check
    return check


def output_check(run, cap):
    check = Check(f"output stays under {cap} bytes (prints in forward/backward)", "contract", True)
    if run.output_bytes > cap or any(e.get("event") == "output_flood" for e in run.events):
        check.passed = False
        check.error = {"outcome": "output_flood"}
        check.message = (f"the submission printed over {cap} bytes ({max(run.output_bytes, cap + 1)} counted); "
                         "the rest was dropped")
    return check
