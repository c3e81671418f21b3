"""`mlp-ref check`: grade one hand-written backprop against torch, or a folder of them into CSV."""
import os
import sys
import threading
from pathlib import Path

from mlp_ref.cli.output import dumps, refuse
from mlp_ref.grader import battery, grade, report
from mlp_ref.grader.templates import TEMPLATE_DIR
from mlp_ref.grader.sandbox import Limits

TEMPLATES = {"homework": "homework_mlp.py", "numpy": "numpy_mlp.py"}


def add_arguments(p):
    d = Limits()
    p.add_argument("path", nargs="?", help="a submission (.py) or a folder: every *.py under it is graded, in parallel")
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
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                   help="folder: submissions graded at once (default: CPU count, %(default)s)")
    p.add_argument("--timeout", type=float, default=d.timeout_s, help="seconds for one submission's whole battery "
                   "(default %(default)s)")
    p.add_argument("--case-timeout", type=float, default=d.case_timeout_s,
                   help="seconds for one case (default %(default)s)")
    p.add_argument("--memory-mb", type=int, default=d.memory_mb,
                   help="address space in MiB the submission may map beyond the grader's child (default %(default)s)")


def _limits(args):
    for name in ("timeout", "case_timeout"):
        if not getattr(args, name) > 0:
            raise ValueError(f"--{name.replace('_', '-')}: expected a positive number of seconds, got {getattr(args, name)}")
    if args.memory_mb < 64:
        raise ValueError(f"--memory-mb: expected at least 64 MiB for the submission's own arrays, got {args.memory_mb}")
    if args.jobs < 1:
        raise ValueError(f"--jobs: expected a positive integer, got {args.jobs}")
    return Limits(timeout_s=args.timeout, case_timeout_s=args.case_timeout, memory_mb=args.memory_mb)


def _writable(target, folder):
    """Whether the --gradescope target can be written: checked before grading, not after minutes of it."""
    target = Path(target)
    if folder:
        probe = target
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        return probe.is_dir() and os.access(probe, os.W_OK | os.X_OK)
    if target.is_dir():
        return False
    if target.exists():
        return os.access(target, os.W_OK)
    parent = target.parent if str(target.parent) else Path(".")
    return parent.is_dir() and os.access(parent, os.W_OK | os.X_OK)


def run(args):
    if args.template:
        sys.stdout.write((TEMPLATE_DIR / TEMPLATES[args.template]).read_text())
        return 0
    path = Path(args.path or "")
    try:
        limits = _limits(args)
        if not args.path:
            raise ValueError("path: expected a submission .py file or a folder (or --template NAME), got nothing")
        if not path.exists():
            raise ValueError(f"path: expected a submission .py file or a folder, got {args.path!r}, which does not exist")
        if not path.is_dir() and path.suffix != ".py":
            raise ValueError(f"path: expected a submission .py file or a folder, got {args.path!r}, "
                             f"which is not a .py file")
        if path.is_dir() and args.gradescope and Path(args.gradescope).is_file():
            raise ValueError(f"--gradescope: with a folder, expected a folder for one results JSON per submission, "
                             f"got the file {args.gradescope!r}")
        if args.gradescope and not _writable(args.gradescope, path.is_dir()):
            raise ValueError(f"--gradescope: cannot write {args.gradescope!r} (its folder is missing or not writable)")
    except ValueError as e:
        return refuse("check", e)
    if path.is_dir():
        return _folder(path, args, limits)
    # A lone process that has run no torch op yet can fork the child itself: no fork server to start.
    r = grade.grade(path, limits=limits, strict=args.strict, dtype=args.dtype,
                    from_parent=threading.active_count() == 1 and not grade.answers_ready())
    # Written here, after the child is gone: a submission cannot write or overwrite its own verdict.
    if args.gradescope:
        Path(args.gradescope).write_text(dumps(report.gradescope(r)))
    print(dumps(report.as_json(r)) if args.json else report.text(r))
    return 0 if r.passed else 1


def _folder(path, args, limits):
    paths = grade.submissions(path)
    if not paths:
        return refuse("check", f"path: no *.py files under {str(path)!r}")
    reports = grade.grade_many(paths, jobs=args.jobs, limits=limits, strict=args.strict, dtype=args.dtype)
    if args.gradescope:
        out = Path(args.gradescope)
        out.mkdir(parents=True, exist_ok=True)
        for p, r in zip(paths, reports):
            name = str(p.relative_to(path).with_suffix(".json")).replace(os.sep, "__")
            (out / name).write_text(dumps(report.gradescope(r)))
    rows = report.csv_text(reports)
    if args.csv:
        Path(args.csv).write_text(rows)
    elif not args.json:
        sys.stdout.write(rows)
    passed = all(r.passed for r in reports)
    if args.json:
        print(dumps({"passed": passed, "submissions": [report.as_json(r) for r in reports]}))
    print(f"mlp-ref check: {sum(r.passed for r in reports)}/{len(reports)} submissions pass", file=sys.stderr)
    return 0 if passed else 1
