"""Grade one submission, or a folder of them: child run, torch's answers, verdict, diagnoses.

torch's answers are computed here while the child runs (they are the same for every submission,
so a folder pays for them once).
"""
import concurrent.futures
import dataclasses
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from mlp_ref.grader import battery, diagnose, oracle, sandbox, verdict

SEVERITY = ("import_error", "timeout", "memory_limit", "exited", "output_flood", "crashed")


@dataclass
class Report:
    path: str
    checks: list = field(default_factory=list)
    interface: str = None
    problem: str = None
    containment: list = field(default_factory=list)
    seconds: float = 0.0
    strict: bool = False
    output_bytes: int = 0
    output_head: str = ""

    @property
    def graded(self):
        return [c for c in self.checks if c.passed is not None and c.max_score > 0]

    @property
    def passed(self):
        return all(c.passed for c in self.graded)

    @property
    def score(self):
        return sum(c.score for c in self.graded)

    @property
    def max_score(self):
        return sum(c.max_score for c in self.graded)

    @property
    def outcome(self):
        """'completed', or the most severe containment outcome."""
        return min(self.containment, key=SEVERITY.index) if self.containment else "completed"

    def first_failure(self):
        return next((c for c in self.graded if not c.passed), None)

    @property
    def diagnoses(self):
        return diagnose.summary(self.checks)


_expected_lock = threading.Lock()


def expected(seed=0):
    with _expected_lock:  # one computation shared by the threads of a folder run
        return oracle.expected_all(seed)


def answers_ready():
    """Whether torch's answers were computed in this process already (so torch has run ops here)."""
    return oracle.expected_all.cache_info().currsize > 0


def _import_check(run):
    check = verdict.Check("the submission imports and implements an interface", "interface", True)
    failed = run.of("import_error")
    if failed:
        e = failed[0]
        where = f" (line {e['line']}: {e['source']})" if e.get("line") else ""
        check.passed, check.error = False, dict(e, outcome="import_error")
        check.message = f"import failed: {e.get('type')}: {e.get('message')}{where}"
    elif run.of("interface") and run.of("interface")[0].get("interface") is None:
        # It imported, but nothing in it can be driven: the same outcome as a failed import.
        check.passed, check.message = False, str(run.of("interface")[0].get("problem"))
        check.error = {"outcome": "import_error", "stage": "import"}
    elif not run.of("interface"):
        check.passed = False
        check.message = f"the submission's process ended during import ({run.ending}, exit status {run.returncode})"
        check.error = {"outcome": run.ending or "crashed", "stage": "import"}
    return check


def _ended_check(check, run, limits):
    """The case during which the process died: say how it ended."""
    how = {"timeout": f"killed after the {limits.timeout_s:g} s time limit",
           "exited": f"the process exited (status {run.returncode}) during this case",
           "crashed": f"the process died (status {run.returncode}) during this case"}[run.ending]
    check.passed, check.message = False, how
    check.error = {"outcome": run.ending, "message": how}
    return check


