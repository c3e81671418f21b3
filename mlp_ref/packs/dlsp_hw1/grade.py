"""Grade one submission, or a folder of them: child run, torch's answers, verdict, diagnoses.

torch's answers are computed here while the child runs (they are the same for every submission,
so a folder pays for them once).
"""
import concurrent.futures
import dataclasses
import os
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from mlp_ref.grader import sandbox
from mlp_ref.packs.dlsp_hw1 import battery, diagnose, oracle, runner, verdict
from mlp_ref.packs.dlsp_hw1 import probe as probes
from mlp_ref.grader.source import read as read_source

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
    dtype: str = battery.DTYPES[0]
    probe: probes.Finding = field(default_factory=lambda: probes.Finding(None, ""))
    source: str = field(default="", repr=False)  # the text the scans read (grader.source.read)
    only: tuple = ()              # the sections graded alone (check -k); empty: the whole battery
    # Under an assignment's config (gradescope.score_points): its name, the points, and the grader
    # sections that carry none (their failures are notes, not FAILs). points None: no config.
    assignment: str = None
    points: float = None
    max_points: float = None
    free_sections: tuple = ()

    @property
    def graded(self):
        return [c for c in self.checks if c.passed is not None and c.max_score > 0]

    @property
    def passed(self):
        """With a config, the points decide: full marks pass. Without, every graded check must pass."""
        if self.points is not None:
            return self.points >= self.max_points - 1e-9
        return all(c.passed for c in self.graded)

    def costs_points(self, check):
        """Whether a failure of this check can cost anything (under a config, its section has points)."""
        return check.max_score > 0 and check.section not in self.free_sections

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
        # A reduction failure is shown first where N, K and N K differ, so its evidence can name the factor.
        return next((c for c in diagnose.telling_order(self.graded) if not c.passed and self.costs_points(c)), None)

    @property
    def diagnoses(self):
        return diagnose.summary(self.checks)

    def headroom_graded(self):
        """The worst error as a fraction of its allowance over the graded checks, or None."""
        seen = [c.headroom for c in self.graded if c.headroom is not None]
        return max(seen) if seen else None

    def headroom(self, section=None):
        """The worst error as a fraction of its allowance over the compared checks (of one section), or None."""
        seen = [c.headroom for c in self.checks if c.headroom is not None and section in (None, c.section)]
        return max(seen) if seen else None


_expected_lock = threading.Lock()


def answers(seed=0, dtype=battery.DTYPES[0]):
    """{case id: (torch's answers, their noise)}, one computation shared by the threads of a folder run."""
    with _expected_lock:
        return oracle.answers_all(seed, dtype)


def expected(seed=0, dtype=battery.DTYPES[0]):
    return {k: v for k, (v, _) in answers(seed, dtype).items()}


def answers_ready():
    """Whether torch's answers were computed in this process already (so torch has run ops here)."""
    return oracle.answers_all.cache_info().currsize > 0


NOT_COUNTED = "not counted: no case of the battery ran to the end"
NOT_WRITTEN = "not counted yet: every case stopped at a function not implemented yet"
NOT_RUN = "not run: the submission did not import, or implements neither interface"


def _import_check(run):
    check = verdict.Check("the submission imports and implements an interface", "interface", True)
    failed = run.of("import_error")
    if failed:
        e = failed[0]
        where = f" (line {e['line']}: {e['source']})" if e.get("line") else ""
        # The grader runs the file with torch, numpy and the standard library; say so where that is the cause.
        hint = ("the grader provides torch, numpy and Python's standard library only: remove the import, or "
                "move what needs it (plots, your own tests) out of the submission"
                if e.get("type") == "ModuleNotFoundError" else "")
        return replace(check, passed=False, error=dict(e, outcome="import_error"), note=hint,
                       message=f"import failed: {e.get('type')}: {e.get('message')}{where}")
    if run.of("interface") and run.of("interface")[0].get("interface") is None:
        # It imported, but nothing in it can be driven: the same outcome as a failed import.
        return replace(check, passed=False, message=str(run.of("interface")[0].get("problem")),
                       error={"outcome": "import_error", "stage": "import"})
    if not run.of("interface"):
        return replace(check, passed=False, error={"outcome": run.ending or "crashed", "stage": "import"},
                       message=f"the submission's process ended during import ({run.ending}, exit status "
                               f"{run.returncode})")
    return check


def _ended_check(case, run, limits):
    """The case during which the process died: say how it ended."""
    how = {"timeout": f"killed after the {limits.timeout_s:g} s time limit",
           "exited": f"the process exited (status {run.returncode}) during this case",
           "crashed": f"the process died (status {run.returncode}) during this case"}[run.ending]
    return verdict.Check(case.describe, case.section, False, case=case, max_score=verdict.max_score_of(case),
                         message=how, error={"outcome": run.ending, "message": how})


def _run(path, cases, limits, seed, dtype, from_parent):
    """The child's run and torch's answers, computed side by side."""
    ids = [c.id for c in cases]
    if from_parent:
        pending = runner.start_child(path, ids, limits, seed, dtype=dtype, from_parent=True)  # before torch runs
        ans = answers(seed, dtype)
        return sandbox.finish(pending), ans
    # Starting waits for the fork server's imports; torch's answers are computed meanwhile.
    box = {}

    def start():
        try:
            box["run"] = sandbox.run_child(path, ids, limits, seed, dtype, runner=runner.RUNNER)
        except BaseException as e:  # noqa: B036  (re-raised below, in the caller's thread)
            box["error"] = e

    child = threading.Thread(target=start)
    child.start()
    ans = answers(seed, dtype)
    child.join()
    if "error" in box:
        raise RuntimeError(f"could not start the child process for {path}") from box["error"]
    return box["run"], ans


