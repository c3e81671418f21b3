"""Gradescope's results.json from one Report and the assignment's config: one test per section.

Each section's points are shared by the checks it grades (partial credit); a section the config
leaves out is reported for 0 points. The battery runs in the assignment's dtype; the float64 probe
(a float32 assignment's run in float64) is shown to staff only, in a hidden test that also holds the
headroom, the integrity flags and the grader's own facts; it never carries points.
"""
import re
import threading
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

from mlp_ref.grader import sandbox
from mlp_ref.grader.results import FAILED_NAME, grader_failed  # noqa: F401  (the engine's, for every pack)
from mlp_ref.packs.dlsp_hw1 import config, submission
from mlp_ref.packs.dlsp_hw1 import battery, grade
from mlp_ref.packs.dlsp_hw1 import report as text_report
from mlp_ref.grader.submission import notebook_lines

ORDER = tuple(config.SECTIONS)  # rows in the battery's order: interface first, robustness last
MAX_LISTED = 5


@dataclass
class SectionScore:
    name: str                     # the config's name (end_to_end)
    points: float                 # what the config gives it (0 when left out)
    visibility: str
    graded: list = field(default_factory=list)   # the checks that count

    @property
    def passed(self):
        return [c for c in self.graded if c.passed]

    @property
    def score(self):
        if not self.graded:
            return 0.0
        return self.points * len(self.passed) / len(self.graded)


BATTERY_WIDE = ("interface", "contract")  # checks over every case at once, not one case's


def sections(report, assignment):
    """A SectionScore for every section that has checks or points, in ORDER (the probe is not one)."""
    out = []
    for name in ORDER:
        checks = [c for c in report.checks if c.section == config.SECTIONS[name] and c.passed is not None]
        conf = assignment.sections.get(name)
        if checks or conf is not None:
            # A section the config leaves out is reported to staff only: shown to students, its
            # diagnoses could give away what a hidden or later section grades.
            out.append(SectionScore(name, conf.points if conf else 0.0, conf.visibility if conf else "hidden",
                                    checks))
    return out


def grading(assignment):
    """What the assignment sets for grade.grade(): limits, strictness, seed."""
    return dict(limits=sandbox.Limits(timeout_s=assignment.timeout), strict=assignment.strict, seed=assignment.seed,
                dtype=assignment.dtype)


def unscorable(assignment, cases=None):
    """(key, problem) for a section given points that no case of the assignment's dtype can earn, or None."""
    cases = battery.build(assignment.seed, assignment.dtype) if cases is None else cases
    for name, conf in assignment.sections.items():
        grader_section = config.SECTIONS[name]
        if conf.points == 0 or grader_section in BATTERY_WIDE:
            continue
        if not any(c.section == grader_section and c.dtype == assignment.dtype for c in cases):
            return f"sections.{name}.points", f"{conf.points:g} points on a section with no {assignment.dtype} case"
    return None


# CommonMark reads these as markup anywhere in a line; a backslash makes each one literal.
_INLINE = re.compile(r"([\\`*_\[\]<>|~&#])")
# ... and these at a line's start: a list, a heading's rule, a quote, a numbered list.
_LINE_START = re.compile(r"^([-+=>]|\d+(?=[.)]))")


def escape(text):
    """Plain text that renders as itself in Gradescope's Markdown (no emphasis from 3e-05*x + 20*noise,
    no table from pipes, no code block from an indent)."""
    lines = [_INLINE.sub(r"\\\1", line).strip() for line in str(text).splitlines()]
    return "\n".join(_LINE_START.sub(_literal_start, line) for line in lines)


def _literal_start(m):
    mark = m.group(1)
    return "\\" + mark if not mark[0].isdigit() else mark + "\\"


def fence(lines):
    """Lines in a fenced code block, its fence longer than any run of backticks inside (a quoted source
    line may hold some)."""
    longest = max([len(run) for x in lines for run in re.findall(r"`+", x)] + [2])
    bar = "`" * (longest + 1)
    return [bar, *lines, bar]


def cause(report, checks):
    """(the failure that explains a section, whether it lies outside the section): the section's first
    diagnosed failure, or one that ran out of time or raised on a student's line; failing that, the first
    such failure anywhere in the battery (a later section's cases are often 'not run' because of an
    earlier one's endless loop); else the section's first failure."""
    failed = [c for c in checks if c.passed is False]
    here = next((c for c in failed if _explains(c)), None)
    if here is not None or not failed:
        return here, False
    elsewhere = next((c for c in report.checks if c.passed is False and _explains(c)), None)
    return (elsewhere, True) if elsewhere is not None else (failed[0], False)


