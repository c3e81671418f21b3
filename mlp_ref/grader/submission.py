"""Submission discovery: which file of a submission is graded (a .py or a notebook), the files of a
class folder, and a notebook's "line N" as "cell C, line L" (notebook_lines, through report.module).
"""
import os
import re
from pathlib import Path

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
