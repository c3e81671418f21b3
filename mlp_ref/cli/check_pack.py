"""`mlp-ref check --assignment NAME PATH`: grade with an assignment pack (mlp_ref.packs) instead of the
homework's MLP grader: one submission (a folder holding the package, or a zip of it) or a class
(a folder of them), text or JSON; `--template VARIANT --out DIR` writes a blank package."""
import os
import sys
from pathlib import Path

from mlp_ref import packs
from mlp_ref.cli import files
from mlp_ref.cli.output import dumps, refuse
from mlp_ref.grader.sandbox import Limits
from mlp_ref.packs import report

# The homework grader's flags that an assignment pack does not take (yet): refused, never ignored.
HOMEWORK_ONLY = ("config", "gradescope", "strict", "dtype", "report", "plot")


def add_arguments(p):
    p.add_argument("--assignment", metavar="NAME", help="grade with an assignment pack instead of the homework's "
                   "MLP grader: cs231n-a2 (PATH: a folder holding cs231n/, a zip of it, or a folder of those)")
    p.add_argument("--variant", metavar="NAME", help="with --assignment: the assignment's variant (its year's "
                   "conventions) instead of detecting it from the submission")
    p.add_argument("--out", metavar="DIR", help="with --assignment and --template: the folder to write the "
                   "blank package into")


def validate(args, typed):
    """Refuse what cannot work, before any grading (ValueError naming the flag)."""
    pack = packs.get(args.assignment)
    if args.variant is not None and args.variant not in pack.variants:
        raise ValueError(f"--variant: expected one of {', '.join(pack.variants)}, got {args.variant!r}")
    for dest in HOMEWORK_ONLY:
        if dest in typed:
            raise ValueError(f"--{dest.replace('_', '-')}: applies to the homework's grader, not to --assignment "
                             f"{pack.name}; expected it left out")
    if args.template is not None:
        if args.template not in pack.templates:
            raise ValueError(f"--template: expected one of {', '.join(pack.templates)} with --assignment "
                             f"{pack.name}, got {args.template!r}")
        if args.out is None or args.path is not None:
            raise ValueError("--template: with --assignment, writes a blank package under --out DIR; expected "
                             "--out DIR and no path")
        out = Path(args.out)
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise ValueError(f"--out: expected a new or empty folder, got {args.out!r}, which is not empty")
        return
    if args.out is not None:
        raise ValueError("--out: applies to --template; expected it left out")
    if args.path is None:
        raise ValueError(f"path: expected a folder holding the {pack.name} package, a zip of it, or a folder of "
                         "those, got nothing")
    path = Path(args.path)
    if not path.exists():
        raise ValueError(f"path: expected a folder or a .zip, got {args.path!r}, which does not exist")
    if not path.is_dir() and path.suffix != ".zip":
        raise ValueError(f"path: expected a folder or a .zip, got {args.path!r}")
    if args.case_timeout > args.timeout:
        raise ValueError(f"--case-timeout: expected at most --timeout ({args.timeout:g} s), got {args.case_timeout:g}")


def run(args):
    pack = packs.get(args.assignment)
    if args.template is not None:
        for p in pack.templates[args.template](args.out):
            print(p)
        return 0
    path = Path(args.path)
    limits = Limits(timeout_s=args.timeout, case_timeout_s=args.case_timeout, memory_mb=args.memory_mb)
    found = pack.discover(path)
    if not found:
        return refuse("check", f"path: no submission of {pack.name} under {str(path)!r} (a folder holding its "
                               "package, or a zip of one)")
    if found == [path]:
        r = pack.grade(path, limits=limits, seed=0, variant=args.variant)
        print(dumps(report.as_json(r)) if args.json else report.text(r))
        return 0 if r.passed else 1
    return _class(pack, found, args, limits)


def _class(pack, found, args, limits):
    done = []

    def progress(r):
        done.append(r)
        if not args.quiet:
            print(f"[{len(done)}/{len(found)}] {r.summary()}", file=sys.stderr)

    reports = packs.grade_many(pack, found, jobs=args.jobs or os.cpu_count() or 1, on_each=progress,
                               limits=limits, seed=0, variant=args.variant)
    rows = report.csv_text(reports)
    failed = None
    if args.csv:
        try:
            files.write_atomic(args.csv, rows)
        except OSError as e:
            failed = f"--csv: could not write {args.csv!r} after grading: {e.strerror or e}"
    passed = all(r.passed for r in reports)
    if args.json:
        print(dumps({"passed": passed, "submissions": [report.as_json(r) for r in reports]}))
    elif not args.csv or failed:
        sys.stdout.write(rows)
    print(f"mlp-ref check: {sum(r.passed for r in reports)}/{len(reports)} submissions pass", file=sys.stderr)
    return refuse("check", failed) if failed else (0 if passed else 1)