def _explains(check):
    err = check.error or {}
    return bool(check.diagnosis or err.get("line") or err.get("outcome") in ("timeout", "memory_limit", "unwritten"))


def _first_failure_md(check, module, title="First failure"):
    lines = [notebook_lines(x, module) for x in text_report.failure_lines(check)]
    numbers = [x for x in lines if not x.startswith(("diagnosis", "note:"))]
    out = [f"{title}: **{escape(check.name)}**"]
    if numbers:
        out += fence(numbers)
    for x in lines:
        if x.startswith("diagnosis ["):
            head, _, rest = x.partition("]: ")
            out.append(f"**Diagnosis `{head[len('diagnosis ['):]}`**: {escape(rest)}")
        elif x.startswith("note:"):
            out.append(f"*{escape(x)}*")
    return out


def section_output(s, report, assignment):
    """The Markdown a student reads under one section's test."""
    dtype = f" ({assignment.dtype})" if config.SECTIONS[s.name] not in BATTERY_WIDE else ""
    if s.points == 0:
        dtype += " (reported; this section carries no points in this assignment)"
    if not s.graded:
        why = "the submission did not import" if report.interface is None else \
            f"no check of this section applies to the {report.interface} interface"
        return f"No graded checks{dtype}: {why}."
    head = f"**{len(s.passed)} / {len(s.graded)} checks pass**{dtype}"
    if report.interface is None and config.SECTIONS[s.name] != "interface":
        # One story, told once: nothing ran because the import failed.
        problem = notebook_lines(report.problem or "", getattr(report, "module", None))
        return "\n".join([f"{head}: not run, because the submission did not import, or implements neither "
                          "interface:", *fence(problem.splitlines())])
    if len(s.passed) == len(s.graded):
        return head + ". All passed."
    failed = [c for c in s.graded if not c.passed]
    out = [head + f"; {len(failed)} fail.", ""]
    pairs = _by_pair(s.graded)
    if pairs:
        out += [pairs, ""]
    module = getattr(report, "module", None)
    first, elsewhere = cause(report, s.graded)
    if elsewhere:
        # This section's own failures show no cause (not run, or only a shape): the cause is told here.
        own = (text_report.failure_lines(failed[0]) or [""])[0]
        out += [f"First failure: **{escape(failed[0].name)}**: {escape(own)}", ""]
        out += _first_failure_md(first, module, f"The cause, found in the {first.section} checks")
    else:
        out += _first_failure_md(first, module)
        failed = [first] + [c for c in failed if c is not first]
    if len(failed) > 1:
        out += ["", "Also failing:"]
        out += [f"- {escape(c.name)}" + (f" [`{c.diagnosis}`]" if c.diagnosis else "")
                for c in failed[1:MAX_LISTED + 1]]
        if len(failed) > MAX_LISTED + 1:
            out.append(f"- ... and {len(failed) - MAX_LISTED - 1} more")
    return "\n".join(out)


def _by_pair(checks):
    """'passing by f-g: relu-relu 4/4, relu-sigmoid 0/4, ...' where the checks have activations (else '')."""
    tally = {}
    for c in checks:
        if c.case is not None and c.case.f != "-":
            ok, n = tally.get((c.case.f, c.case.g), (0, 0))
            tally[c.case.f, c.case.g] = (ok + bool(c.passed), n + 1)
    if len(tally) < 2:
        return ""
    return escape("Passing by f-g: " + ", ".join(f"{f}-{g} {ok}/{n}" for (f, g), (ok, n) in tally.items()))


def staff_output(report):
    """The hidden test: what was graded, the float64 probe, the headroom, the integrity flags, how the run went."""
    module = getattr(report, "module", None)
    out = [escape(f"graded file: {report.path}; interface: {report.interface or 'none'}; "
                  f"{report.seconds:.1f} s; outcome: {report.outcome}")]
    if getattr(report, "note", ""):
        out.append(escape(f"note: {report.note}"))
    probe = [c for c in report.checks if c.section == "probe" and c.passed is not None]
    if probe or report.probe.text:
        counts = f"{sum(bool(c.passed) for c in probe)} / {len(probe)} pass" if probe else "not run"
        text = notebook_lines(report.probe.text, module)
        out.append(escape(f"float64 probe (not scored): {counts}" + (f"; {text}" if text else "")))
    headroom = report.headroom_graded()
    if headroom == float("inf"):
        out.append("headroom: none, a graded quantity has the wrong shape or dtype (no allowance applies)")
    elif headroom is not None:
        out.append(f"headroom: the worst graded error is {headroom:.2g} of its allowance (above 1 fails)")
    flags = getattr(report, "flags", [])
    out.append(f"integrity flags ({len(flags)}, for a human to review; they cost no points):")
    out += [f"- {escape(f.describe(module.where(f.line) if module else None))}" for f in flags] or ["- none"]
    if report.output_head:
        out += ["output (first lines):", *fence(report.output_head[:800].splitlines())]
    return "\n".join(out)


