"""`mlp-ref check`: grade one hand-written backprop against torch, or a folder of them into CSV
and a class report."""
import argparse
import os
import sys
import threading
import time
from pathlib import Path

from mlp_ref.cli import check_pack, files
from mlp_ref.cli import flag_types as ft
from mlp_ref.cli.output import dumps, refuse
from mlp_ref.grader import classreport
from mlp_ref.packs.dlsp_hw1 import battery, grade, gradescope, report, submission
from mlp_ref.packs.dlsp_hw1.templates import TEMPLATE_DIR
from mlp_ref.grader.sandbox import Limits

TEMPLATES = {"homework": "homework_mlp.py", "numpy": "numpy_mlp.py"}


class _Append(argparse.Action):
    """append, tolerant of a non-list default (combos.given marks untyped flags with a sentinel)."""

    def __call__(self, parser, namespace, values, option_string=None):
        earlier = getattr(namespace, self.dest, None)
        setattr(namespace, self.dest, (earlier if isinstance(earlier, list) else []) + [values])


def add_arguments(p):
    d = Limits()
    p.add_argument("path", nargs="?", help="a submission (.py or .ipynb) or a folder: every .py and .ipynb under "
                   "it is graded, in parallel")
    p.add_argument("--config", metavar="FILE", help="the assignment's config (assignment.toml): points per section, "
                   "dtype, strict, timeout; --gradescope then writes one test per section")
    p.add_argument("--template", metavar="NAME", help=f"print a blank submission to start from and exit "
                   f"({', '.join(TEMPLATES)}; with --assignment, one of its variants, written under --out)")
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
    p.add_argument("-q", "--quiet", action="store_true", help="print only the failures (each with its diagnosis) "
                   "and the verdict; a folder: no progress line on stderr")
    p.add_argument("-v", "--verbose", action="store_true", help="list every check, passing ones too")
    p.add_argument("-x", "--exitfirst", action="store_true", help="stop the report at the first section with a "
                   "failure that costs points")
    p.add_argument("-k", "--only", metavar="SECTION", action=_Append, help="grade these sections alone (repeat, "
                   "or a comma list): interface, losses, backward, end_to_end, edge, contract, robustness, probe; "
                   "e.g. -k losses before backward is written")
    p.add_argument("--report", metavar="FILE.md", help="folder: also write the class report (histogram, diagnoses, "
                   "slowest, flagged) to FILE.md")
    p.add_argument("--html", metavar="FILE.html", help="also write the report as one self-contained page (a folder: "
                   "the class page, each student's report inside it)")
    p.add_argument("--plot", metavar="FILE.png", help="folder: draw the score histogram and diagnosis bars "
                   "(needs matplotlib: the 'plot' extra)")
    p.add_argument("--memory-mb", type=ft.integer(64, 2 ** 20, "a size in MiB"), default=d.memory_mb,
                   help="address space in MiB the submission may map beyond the grader's child (default %(default)s)")
    check_pack.add_arguments(p)


def _grading(args, assignment):
    """How to grade: the command line's choices, the config's where the command line left the default."""
    limits = Limits(timeout_s=args.timeout, case_timeout_s=args.case_timeout, memory_mb=args.memory_mb)
    grading = dict(limits=limits, strict=args.strict, seed=0, dtype=args.dtype, only=tuple(args.only or ()))
    if assignment is None:
        return grading
    grading.update(gradescope.grading(assignment), strict=args.strict or assignment.strict)
    if args.dtype != battery.DTYPES[0]:
        grading["dtype"] = args.dtype
    if args.timeout != Limits().timeout_s:
        grading["limits"] = limits
    else:
        grading["limits"] = Limits(timeout_s=assignment.timeout, case_timeout_s=args.case_timeout,
                                   memory_mb=args.memory_mb)
    return grading


