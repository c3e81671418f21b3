"""The report in four forms: text for a student, JSON, Gradescope's results.json, one CSV row per submission."""
import csv
import io

import numpy as np

from mlp_ref.packs.dlsp_hw1 import diagnose
from mlp_ref.tolerances import BCE_EPS, GRADING

SECTION_ORDER = ("interface", "loss", "backward", "end-to-end", "edge", "contract", "robustness", "probe")
OPTIONAL = ("robustness", "probe")  # reported always, graded only under --strict
SECTION_TITLES = {"interface": "interface", "loss": "losses alone (J, dJdy_hat for given y, y_hat)",
                  "backward": "backward alone (known dJdy_hat)", "end-to-end": "end to end, with SGD steps",
                  "edge": "edge cases", "contract": "contract", "robustness": "numerical robustness",
                  "probe": "float64 probe (the same cases in float64)"}
# How torch stays finite, by the kind of robustness case (the first word of its `why`).
TORCH_AVOIDS = {
    "overflow": "how torch avoids it: torch.sigmoid never takes exp of a large positive number; it evaluates "
                "exp(-|z|), which lies in (0, 1], so |z| > 88 gives 0 or 1, never inf/inf.",
    "saturated": "how torch avoids it: BCELoss clamps each log term at -100, so log(0) counts as -100 and "
                 "0 * log(0) never becomes NaN; its gradient divides by max(y_hat (1 - y_hat), 1e-12).",
}


OUTCOME_WORDS = {"unwritten": "not implemented yet", "crashed": "raised", "timeout": "ran out of time", "exited": "exited",
                 "memory_limit": "ran out of memory", "import_error": "failed"}


def tolerance_line(dtype="float32"):
    t = GRADING[dtype]
    return (f"graded in {dtype}; pass when |submission - torch| <= {t.describe()} (mlp_ref.tolerances.GRADING), "
            f"noise = this case's |torch float32 - torch float64| scaled to {dtype} + the move of torch's answer "
            f"under a BCE eps of {BCE_EPS:g} (y_hat moved toward 1/2, or added to y_hat (1 - y_hat))")


def headroom_text(h):
    """The worst error as a fraction of its allowance, in words."""
    if h == float("inf"):
        return "a shape or dtype mismatch, so no allowance applies"
    return "headroom n/a" if h is None else f"worst error {h:.2g} of its allowance"


def best_fit(check):
    """For an unknown shape: the scalar c minimising |actual - c torch|, and what is left over."""
    a, e = check.actual, check.expected
    if a is None or a.shape != e.shape or not np.all(np.isfinite(a)) or not np.any(e):
        return ""
    a, e = a.astype(np.float64).ravel(), e.astype(np.float64).ravel()
    c = float(a @ e / (e @ e))
    left = float(np.linalg.norm(a - c * e) / max(np.linalg.norm(a), 1e-300))
    return f"best scalar fit: submission = {c:.6g} x torch, {left:.0%} of it left unexplained"