def results(report, assignment):
    """Gradescope's results.json for one graded Report."""
    scores = sections(report, assignment)
    score_points(report, assignment)
    # status: Gradescope counts a test as passed when score >= max_score, so a failing 0-point row
    # would show as passed without it.
    tests = [{"name": f"{s.name.replace('_', ' ')}", "score": round(s.score, 6), "max_score": s.points,
              "status": "passed" if s.graded and len(s.passed) == len(s.graded) else "failed",
              "output": section_output(s, report, assignment), "output_format": "md",
              "visibility": s.visibility} for s in scores]
    tests.append({"name": "staff only: probe, integrity flags, run facts", "score": 0, "max_score": 0, "status": "passed",
                  "output": staff_output(report), "output_format": "md",
                  "visibility": "hidden"})
    points = round(sum(s.score for s in scores), 6)
    note = f" Note: {report.note}." if getattr(report, "note", "") else ""
    return {"score": points, "execution_time": round(report.seconds, 2),
            "output": escape(f"{assignment.name}: {text_report.number(points)} / "
                             f"{text_report.number(assignment.total_points)} points.{note} "
                             + text_report.tolerance_line(report.dtype)),
            "output_format": "md", "stdout_visibility": assignment.stdout_visibility, "tests": tests,
            # Kept by Gradescope, shown to no one: what a later script over the class needs.
            "extra_data": {"graded_file": report.path, "interface": report.interface, "outcome": report.outcome,
                           "sections": {s.name: [round(s.score, 6), s.points] for s in scores},
                           "flags": [asdict(f) for f in getattr(report, "flags", [])]}}


def no_submission(message, assignment, seconds=0.0):
    """results.json for a submission with nothing to grade: score 0 and what to upload."""
    message = escape(message)
    return {"score": 0.0, "execution_time": round(seconds, 2), "output": message, "output_format": "md",
            "stdout_visibility": assignment.stdout_visibility if assignment else "hidden",
            "tests": [{"name": "submission", "score": 0.0, "status": "failed",
                       "max_score": assignment.total_points if assignment else 0.0, "output": message,
                       "output_format": "md", "visibility": "visible"}]}


def run(root, config_path, folder=None):
    """results.json for the one submission under `folder` (default root/submission); never raises, whatever breaks."""
    t0 = time.perf_counter()
    try:
        assignment = config.load(config_path)
        folder = Path(root) / "submission" if folder is None else Path(folder)
        try:
            path, note = submission.pick(folder, assignment.file)
        except submission.NoSubmission as e:
            return no_submission(str(e), assignment, time.perf_counter() - t0)
        # A lone process that has run no torch op yet forks the child itself: no fork server to start.
        report = submission.grade_file(path, note=note, **grading(assignment),
                                       from_parent=threading.active_count() == 1 and not grade.answers_ready())
        report.path = str(path.relative_to(folder))
        report.seconds = time.perf_counter() - t0
        return results(report, assignment)
    except BaseException:  # noqa: B036  (Gradescope must always get a file; the traceback goes to staff)
        return grader_failed(traceback.format_exc(), time.perf_counter() - t0)


def total(report, assignment):
    """The report's score under the assignment's points (what Gradescope would show)."""
    return round(sum(s.score for s in sections(report, assignment)), 6)


def score_points(report, assignment):
    """The report with the assignment's verdict on it: its points, out of the total, and the sections that
    carry none (a check failing there is a note). The points then decide `passed`; returns the report."""
    free = tuple(config.SECTIONS[name] for name in ORDER if not getattr(assignment.sections.get(name), "points", 0))
    report.assignment, report.points, report.max_points = assignment.name, total(report, assignment), \
        assignment.total_points
    report.free_sections = free + ("probe",)
    return report