def run(args):
    # The arguments, paths, outputs and the config were checked before this runs (mlp_ref.cli.combos).
    if args.assignment is not None:
        return check_pack.run(args)
    if args.template:
        sys.stdout.write((TEMPLATE_DIR / TEMPLATES[args.template]).read_text())
        return 0
    path = Path(args.path)
    assignment = getattr(args, "_assignment", None)
    grading = _grading(args, assignment)
    if path.is_dir():
        return _folder(path, args, assignment, grading)
    # A lone process that has run no torch op yet can fork the child itself: no fork server to start.
    r = submission.grade_file(path, **grading, from_parent=threading.active_count() == 1 and not grade.answers_ready())
    if assignment:
        gradescope.score_points(r, assignment)
    # Written here, after the child is gone: a submission cannot write or overwrite its own verdict.
    failed = args.gradescope and _write("--gradescope", args.gradescope, dumps(_results(r, assignment)))
    html_failed = args.html and _write("--html", args.html, _page(r, assignment))
    failed = failed or html_failed
    if args.json:
        print(dumps(dict(report.as_json(r), flags=classreport.flag_lines(r), note=r.note)))
    else:
        mode = "verbose" if args.verbose else "quiet" if args.quiet else "short"
        lines = submission.notebook_lines(report.text(r, mode, args.exitfirst), r.module).splitlines()
        if r.flags and not args.quiet:
            # Above the verdict, which stays the last line.
            lines[-1:-1] = ["integrity flags (for a human to review; no points lost):"] + \
                ["  " + x for x in classreport.flag_lines(r)]
        print("\n".join(lines))
    return refuse("check", failed) if failed else (0 if r.passed else 1)


def _results(r, assignment):
    return gradescope.results(r, assignment) if assignment else report.gradescope(r)


def _points(r, assignment):
    return assignment and f"{gradescope.total(r, assignment):g} / {assignment.total_points:g} points, {assignment.name}"


def _page(r, assignment):
    from mlp_ref.pages import student  # only here: the other outputs need no Jinja2

    return student.page(r, points=_points(r, assignment), flags=classreport.flag_lines(r))


def _class_page(summary, reports, scores, assignment, path):
    from mlp_ref.pages import classpage

    return classpage.page(summary, reports, title=f"Class report: {assignment.name if assignment else path}",
                          scores=scores, points=[_points(r, assignment) for r in reports])


def _progress(quiet):
    """The progress callback: one line on stderr, redrawn in place on a terminal, one per submission otherwise."""
    if quiet:
        return None
    tty = sys.stderr.isatty()

    def show(done, total, elapsed, current, finished):
        line = classreport.progress_line(done, total, elapsed, current)
        if tty:
            sys.stderr.write("\r" + line[:150].ljust(150) + ("\n" if done == total else ""))
        elif finished:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()
    return show


def _write(flag, path, text):
    """None, or the one line saying why `path` could not be written after all (a full disk, say):
    the report still reaches stdout, so the grading is not lost."""
    try:
        files.write_atomic(path, text)
    except OSError as e:
        return f"{flag}: could not write {str(path)!r} after grading: {e.strerror or e}"
    return None


def _folder(path, args, assignment, grading):
    found = submission.folder_files(path)
    if not found:
        return refuse("check", f"path: no .py or .ipynb files under {str(path)!r}")
    t0 = time.perf_counter()
    reports = submission.grade_folder(found, jobs=args.jobs, on_progress=_progress(args.quiet), **grading)
    for r in reports if assignment else ():
        gradescope.score_points(r, assignment)
    elapsed = time.perf_counter() - t0
    failed = []
    if args.gradescope:
        out = Path(args.gradescope)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            failed.append(f"--gradescope: could not create {str(out)!r} after grading: {e.strerror or e}")
        for (p, _), r in zip(found, reports if not failed else ()):
            failed.append(_write("--gradescope", out / files.result_name(p.relative_to(path)),
                                 dumps(_results(r, assignment))))
    if assignment:
        scores, top = [gradescope.total(r, assignment) for r in reports], assignment.total_points
    else:
        scores, top = [r.score for r in reports], max([r.max_score for r in reports] + [0])
    rows = report.csv_text(reports, classreport.csv_columns(reports, scores if assignment else None))
    csv_failed = args.csv and _write("--csv", args.csv, rows)
    summary = classreport.summarise(reports, scores, top, elapsed)
    text = classreport.markdown(summary, f"Class report: {assignment.name if assignment else path}")
    report_failed = args.report and _write("--report", args.report, text)
    if args.plot:
        classreport.plot(summary, args.plot)
    html_failed = args.html and _write("--html", args.html, _class_page(summary, reports, scores, assignment, path))
    failed = [f for f in failed + [csv_failed, report_failed, html_failed] if f]
    if (not args.csv or csv_failed) and not args.json:
        sys.stdout.write(rows)
    passed = all(r.passed for r in reports)
    if args.json:
        print(dumps({"passed": passed, "submissions": [report.as_json(r) for r in reports]}))
    sys.stderr.write(text)
    print(f"mlp-ref check: {sum(r.passed for r in reports)}/{len(reports)} submissions pass", file=sys.stderr)
    return refuse("check", failed[0]) if failed else (0 if passed else 1)
