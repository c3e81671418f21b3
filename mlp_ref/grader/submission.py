"""Which file of a submission is graded, and grading it whether it is a .py or a notebook.

A notebook is turned into a module (notebook.py) in a scratch folder and graded as that module; its
report keeps the notebook's path and the module (report.module), through which notebook_lines turns
"line N" into "cell C, line L" wherever the report is rendered. Each report also carries the integrity
scan's flags (report.flags) and a note saying which file was graded when there was a choice (report.note).
"""
import concurrent.futures
import os
import re
import tempfile
import threading
import time
from pathlib import Path

from mlp_ref.grader import grade, integrity, notebook, verdict

SUFFIXES = (".py", ".ipynb")


class NoSubmission(ValueError):
    """Nothing gradable was submitted, or more than one candidate; str() tells the student what to upload."""


def _walk(folder):
    for root, dirs, files in os.walk(folder):
        # Hidden folders hold .ipynb_checkpoints and editor backups, never the submission.
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        yield from (Path(root, f) for f in sorted(files) if Path(f).suffix in SUFFIXES and not f.startswith("."))


def folder_files(folder):
    """Every .py and .ipynb under a folder as (path, note): where a .py and a .ipynb share a folder and a
    name, the .py is graded and its note says so; the notebook is left out."""
    paths = list(_walk(folder))
    have = set(paths)
    out = []
    for p in paths:
        twin = p.with_suffix(".py")
        if p.suffix == ".ipynb" and twin in have:
            continue
        note = f"both {p.name} and {p.stem}.ipynb were submitted: graded {p.name}" \
            if p.suffix == ".py" and p.with_suffix(".ipynb") in have else ""
        out.append((p, note))
    return out


def pick(folder, wanted=None):
    """The one file to grade in a Gradescope submission folder, and a note when there was a choice.
    NoSubmission (a message for the student) when there is none, or several with no rule to choose."""
    paths = list(_walk(folder))
    expect = f"the assignment expects {wanted}" if wanted else "the assignment expects one .py or .ipynb file"
    if not paths:
        raise NoSubmission(f"no .py or .ipynb file was found in your submission; {expect}.")
    if wanted:
        twin = Path(wanted).stem + (".ipynb" if wanted.endswith(".py") else ".py")
        for name in (wanted, twin):
            found = [p for p in paths if p.name == name]
            if found:
                notes = [] if name == wanted else [f"no {wanted} was submitted: graded {name}"]
                rest = [p.name for p in paths if p != found[0]]
                if rest:
                    notes.append(f"graded {name}; also submitted, not graded: {', '.join(rest)}")
                return found[0], "; ".join(notes)
    if len(paths) == 1:
        return paths[0], ""
    stems = {(p.parent, p.stem) for p in paths}
    if len(stems) == 1:
        chosen = next(p for p in paths if p.suffix == ".py")
        return chosen, f"both {chosen.name} and {chosen.stem}.ipynb were submitted: graded {chosen.name}"
    raise NoSubmission(f"{len(paths)} candidate files were submitted ({', '.join(p.name for p in paths)}) and "
                       f"there is no rule to choose one; {expect}. Resubmit just that file.")


def notebook_lines(text, module):
    """`text` with each "line N" of the module rewritten as the notebook's "cell C, line L"."""
    if module is None or not text:
        return text
    return re.sub(r"\bline (\d+)\b", lambda m: module.where(int(m.group(1))), text)


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