def grade(path, *, limits=sandbox.Limits(), strict=False, seed=0, cases=None, from_parent=False):
    """Run the battery on one submission and return its Report (never raises for what the submission does).

    from_parent: fork the child from this process (see sandbox.start_child); else from the fork server.
    """
    t0 = time.perf_counter()
    cases = cases or battery.build(seed)
    ids = [c.id for c in cases]
    if from_parent:
        pending = sandbox.start_child(path, ids, limits, seed, from_parent=True)  # before torch runs here
        answers = expected(seed)
        run = sandbox.finish(pending)
    else:
        # Starting waits for the fork server's imports; torch's answers are computed meanwhile.
        box = {}

        def start():
            try:
                box["run"] = sandbox.run_child(path, ids, limits, seed)
            except BaseException as e:  # noqa: B036  (re-raised below, in the caller's thread)
                box["error"] = e

        child = threading.Thread(target=start)
        child.start()
        answers = expected(seed)
        child.join()
        if "error" in box:
            raise RuntimeError(f"could not start the child process for {path}") from box["error"]
        run = box["run"]
    report = Report(str(path), strict=strict, output_bytes=run.output_bytes, output_head=run.output_head)
    head = _import_check(run)
    report.checks.append(head)
    iface = run.of("interface")
    report.interface = iface[0].get("interface") if iface else None
    report.problem = None if head.passed else head.message
    events = {e["case"]: e for e in run.of("case") if isinstance(e.get("case"), str)}
    ended = False
    for case in cases:
        if not head.passed:
            check = verdict.Check(case.describe, case.section, False, case=case,
                                  message="not run: the submission did not import or implements no interface")
        elif case.id not in events and not ended and not run.finished and run.ending:
            check, ended = _ended_check(verdict.Check(case.describe, case.section, False, case=case), run, limits), True
        else:
            check = verdict.case_check(case, answers[case.id], events.get(case.id), report.interface)
        report.checks.append(check)
    import_calls = (iface[0].get("autograd_calls") or 0) if iface else 0
    report.checks += [verdict.mutation_check(cases, events), verdict.autograd_check(cases, events, import_calls)]
    if not head.passed:
        for c in report.checks[-2:]:
            c.passed, c.message = False, "not run: the submission did not import or implements no interface"
    report.checks.append(verdict.output_check(run, limits.output_cap))
    if not head.passed and report.checks[-1].passed:
        # Not a point for an import that failed: nothing ran whose output could be judged.
        report.checks[-1].passed = False
        report.checks[-1].message = "not run: the submission did not import or implements no interface"
    if head.passed and not any(c.passed or c.comparison is not None for c in report.checks[1:-3]):
        # No case returned a value (an unfilled template raises everywhere): the interface and
        # contract checks have nothing to vouch for, so they score nothing either.
        for c in [head] + report.checks[-3:]:
            c.passed, c.message = False, "not counted: no case of the battery ran to the end"
    diagnose.diagnose(report.checks, answers)
    _score_robustness(report.checks, strict)
    for c in report.checks:
        outcome = (c.error or {}).get("outcome")
        if outcome and outcome not in report.containment:
            report.containment.append(outcome)
    report.seconds = time.perf_counter() - t0
    return report


def _score_robustness(checks, strict):
    for c in checks:
        if c.section == "robustness":
            c.max_score = 1.0 if strict else 0.0


def rescore(report, *, strict):
    """The same run graded with or without --strict (only the robustness section's weight changes)."""
    checks = [dataclasses.replace(c) for c in report.checks]
    _score_robustness(checks, strict)
    return dataclasses.replace(report, checks=checks, strict=strict)


def submissions(folder):
    """Every *.py under a folder, sorted, skipping hidden folders and __pycache__."""
    out = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        out += [Path(root, f) for f in sorted(files) if f.endswith(".py")]
    return out


def unreadable(path, exc, strict=False):
    """The failed Report of a submission whose grading itself went wrong (its results could not be read)."""
    check = verdict.Check("the submission imports and implements an interface", "interface", False)
    check.message = f"results unreadable: {type(exc).__name__}: {exc}"[:500]
    check.error = {"outcome": "crashed", "stage": "grading"}
    return Report(str(path), checks=[check], problem=check.message, containment=["crashed"], strict=strict)


def grade_many(paths, *, jobs=None, **kwargs):
    """Reports for many submissions, `jobs` child processes at a time (default: the CPU count).
    Whatever goes wrong grading one submission fails that one alone."""
    jobs = jobs or os.cpu_count() or 1
    expected(kwargs.get("seed", 0))

    def one(path):
        try:
            return grade(path, **kwargs)
        except Exception as e:  # noqa: BLE001  (one unreadable submission must not stop the folder)
            return unreadable(path, e, kwargs.get("strict", False))

    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, paths))
