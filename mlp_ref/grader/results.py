"""Results for a course platform from a pack's report of units: Gradescope's results.json (one test per
config section) and PrairieLearn's external-grading results.json (derived from the Gradescope one).

A report here is data with `.units` (each: name, section, status, diagnosis, message, fix), `.problem`,
`.variant`, `.variant_why`, `.graded_line` (as mlp_ref.packs.report.PackReport); `sections` is the pack's
{section: (unit, ...)} in report order, handed in by the caller. A section's points are shared by its graded
units (every status but "n/a"); a section whose units are all n/a (not part of the variant the submission
follows: a year without layer norm) earns its points, as the student could not have written them; a
section the config leaves out is shown to staff only, for no points.

PrairieLearn (its external grader writes /grade/results/results.json): `score` in [0, 1] (the points over
the total), `gradable` (false only when nothing was submitted: no attempt is spent), `message`, and
`tests` with name, points, max_points, output. PrairieLearn has no per-test visibility, so a test that
Gradescope would hide from the student (hidden, after_due_date, after_published) shows its points only,
and a staff-only test is left out.
"""
STUDENT_VISIBLE = "visible"
FAILED_NAME = "The autograder failed; tell your instructor"
MAX_UNIT_LINES = 12


def _unit_lines(units):
    """The failing units first, each with its message, diagnosis and fix; then one line of the passing ones."""
    failing = [u for u in units if u.status not in ("pass", "n/a")]
    out = []
    for u in failing[:MAX_UNIT_LINES]:
        out.append(f"{u.status.upper()} {u.name}" + (f" [{u.diagnosis}]" if u.diagnosis else ""))
        out += [f"    {line}" for line in (u.message or "").splitlines()[:6] if line.strip()]
        if u.fix:
            out.append(f"    fix: {u.fix}")
    if len(failing) > MAX_UNIT_LINES:
        out.append(f"... and {len(failing) - MAX_UNIT_LINES} more failing")
    passing = [u.name for u in units if u.status == "pass"]
    if passing:
        out.append("pass: " + ", ".join(passing))
    absent = [u.name for u in units if u.status == "n/a"]
    if absent:
        out.append("not part of this variant: " + ", ".join(absent))
    return "\n".join(out)


def section_rows(report, assignment, sections):
    """[(section, points, visibility, graded units, score)] for every section with units or points."""
    rows = []
    for name, unit_names in sections.items():
        units = [u for u in report.units if u.section == name or u.name in unit_names]
        graded = [u for u in units if u.status != "n/a"]
        conf = assignment.sections.get(name)
        if not graded and conf is None:
            continue
        points = conf.points if conf else 0.0
        # Never a pass by omission: a report with no units at all (nothing could be graded) earns nothing.
        score = points * sum(u.status == "pass" for u in graded) / len(graded) if graded else (points if units else 0.0)
        rows.append((name, points, conf.visibility if conf else "hidden", units, score))
    return rows


def gradescope(report, assignment, sections):
    """Gradescope's results.json for one report: one test per section, then a staff-only test."""
    tests = []
    for name, points, visibility, units, score in section_rows(report, assignment, sections):
        passed = bool(units) and all(u.status in ("pass", "n/a") for u in units)
        tests.append({"name": name, "score": round(score, 6), "max_score": points,
                      "status": "passed" if passed else "failed", "output": _unit_lines(units) or "nothing graded",
                      "visibility": visibility})
    staff = [f"variant: {report.variant} ({report.variant_why})"]
    staff += [report.graded_line] if report.graded_line else []
    staff += [f"problem: {report.problem}"] if report.problem else []
    tests.append({"name": "staff: the grader's facts (not scored)", "score": 0.0, "max_score": 0.0,
                  "output": "\n".join(staff), "visibility": "hidden"})
    total = round(sum(t["score"] for t in tests), 6)
    return {"score": total, "output": report.problem or "", "stdout_visibility": "hidden", "tests": tests}


def no_submission(message):
    """Gradescope's results.json when nothing gradable was submitted."""
    return {"score": 0.0, "output": message, "stdout_visibility": "hidden",
            "tests": [{"name": "submission", "score": 0.0, "max_score": 0.0, "status": "failed", "output": message,
                       "visibility": "visible"}]}


def grader_failed(trace, seconds=0.0):
    """results.json when the grader itself broke: score 0, a visible plea, the traceback for staff."""
    plea = "The autograder failed while grading this submission; this is not your fault. Tell your instructor."
    return {"score": 0.0, "execution_time": round(seconds, 2), "output": plea, "stdout_visibility": "hidden",
            "tests": [{"name": FAILED_NAME, "score": 0.0, "max_score": 0.0, "status": "failed", "output": plea,
                       "visibility": "visible"},
                      {"name": "autograder traceback (staff only)", "score": 0.0, "max_score": 0.0,
                       "output": trace[-20000:], "visibility": "hidden"}]}


def prairielearn(results, total_points, gradable=True):
    """PrairieLearn's results.json from Gradescope's (the same points, as a fraction of the total)."""
    tests = []
    for t in results.get("tests", []):
        shown = t.get("visibility", STUDENT_VISIBLE) == STUDENT_VISIBLE
        if not shown and not t.get("max_score"):
            continue  # staff-only facts: PrairieLearn would show them to the student
        tests.append({"name": t["name"], "points": t.get("score", 0.0), "max_points": t.get("max_score", 0.0),
                      "output": t.get("output", "") if shown else "(shown to staff only)"})
    if not gradable:
        message = results.get("output") or "nothing gradable was submitted"
        return {"gradable": False, "format_errors": [message], "message": message, "tests": tests}
    score = min(1.0, max(0.0, float(results.get("score", 0.0)) / total_points)) if total_points > 0 else 0.0
    passed = sum(t["points"] == t["max_points"] for t in tests if t["max_points"])
    out_of = sum(1 for t in tests if t["max_points"])
    message = f"{passed}/{out_of} sections earn their points: {results.get('score', 0.0):g} of {total_points:g}"
    return {"gradable": True, "score": round(score, 6), "message": message, "tests": tests}
