"""A pack's report as data (one row per unit), and its renderings: text for a student, JSON, one CSV row.

Statuses: pass; fail (a number disagrees with the oracle, or a property does not hold); missing (the
function or class is not in the package); crash (it raised, or the process died); timeout (it ran out
of time); n/a (not part of this variant of the assignment, and absent).
"""
import csv
import io
from dataclasses import dataclass, field
from typing import Optional

STATUSES = ("pass", "fail", "missing", "crash", "timeout", "n/a")
FAILING = ("fail", "missing", "crash", "timeout")


@dataclass(frozen=True)
class Unit:
    name: str
    section: str
    status: str
    diagnosis: Optional[str] = None
    message: str = ""
    fix: str = ""

    def as_json(self):
        return {"name": self.name, "section": self.section, "status": self.status, "diagnosis": self.diagnosis,
                "message": self.message, "fix": self.fix or None}


@dataclass
class PackReport:
    path: str
    pack: str
    units: list = field(default_factory=list)
    variant: str = ""
    variant_why: str = ""
    package: str = ""           # the package graded, as a path inside the submission ("assignment2/cs231n")
    problem: str = ""           # why nothing could be graded, when nothing could
    seconds: float = 0.0
    output_head: str = ""

    @property
    def passed(self):
        return bool(self.units) and all(u.status not in FAILING for u in self.units)

    def count(self, status):
        return sum(u.status == status for u in self.units)

    @property
    def graded(self):
        return [u for u in self.units if u.status != "n/a"]

    @property
    def score(self):
        return self.count("pass")

    @property
    def max_score(self):
        return len(self.graded)

    @property
    def graded_line(self):
        """"graded: <package>/" where the package sits below the submission's top, else "" (nothing to say)."""
        return f"graded: {self.package}/" if "/" in self.package else ""

    def summary(self):
        counts = ", ".join(f"{self.count(s)} {s}" for s in STATUSES if self.count(s))
        return (f"{self.pack} {self.path}: {self.score}/{self.max_score} units pass ({counts}) in "
                f"{self.seconds:.1f} s -> {'PASS' if self.passed else 'FAIL'}")


def text(report):
    """Failures first, each with its message, diagnosis and fix; then the passing units; one summary line."""
    out = [f"{report.pack} check {report.path}: variant {report.variant} ({report.variant_why})"]
    if report.graded_line:
        out.append(report.graded_line)
    if report.problem:
        out.append(f"problem: {report.problem}")
    failing = [u for u in report.units if u.status in FAILING]
    if failing:
        out += ["", "failures:"]
        for u in failing:
            out.append(f"  {u.status.upper():8} {u.name}")
            out += [f"           {line}" for line in u.message.splitlines() if line]
            if u.diagnosis:
                out.append(f"           diagnosis [{u.diagnosis}]")
            if u.fix:
                out.append(f"           fix: {u.fix}")
    out += ["", "units:"]
    section = None
    for u in report.units:
        if u.section != section:
            section = u.section
            out.append(f"  {section}")
        out.append(f"    {u.status:8} {u.name}" + (f"  [{u.diagnosis}]" if u.diagnosis else ""))
    out += ["", report.summary()]
    return "\n".join(out)


def as_json(report):
    return {"passed": report.passed, "pack": report.pack, "path": report.path, "variant": report.variant,
            "variant_why": report.variant_why, "package": report.package or None, "problem": report.problem or None,
            "score": report.score, "max_score": report.max_score, "seconds": round(report.seconds, 3),
            "units": [u.as_json() for u in report.units]}


def csv_text(reports):
    """One row per submission: path, passed, score, then each unit's status (its diagnosis in brackets)."""
    names = [u.name for u in reports[0].units] if reports else []
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["path", "passed", "score", "max_score", "variant"] + names)
    for r in reports:
        status = {u.name: u.status + (f" [{u.diagnosis}]" if u.diagnosis else "") for u in r.units}
        writer.writerow([r.path, r.passed, r.score, r.max_score, r.variant] + [status.get(n, "") for n in names])
    return buf.getvalue()
