"""Grading a homework submission whether it is a .py or a notebook, one or a folder of them (which file
is graded is the engine's submission discovery, re-exported here beside the grading).

A notebook is turned into a module (notebook.py) in a scratch folder and graded as that module; its
report keeps the notebook's path and the module (report.module), through which notebook_lines turns
"line N" into "cell C, line L" wherever the report is rendered. Each report also carries the integrity
scan's flags (report.flags) and a note saying which file was graded when there was a choice (report.note).
"""
import concurrent.futures
import os
import tempfile
import threading
import time
from pathlib import Path

from mlp_ref.grader import integrity, notebook
from mlp_ref.grader.submission import NoSubmission, folder_files, notebook_lines, pick  # noqa: F401
from mlp_ref.packs.dlsp_hw1 import grade, verdict


def grade_file(path, *, note="", **kwargs):
    """grade.grade() for a .py or an .ipynb, with `flags`, `note` and (for a notebook) `module` on the report."""
    path = Path(path)
    module = None
    if path.suffix == ".ipynb":
        try:
            with open(path, "rb") as f:
                text = f.read(notebook.MAX_CHARS + 1).decode("utf-8", "replace")
            module = notebook.to_module(text)
        except notebook.NotebookError as e:
            return _refused(path, str(e), note, kwargs.get("strict", False))
        except OSError as e:
            return _refused(path, f"cannot read the notebook: {e.strerror or e}", note, kwargs.get("strict", False))
        with tempfile.TemporaryDirectory(prefix="mlp-ref-notebook-") as tmp:
            # Not the notebook's own stem: a notebook called inspect.ipynb must not shadow a module.
            py = Path(tmp, path.stem + "_ipynb.py")
            py.write_text(module.source)
            report = grade.grade(py, **kwargs)
        # Lines stay the module's in the checks; every rendering maps them back (notebook_lines).
        report.path = str(path)
    else:
        report = grade.grade(path, **kwargs)
    report.flags, report.note, report.module = integrity.scan(report.source), note, module
    return report


def _refused(path, message, note, strict):
    """The failed report of a file that could not even be turned into a module."""
    check = verdict.Check("the submission imports and implements an interface", "interface", False, message=message,
                          error={"outcome": "import_error", "stage": "import"})
    report = grade.Report(str(path), checks=[check], problem=message, containment=["import_error"], strict=strict)
    report.flags, report.note, report.module = [], note, None
    return report


def grade_folder(files, *, jobs=None, on_progress=None, **kwargs):
    """Reports for [(path, note)], `jobs` at a time. on_progress(done, total, elapsed_s, current, finished) is
    called as each one starts (finished False) and ends (True); `current` is the one started last.
    Whatever goes wrong grading one submission fails that one alone."""
    jobs = jobs or os.cpu_count() or 1
    grade.expected(kwargs.get("seed", 0))
    total, done, t0, lock = len(files), 0, time.perf_counter(), threading.Lock()
    current = None

    def tell(finished):
        if on_progress is not None:
            on_progress(done, total, time.perf_counter() - t0, current, finished)

    def one(item):
        nonlocal done, current
        path, note = item
        with lock:
            current = path
            tell(False)
        try:
            report = grade_file(path, note=note, **kwargs)
        except Exception as e:  # noqa: BLE001  (one unreadable submission must not stop the folder)
            report = grade.unreadable(path, e, kwargs.get("strict", False))
            report.flags, report.note, report.module = [], note, None
        with lock:
            done += 1
            tell(True)
        return report

    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, files))
