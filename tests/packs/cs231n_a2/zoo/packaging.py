"""The zoo's submission zips, made at test time: nothing binary is kept in the repository."""
import zipfile
from pathlib import Path

# What the course's collect-submission script leaves out of assignment2.zip.
EXCLUDED_PARTS = {"__pycache__", ".ipynb_checkpoints", "datasets", ".git"}


def submission_zip(folder, dest):
    """Zip `folder` (which holds cs231n/) as the course's script would: paths relative to the assignment
    root, cs231n/ at the top, a notebook beside it. Returns the zip's path."""
    folder, dest = Path(folder), Path(dest)
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(folder)
            if path.is_file() and not EXCLUDED_PARTS.intersection(rel.parts):
                zf.write(path, rel.as_posix())
        zf.writestr("FullyConnectedNets.ipynb", '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 4}\n')
    return dest