def failure_lines(check):
    """The story of one failed check, indented under its name."""
    lines = []
    err = check.error or {}
    if check.comparison is not None:
        c = check.comparison
        stage = {"y_hat": "forward", "J": "loss", "dJdy_hat": "loss"}.get(c.name, "backward")
        where = "" if check.step is None else f"step {check.step}, "
        lines.append(f"{where}{stage}, {c.name}  {c.shape} {c.dtype}: first quantity that disagrees")
        lines += [s.strip() for s in c.describe("submission", "torch").splitlines()]
        earlier = [x.name for x in check.comparisons[:check.comparisons.index(c)]] if c in check.comparisons else []
        if earlier:
            lines.append("earlier ok: " + ", ".join(earlier))
    elif err.get("outcome") == "unwritten":
        lines.append(f"not implemented yet: {err.get('function')}"
                     + (f" (line {err['line']}: {err.get('source') or ''})" if err.get("line")
                        else " (it returns None)" if "returned None" in str(err.get("message")) else ""))
    elif err.get("type"):
        step = f" (step {err['step']})" if err.get("step") else ""
        lines.append(f"{OUTCOME_WORDS.get(err['outcome'], err['outcome'])} in {err.get('stage')}{step}: "
                     f"{err['type']}: {err.get('message', '')}")
        if err.get("line"):
            lines.append(f"line {err['line']}: {err.get('source') or ''}")
    if check.message and not (err.get("type") and str(err.get("message")) in check.message) \
            and err.get("outcome") != "unwritten":
        lines.append(check.message)
    if check.note:
        lines.append("note: " + check.note)
    if check.diagnosis:
        words = diagnose.WORDS.get(check.diagnosis, "")
        lines.append(f"diagnosis [{check.diagnosis}]: " + (check.evidence + ". " if check.evidence else "")
                     + (words if "_" in words.split(" ")[0] else words[:1].upper() + words[1:]))
    elif check.comparison is not None and not check.comparison.problem:
        fit = best_fit(check)
        if fit:
            lines.append(fit)
    if check.section == "robustness" and check.diagnosis == "non_finite":
        lines.append(TORCH_AVOIDS.get(check.case.why.split(":")[0], ""))
    return lines


def _signature(check):
    """Failures that tell the same story: the same diagnosis on the same quantity, or the same error line."""
    err = check.error or {}
    return (check.diagnosis, check.quantity, err.get("type"), err.get("line"), err.get("function"),
            check.message if not err else "")


def number(x):
    """A score or a point count in at most 2 decimals: 10, 5.56."""
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _as_above(c):
    err = c.error or {}
    what = ("not implemented yet: " + err["function"] if err.get("function")
            else c.quantity or err.get("type") or ("autograd" if c.diagnosis == "autograd_used" else "not run"))
    return (f"as above: {what}" + (f" [{c.diagnosis}]" if c.diagnosis else "")
            + (f" at step {c.step}" if c.step and c.step > 1 else ""))


def _graded(report, section):
    return section not in OPTIONAL or report.strict


def _section_line(report, section, checks):
    n_ok, n_skip = sum(bool(c.passed) for c in checks), sum(c.passed is None for c in checks)
    title = SECTION_TITLES[section] + ("" if _graded(report, section) else " (reported, not graded; --strict grades it)")
    if report.points is not None and _graded(report, section) and section in report.free_sections:
        title += " (no points in this assignment)"
    h = report.headroom(section)
    return (f"{title}: {n_ok}/{len(checks) - n_skip} pass" + (f", {n_skip} skipped" if n_skip else "")
            + ("" if h is None else f"; {headroom_text(h)}"))


def _mark(report, c):
    if c.passed is False and not report.costs_points(c) and _graded(report, c.section):
        return "note"  # fails, costs nothing under this assignment's points
    return {True: "ok  ", False: "FAIL", None: "skip"}[c.passed]


def _check_lines(report, checks, told, everything):
    out, repeats = [], {}
    for c in checks:
        if not everything and c.passed is not False:
            continue
        if not everything and _signature(c) in told and c.case is not None:
            # The short report names a repeated story once, with how many more checks tell it.
            repeats.setdefault(_signature(c), [c, 0])[1] += 1
            continue
        out.append(f"  {_mark(report, c)} {c.name}" + (f"  ({c.message})" if c.passed is None else ""))
        if c.passed is False:
            lines = [_as_above(c)] if _signature(c) in told and c.case is not None else failure_lines(c)
            told.add(_signature(c))
            out += ["         " + line for line in lines]
    for c, n in repeats.values():
        out.append(f"  {_mark(report, c)} {n} more {c.section} check{'s' * (n > 1)} ({_as_above(c)})")
    return out


def _sections(report):
    for section in SECTION_ORDER:
        checks = diagnose.telling_order([c for c in report.checks if c.section == section])
        if checks:
            yield section, checks


