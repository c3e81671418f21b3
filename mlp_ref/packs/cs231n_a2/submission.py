"""Where a submission is: a folder holding `cs231n/`, a zip of it (as the course's collect_submission
script makes), or a folder of such folders and zips (a class)."""
import contextlib
import os
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "cs231n"
MAX_UNZIPPED = 256 * 2 ** 20  # bytes a zip may expand to; the course's code is well under 1 MB
MAX_MEMBERS = 20_000
MAX_DEPTH = 3  # how deep under a submission's folder (or zip) its cs231n/ may sit


def package_root(folder):
    """The shallowest folder under `folder` that holds cs231n/ (itself first), or None."""
    folder = Path(folder)
    for depth in range(MAX_DEPTH + 1):
        found = sorted(p.parent for p in folder.glob("/".join(["*"] * depth + [PACKAGE])) if p.is_dir()
                       and "__MACOSX" not in p.parts)
        if found:
            return found[0]
    return None


def _extract(zip_path, to):
    """Extract a zip, refusing paths that leave the folder, links, and more than MAX_UNZIPPED bytes."""
    with zipfile.ZipFile(zip_path) as z:
        members = z.infolist()
        if len(members) > MAX_MEMBERS:
            raise ValueError(f"{len(members)} files in the zip, at most {MAX_MEMBERS}")
        if sum(m.file_size for m in members) > MAX_UNZIPPED:
            raise ValueError(f"the zip expands past {MAX_UNZIPPED // 2 ** 20} MiB")
        root = os.path.realpath(to)
        for m in members:
            target = os.path.realpath(os.path.join(root, m.filename))
            if not target.startswith(root + os.sep) or (m.external_attr >> 16) & 0o170000 == 0o120000:
                continue  # outside the folder, or a symbolic link: skipped
            z.extract(m, root)


@contextlib.contextmanager
def unpacked(path):
    """(the folder holding cs231n/ or None, a problem in words or "") for a folder or a zip."""
    path = Path(path)
    if path.is_dir():
        yield package_root(path), ""
        return
    with tempfile.TemporaryDirectory(prefix="mlp-ref-zip-") as tmp:
        try:
            _extract(path, tmp)
        except (zipfile.BadZipFile, ValueError, OSError) as e:
            yield None, f"could not unpack {path.name}: {e}"
            return
        yield package_root(tmp), ""


def discover(folder):
    """The submissions under `folder`: itself when it holds cs231n/ (or is a zip), else each entry that does."""
    folder = Path(folder)
    if folder.is_file() or (folder / PACKAGE).is_dir():
        return [folder]
    out = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.name == "__MACOSX":
            continue
        if (entry.is_file() and entry.suffix == ".zip") or (entry.is_dir() and package_root(entry) is not None):
            out.append(entry)
    return out
