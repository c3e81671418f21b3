"""`mlp-ref check`: grade one hand-written backprop against torch, or a folder of them into CSV
and a class report."""
import importlib.util
import os
import sys
import threading
import time
from pathlib import Path

from mlp_ref.cli import files
from mlp_ref.cli import flag_types as ft
from mlp_ref.cli.output import dumps, refuse
from mlp_ref.grader import battery, grade, report
from mlp_ref.grader.templates import TEMPLATE_DIR
from mlp_ref.grader.sandbox import Limits

TEMPLATES = {"homework": "homework_mlp.py", "numpy": "numpy_mlp.py"}


def add_arguments(p):
    d = Limits()
    p.add_argument("path", nargs="?", help="a submission (.py or .ipynb) or a folder: every .py and .ipynb under "
                   "it is graded, in parallel")
    p.add_argument("--config", metavar="FILE", help="the assignment's config (assignment.toml): points per section, "
                   "dtype, strict, timeout; --gradescope then writes one test per section")
    p.add_argument("--template", choices=tuple(TEMPLATES), help="print a blank submission to start from and exit")
    p.add_argument("--json", action="store_true", help="print the report as JSON with a top-level boolean 'passed'")
    p.add_argument("--gradescope", metavar="FILE", help="write Gradescope's results.json to FILE; for a folder, "
                   "FILE is a folder and gets one <submission>.json each")
    p.add_argument("--csv", metavar="FILE", help="folder: write the CSV to FILE instead of stdout")
    p.add_argument("--strict", action="store_true", help="numerical robustness and the float64 probe fail a "
                   "submission too")
    p.add_argument("--dtype", choices=battery.DTYPES, default=battery.DTYPES[0],
                   help="the assignment's dtype, in which every graded case runs (default %(default)s, torch's "
                        "default; float32 also probes float64, ungraded)")
    p.add_argument("--jobs", type=ft.count(ft.MAX_JOBS), default=os.cpu_count() or 1,
                   help="folder: submissions graded at once (default: the CPU count, here %(default)s)")
    p.add_argument("--timeout", type=ft.seconds(), default=d.timeout_s, help="seconds for one submission's whole battery "
                   "(default %(default)s)")
    p.add_argument("--case-timeout", type=ft.seconds(), default=d.case_timeout_s,
                   help="seconds for one case, at most --timeout (default %(default)s)")
    p.add_argument("--memory-mb", type=ft.integer(64, 2 ** 20, "a size in MiB"), default=d.memory_mb,
                   help="address space in MiB the submission may map beyond the grader's child (default %(default)s)")


def run(args):
    # The arguments, paths and outputs were checked before this runs (mlp_ref.cli.combos).
    if args.template:
        sys.stdout.write((TEMPLATE_DIR / TEMPLATES[args.template]).read_text())
        return 0
    path = Path(args.path)
    limits = Limits(timeout_s=args.timeout, case_timeout_s=args.case_timeout, memory_mb=args.memory_mb)
    if path.is_dir():
        return _folder(path, args, assignment, grading)
    # A lone process that has run no torch op yet can fork the child itself: no fork server to start.
    r = grade.grade(path, limits=limits, strict=args.strict, dtype=args.dtype,
                    from_parent=threading.active_count() == 1 and not grade.answers_ready())
    # Written here, after the child is gone: a submission cannot write or overwrite its own verdict.
    failed = args.gradescope and _write("--gradescope", args.gradescope, dumps(report.gradescope(r)))
    print(dumps(report.as_json(r)) if args.json else report.text(r))
    return refuse("check", failed) if failed else (0 if r.passed else 1)


def _write(flag, path, text):
    """None, or the one line saying why `path` could not be written after all (a full disk, say):
    the report still reaches stdout, so the grading is not lost."""
    try:
        files.write_atomic(path, text)
    except OSError as e:
        return f"{flag}: could not write {str(path)!r} after grading: {e.strerror or e}"
    return None


def _folder(path, args, limits):
    paths = grade.submissions(path)
    notebooks = files.notebooks(path)
    if notebooks:
        print(f"mlp-ref check: skipped {len(notebooks)} notebook(s), e.g. {str(notebooks[0])!r}: "
              f"{files.NOTEBOOK_NOTE}", file=sys.stderr)
    if not paths:
        return refuse("check", f"path: no *.py files under {str(path)!r}")
    reports = grade.grade_many(paths, jobs=args.jobs, limits=limits, strict=args.strict, dtype=args.dtype)
    failed = []
    if args.gradescope:
        out = Path(args.gradescope)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            failed.append(f"--gradescope: could not create {str(out)!r} after grading: {e.strerror or e}")
        for p, r in zip(paths, reports if not failed else ()):
            failed.append(_write("--gradescope", out / files.result_name(p.relative_to(path)),
                                 dumps(report.gradescope(r))))
    rows = report.csv_text(reports)
    csv_failed = args.csv and _write("--csv", args.csv, rows)
    failed = [f for f in failed + [csv_failed] if f]
    if (not args.csv or csv_failed) and not args.json:
        sys.stdout.write(rows)
    passed = all(r.passed for r in reports)
    if args.json:
        print(dumps({"passed": passed, "submissions": [report.as_json(r) for r in reports]}))
    summary = classreport.summarise(reports, scores, top, elapsed)
    text = classreport.markdown(summary, f"Class report: {assignment.name if assignment else path}")
    if args.report:
        Path(args.report).write_text(text)
    if args.plot:
        classreport.plot(summary, args.plot)
    sys.stderr.write(text)
    print(f"mlp-ref check: {sum(r.passed for r in reports)}/{len(reports)} submissions pass", file=sys.stderr)
    return refuse("check", failed[0]) if failed else (0 if passed else 1)