def summary_line(report):
    """The verdict in one line: with a config, the points decide; without, every graded check."""
    checks = f"{sum(bool(c.passed) for c in report.graded)}/{len(report.graded)} graded checks pass"
    only = f" (only {', '.join(report.only)}: -k)" if report.only else ""
    verdict = "PASS" if report.passed else "FAIL"
    if report.points is None:
        return f"score {number(report.score)}/{number(report.max_score)}{only} -> {verdict}"
    return f"{report.assignment}: {number(report.points)} / {number(report.max_points)} points ({checks}){only} -> {verdict}"


def _notes(report):
    """Failing checks that cost no points under the assignment: listed under the points, never as FAIL."""
    free = [c for c in report.checks if c.passed is False and _graded(report, c.section) and not report.costs_points(c)]
    if report.points is None or not free:
        return []
    out = [f"notes (these fail but cost no points in {report.assignment}):"]
    for c in free[:5]:
        lines = failure_lines(c) or ["failed"]
        out += [f"  {c.name}: {lines[0]}"] + [f"    {x}" for x in lines[1:] if x.startswith("diagnosis")]
    return out + ([f"  ... and {len(free) - 5} more (-v lists them)"] if len(free) > 5 else [])


def _footer(report, verbose, shown):
    out = []
    if report.probe.text and "probe" not in shown:
        out.append(f"float64: {report.probe.text}")
    if verbose and report.diagnoses:
        out.append("diagnoses:")
        out += [f"  {d} ({n} check{'s' * (n > 1)}): {words}" for d, words, n in report.diagnoses]
    if report.containment:
        out.append("contained: " + ", ".join(report.containment))
    h = report.headroom_graded()
    if h is not None and h != float("inf"):
        out.append(f"headroom: {headroom_text(h)}")
    return out


def text(report, mode="verbose", exitfirst=False):
    """The report as text. mode: "verbose" lists every check; "short" the failures by section, one line for
    the sections that pass, the findings and the verdict; "quiet" the failures and the verdict alone.
    exitfirst: stop after the first section with a failure that costs points."""
    verbose, told = mode == "verbose", set()
    out = [] if mode == "quiet" else [
        f"mlp-ref check {report.path}: {report.interface or 'no'} interface, "
        f"{len(report.graded)} graded checks in {report.seconds:.1f} s", tolerance_line(report.dtype), ""]
    passing, skipped, unlisted, stopped, shown = [], [], [], None, set()
    sections = list(_sections(report))
    for i, (section, checks) in enumerate(sections):
        failing = [c for c in checks if c.passed is False]
        if not verbose and not _graded(report, section):
            unlisted.append(f"{SECTION_TITLES[section]} {sum(bool(c.passed) for c in checks)}/"
                            f"{sum(c.passed is not None for c in checks)}")
            continue
        if not verbose and not any(report.costs_points(c) for c in failing):
            # Failures that cost no points are told once, as notes under the points.
            n = sum(c.passed is not None for c in checks)
            (passing if n else skipped).append(f"{section} {n}/{n}" if n else f"{section} ({checks[0].message})")
            continue
        shown.add(section)
        if mode != "quiet":
            out.append(_section_line(report, section, checks))
        if section == "probe":
            out.append(f"  {report.probe.text}")
            if not report.strict:
                # Ungraded: the finding says what to fix; the first failure shows it, the rest would repeat it.
                checks = failing[:1]
        out += _check_lines(report, checks, told, verbose)
        out.append("")
        if exitfirst and any(report.costs_points(c) for c in failing) and i + 1 < len(sections):
            stopped = [s for s, _ in sections[i + 1:]]
            break
    if stopped:
        out += [f"stopped at the first failing section (-x): not shown: {', '.join(stopped)}", ""]
    if mode == "quiet":
        return "\n".join(out + _notes(report) + [summary_line(report)])
    if passing:
        out.append("all pass: " + ", ".join(passing))
    if skipped:
        out.append("skipped: " + ", ".join(skipped))
    if unlisted:
        out.append("reported, not graded (--strict grades them; -v lists them): " + ", ".join(unlisted))
    out += _footer(report, verbose, shown) + _notes(report)
    out.append(summary_line(report))
    return "\n".join(out)


