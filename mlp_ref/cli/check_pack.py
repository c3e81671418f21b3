"""`mlp-ref check --assignment NAME PATH`: grade with an assignment pack (mlp_ref.packs) instead of the
homework's MLP grader: one submission (a folder holding the package, or a zip of it) or a class
(a folder of them), text or JSON; `--template VARIANT --out DIR` writes a blank package."""
import os
import sys
from pathlib import Path

from mlp_ref import packs
from mlp_ref.cli import files
from mlp_ref.cli.output import dumps, refuse
from mlp_ref.grader import classreport, results
from mlp_ref.grader.sandbox import Limits
from mlp_ref.packs import report

# The homework grader's flags that an assignment pack does not take (yet): refused, never ignored.
HOMEWORK_ONLY = ("gradescope", "strict", "dtype", "plot")


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
    # The default pack (the homework) grades one .py or .ipynb; the others, a folder or a zip of one.
    files_ok = (".zip", ".py", ".ipynb") if pack.name == packs.DEFAULT else (".zip",)
    if not path.is_dir() and path.suffix not in files_ok:
        raise ValueError(f"path: expected a folder or a {' or a '.join(files_ok)}, got {args.path!r}")
    args._assignment = _config(args, pack) if args.config is not None else None
    if args.report is not None:
        if pack.discover(path) == [path]:
            raise ValueError(f"--report: applies to a folder of submissions (a class), got the single submission "
                             f"{args.path!r}")
        files.check_output("--report", args.report, inputs=(path,), graded=path if path.is_dir() else None)
    if args.case_timeout > args.timeout:
        raise ValueError(f"--case-timeout: expected at most --timeout ({args.timeout:g} s), got {args.case_timeout:g}")


def _config(args, pack):
    """The --config's Assignment, checked against the pack (ValueError naming the key)."""
    from mlp_ref.grader import config
    from mlp_ref.packs import assignment as course

    try:
        named, assignment = course.load(args.config)
    except config.ConfigError as e:
        raise ValueError(f"--config {args.config}: {e}") from None
    if named.name != pack.name:
        raise ValueError(f"--config: its pack is {named.name!r} but --assignment is {pack.name!r}; expected the same")
    return assignment


def _points(r, pack, assignment):
    """The report's points under the assignment's config (its sections' shares of the units that pass)."""
    return round(sum(row[-1] for row in results.section_rows(r, assignment, pack.sections)), 6)


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
    assignment = getattr(args, "_assignment", None)
    if found == [path]:
        r = pack.grade(path, limits=limits, seed=assignment.seed if assignment else 0, variant=args.variant)
        if args.json:
            out = report.as_json(r)
            if assignment:
                out.update(points=_points(r, pack, assignment), max_points=assignment.total_points)
            print(dumps(out))
        else:
            print(report.text(r))
            if assignment:
                print(f"points: {_points(r, pack, assignment):g} / {assignment.total_points:g} ({assignment.name})")
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
    assignment = getattr(args, "_assignment", None)
    points = ([_points(r, pack, assignment) for r in reports], assignment.total_points) if assignment else None
    for flag, out, text in (("--csv", args.csv, lambda: rows),
                            ("--report", args.report, lambda: classreport.units_markdown(
                                reports, pack.sections, title=f"Class report: {pack.name}", points=points))):
        if out and not failed:
            try:
                files.write_atomic(out, text())
            except OSError as e:
                failed = f"{flag}: could not write {out!r} after grading: {e.strerror or e}"
    passed = all(r.passed for r in reports)
    if args.json:
        print(dumps({"passed": passed, "submissions": [report.as_json(r) for r in reports]}))
    elif not args.csv or failed:
        sys.stdout.write(rows)
    print(f"mlp-ref check: {sum(r.passed for r in reports)}/{len(reports)} submissions pass", file=sys.stderr)
    return refuse("check", failed) if failed else (0 if passed else 1)
