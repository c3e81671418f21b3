"""Where a submission is: a folder holding `cs231n/`, a zip of it (as the course's collect_submission
script makes), or a folder of such folders and zips (a class)."""
import contextlib
import os
import tempfile
import zipfile
from pathlib import Path

from mlp_ref.packs.cs231n_a2.interface import MODULE, UNITS

PACKAGE = "cs231n"
MAX_UNZIPPED = 256 * 2 ** 20  # bytes a zip may expand to; the course's code is well under 1 MB
MAX_MEMBERS = 20_000
MAX_DEPTH = 3  # how deep under a submission's folder (or zip) its cs231n/ may sit


# What a cs231n/ of this assignment defines; a whole course repository holds one cs231n/ per assignment.
FILES = ("layers.py", "optim.py", "classifiers/fc_net.py")
NAMES = tuple(f"def {u}(" for u in UNITS if u in MODULE) + ("class FullyConnectedNet",)


def _holds(package):
    """How many of this assignment's functions (and FullyConnectedNet) a cs231n/ folder's files define."""
    text = ""
    for name in FILES:
        try:
            with open(package / name, "rb") as f:
                text += f.read(1 << 20).decode("utf-8", "replace")
        except OSError:
            continue
    return sum(n in text for n in NAMES)


def package_root(folder):
    """The folder under `folder` (itself first, at most MAX_DEPTH down) whose cs231n/ holds most of this
    assignment; among equals the shallowest, then the first by name. None where no cs231n/ is found."""
    folder = Path(folder)
    found = [(p, depth) for depth in range(MAX_DEPTH + 1)
             for p in folder.glob("/".join(["*"] * depth + [PACKAGE])) if p.is_dir() and "__MACOSX" not in p.parts]
    if not found:
        return None
    best, _ = min(found, key=lambda pd: (-_holds(pd[0]), pd[1], str(pd[0])))
    return best.parent


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
    """(the folder holding cs231n/ or None, a problem in words or "", that cs231n/ as a path inside the
    submission, e.g. "assignment2/cs231n", or "") for a folder or a zip."""
    path = Path(path)
    if path.is_dir():
        root = package_root(path)
        yield root, "", _inside(root, path)
        return
    with tempfile.TemporaryDirectory(prefix="mlp-ref-zip-") as tmp:
        try:
            _extract(path, tmp)
        except (zipfile.BadZipFile, ValueError, OSError) as e:
            yield None, f"could not unpack {path.name}: {e}", ""
            return
        root = package_root(tmp)
        yield root, "", _inside(root, Path(tmp))


def _inside(root, top):
    return "" if root is None else (root / PACKAGE).relative_to(top).as_posix()


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
