"""The homework's verdict, on the engine's model (mlp_ref.grader.verdict): the child's arrays against
torch's, case by case.

Each case becomes one Check. Within a step the quantities are compared in the order the math
produces them, so the first one that disagrees is where the error was born; every comparison of
that step is kept for the diagnoses. Three checks span the whole battery: inputs unchanged,
no autograd, output within the cap.
"""
from dataclasses import replace

import numpy as np

# The engine's verdict model, re-exported beside this homework's checks built on it.
from mlp_ref.grader.verdict import (Check, Failure, arrays_of, compare_graded, compare_one, headroom_of,  # noqa: F401
                                    keep_worst, output_check)
from mlp_ref.packs.dlsp_hw1.adapters import SUPPORTED_KINDS

ORDER = {"loss": ("J", "dJdy_hat"), "backward": ("y_hat", "dW2", "db2", "dW1", "db1"),
         "train": ("y_hat", "J", "dJdy_hat", "dW2", "db2", "dW1", "db1")}
ORDER["twice"] = ORDER["train"]
STAGE = {"y_hat": "forward", "J": "loss", "dJdy_hat": "loss", "dW2": "backward", "db2": "backward",
         "dW1": "backward", "db1": "backward"}
NUMPY_OPTIONAL = ("dJdy_hat",)  # the five-stage interface need not expose dL/dy_hat


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
    # Every step's quantities, each step's up to the first one missing; compared in one batch, then read
    # step by step below (a step after the first failing one is compared and never read).
    present = []
    for step in steps:
        prefix = "" if step is None else f"{step}."
        names = []
        for name in ORDER[case.kind]:
            if prefix + name not in arrays:
                if interface == "numpy" and name in NUMPY_OPTIONAL and error is None:
                    continue
                missing = missing or prefix + name
                break
            names.append(name)
        present.append((step, prefix, names))
    compared = iter(compare_graded([(name, arrays[prefix + name], expected[prefix + name], noise.get(prefix + name),
                                     case.section == "probe") for _, prefix, names in present for name in names]))
    for step, prefix, names in present:
        step_comparisons, first = [], None
        for name in names:
            key = prefix + name
            c, actual, n = next(compared)
            if case.section == "robustness":
                c, n = _robust(c, actual, expected[key]), n or _robust_note(c, actual, expected[key])
            step_comparisons.append(c)
            keep_worst(worst, c, expected[key])
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
            arrays = arrays_of(events.get(case.id), keep=lambda key: "@" in key)  # the inputs after each call
        except ValueError:
            continue  # that case's own check reports it
        for key, a in arrays.items():
            head, _, call = key.partition("@")
            name = head.split(".")[-1]
            if name == "dJdy_hat":
                if call == "before":
                    continue
                original = arrays.get(head + "@before")
            else:
                original = case.array(name) if name in case.inputs else None
            if original is None:
                continue  # nothing to compare it with (not a name the runner records)
            if a.shape == original.shape:
                original = original.astype(a.dtype)
                # The same bytes (the usual case, a tenth of array_equal's cost), or equal values.
                if a.tobytes() == original.tobytes() or np.array_equal(a, original, equal_nan=True):
                    continue
            n = a.size if a.shape != original.shape else int((a != original).sum())
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