def _check_dict(c):
    d = {"name": c.name, "section": c.section, "passed": c.passed, "score": c.score, "max_score": c.max_score,
         "case": None if c.case is None else {k: getattr(c.case, k) for k in
                                              ("id", "kind", "f", "g", "loss", "n", "d", "h", "k", "dtype", "steps")},
         "step": c.step, "quantity": c.quantity, "diagnosis": c.diagnosis, "evidence": c.evidence or None,
         "message": c.message or None, "note": c.note or None, "error": c.error, "headroom": c.headroom}
    if c.comparison is not None:
        d["comparison"] = c.comparison.to_dict()
    return d


def as_json(report):
    first = report.first_failure()
    return {"passed": report.passed, "path": report.path, "interface": report.interface, "problem": report.problem,
            "score": report.score, "max_score": report.max_score,
            # With a config, the points are the verdict (passed is points == max_points); None without one.
            "assignment": report.assignment, "points": report.points, "max_points": report.max_points,
            "only": list(report.only) or None, "summary": summary_line(report), "outcome": report.outcome,
            "containment": report.containment, "strict": report.strict, "seconds": round(report.seconds, 3),
            "dtype": report.dtype, "tolerance": {**GRADING[report.dtype]._asdict(), "bce_eps": BCE_EPS,
                                                 "model": tolerance_line(report.dtype)},
            "headroom": {"overall": report.headroom_graded(),
                         "sections": {s: report.headroom(s) for s in SECTION_ORDER
                                      if report.headroom(s) is not None}},
            "float64": {"runs": report.probe.runs, "finding": report.probe.text or None,
                        "line": report.probe.line},
            "diagnoses": [{"id": d, "words": w, "checks": n} for d, w, n in report.diagnoses],
            "first_failure": None if first is None else first_failure_text(first),
            "output_bytes": report.output_bytes,
            "checks": [_check_dict(c) for c in report.checks]}


def gradescope(report):
    """Gradescope's autograder results.json: one test per check (the float64 probe as one), and the total."""
    tests = []
    for c in report.checks:
        if c.passed is None or c.section == "probe":
            continue
        output = "passed" if c.passed else "\n".join(failure_lines(c))
        tests.append({"name": c.name, "score": c.score, "max_score": c.max_score, "output": output,
                      "visibility": "visible"})
    probes = [c for c in report.checks if c.section == "probe" and c.passed is not None]
    if probes:
        tests.append({"name": "float64 probe: the same cases in float64", "score": sum(c.score for c in probes),
                      "max_score": sum(c.max_score for c in probes), "output": report.probe.text,
                      "visibility": "visible"})
    diagnoses = "; ".join(d for d, _, _ in report.diagnoses)
    return {"score": report.score, "max_score": report.max_score, "execution_time": round(report.seconds, 2),
            "output": tolerance_line(report.dtype) + (f"\n{diagnoses}" if diagnoses else ""),
            "stdout_visibility": "visible", "tests": tests}


def first_failure_text(check):
    lines = failure_lines(check)
    return f"{check.name}: " + " | ".join(lines[:1] + [x for x in lines if x.startswith("diagnosis")])


CSV_FIELDS = ("path", "passed", "score", "max_score", "diagnosis", "first_failure")


def csv_text(reports, extra=None):
    """One row per report; `extra` maps further column names to one value per report."""
    extra = extra or {}
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_FIELDS + tuple(extra))
    for i, r in enumerate(reports):
        first = r.first_failure()
        writer.writerow([r.path, r.passed, number(r.score), number(r.max_score),
                         r.diagnoses[0][0] if r.diagnoses else "", "" if first is None else first_failure_text(first)]
                        + [values[i] for values in extra.values()])
    return buf.getvalue()