def select(cases, only):
    """The cases of the named grader sections (with the float64 probes of those cases); all when only is empty."""
    if not only:
        return list(cases)
    section = {c.id: c.section for c in cases}
    return [c for c in cases if c.section in only or (c.section == "probe" and section.get(c.twin) in only)]


def grade(path, *, limits=sandbox.Limits(), strict=False, seed=0, dtype=battery.DTYPES[0], cases=None,
          from_parent=False, only=()):
    """Run the battery on one submission and return its Report (never raises for what the submission does).

    dtype: the graded dtype (float32, torch's default, unless the assignment works in float64).
    from_parent: fork the child from this process (see sandbox.start_child); else from the fork server.
    only: grader section names to grade alone (the import check always runs); empty: every section.
    """
    t0 = time.perf_counter()
    only = tuple(only or ())
    cases = select(cases or battery.build(seed, dtype), only)
    run, ans = _run(path, cases, limits, seed, dtype, from_parent)
    report = Report(str(path), strict=strict, output_bytes=run.output_bytes, output_head=run.output_head, dtype=dtype,
                    source=read_source(path))
    head = _import_check(run)
    iface = run.of("interface")
    report.interface = iface[0].get("interface") if iface else None
    if not head.passed:
        # Nothing ran that could be judged: every case and contract check fails as not run (a flood of
        # output during the import is still reported as what it was).
        report.problem = head.message + (f"\n{head.note}" if head.note else "")
        flood = verdict.output_check(run, limits.output_cap)
        contract = [replace(c, passed=False, message=NOT_RUN) for c in (
            verdict.mutation_check((), {}), verdict.autograd_check((), {}), flood) if c.passed]
        report.checks = [head] + [verdict.Check(c.describe, c.section, False, case=c, message=NOT_RUN,
                                                max_score=verdict.max_score_of(c)) for c in cases] + contract \
            + ([flood] if not flood.passed else [])
    else:
        events = {e["case"]: e for e in run.of("case") if isinstance(e.get("case"), str)}
        checks, ended = [head], False
        for case in cases:
            if case.id not in events and not ended and not run.finished and run.ending:
                checks.append(_ended_check(case, run, limits))
                ended = True
            else:
                values, noise = ans[case.id]
                checks.append(verdict.case_check(case, values, events.get(case.id), report.interface, noise))
        import_calls = (iface[0].get("autograd_calls") or 0) if iface else 0
        checks = verdict.autograd_cases(checks, events, import_calls)
        checks += [verdict.mutation_check(cases, events), verdict.autograd_check(cases, events, import_calls),
                   verdict.output_check(run, limits.output_cap)]
        if not any(c.passed or c.failure is not None for c in checks[1:-3]):
            # No case returned a value (an unfilled template raises everywhere): the interface and
            # contract checks have nothing to vouch for, so they score nothing either.
            unwritten = all((c.error or {}).get("outcome") == "unwritten" for c in checks[1:-3] if c.passed is False)
            why = NOT_WRITTEN if unwritten else NOT_COUNTED
            checks = [replace(c, passed=False, message=why) if i == 0 or i >= len(checks) - 3 else c
                      for i, c in enumerate(checks)]
        report.checks = diagnose.diagnose(checks, {k: v for k, (v, _) in ans.items()})
        ran = any(c.passed or c.failure is not None for c in report.checks if c.case is not None
                  and c.section != "probe")
        # Nothing returned a value (a blank template): the probe has nothing to say about float64.
        report.probe = probes.finding(report.checks, report.source) if ran else probes.Finding(None, "")
    report.checks = _score_optional(report.checks, strict)
    if only:
        report.only = only
        report.checks = [c for c in report.checks if c.section in ("interface", "probe") + only]
    for c in report.checks:
        if c.section == "probe":
            continue  # a float64 crash is the probe's finding, not something the sandbox contained
        outcome = (c.error or {}).get("outcome")
        if outcome and outcome != "unwritten" and outcome not in report.containment:
            report.containment.append(outcome)
    report.seconds = time.perf_counter() - t0
    return report


def _score_optional(checks, strict):
    """Robustness and the float64 probe are reported always, graded only under --strict."""
    return [replace(c, max_score=1.0 if strict else 0.0) if c.section in ("robustness", "probe") else c
            for c in checks]


def rescore(report, *, strict):
    """The same run graded with or without --strict (only the optional sections' weight changes)."""
    return dataclasses.replace(report, checks=_score_optional(report.checks, strict), strict=strict)


def submissions(folder):
    """Every *.py under a folder, sorted, skipping hidden folders and __pycache__."""
    out = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        out += [Path(root, f) for f in sorted(files) if f.endswith(".py")]
    return out


def unreadable(path, exc, strict=False):
    """The failed Report of a submission whose grading itself went wrong (its results could not be read)."""
    check = verdict.Check("the submission imports and implements an interface", "interface", False,
                          message=f"results unreadable: {type(exc).__name__}: {exc}"[:500],
                          error={"outcome": "crashed", "stage": "grading"})
    return Report(str(path), checks=[check], problem=check.message, containment=["crashed"], strict=strict)


def grade_many(paths, *, jobs=None, **kwargs):
    """Reports for many submissions, `jobs` child processes at a time (default: the CPU count).
    Whatever goes wrong grading one submission fails that one alone."""
    jobs = jobs or os.cpu_count() or 1
    answers(kwargs.get("seed", 0), kwargs.get("dtype", battery.DTYPES[0]))

    def one(path):
        try:
            return grade(path, **kwargs)
        except Exception as e:  # noqa: BLE001  (one unreadable submission must not stop the folder)
            return unreadable(path, e, kwargs.get("strict", False))

    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, paths))
