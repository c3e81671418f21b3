"""Output files: checked before any work, written atomically, never onto an input.

An output path is refused when it is an input, lies inside the folder being graded, or cannot be
written (missing folder, no permission, a folder where a file is wanted). Writes go to a temporary
file in the same folder, then os.replace: a reader sees the old file or the new one, never half.
"""
import os
import tempfile
from pathlib import Path



def _resolved(path):
    return Path(os.path.abspath(os.path.expanduser(str(path))))


def _inside(path, folder):
    p, f = os.path.realpath(_resolved(path)), os.path.realpath(_resolved(folder))
    return p == f or p.startswith(f.rstrip(os.sep) + os.sep)


def _same(a, b):
    pa, pb = _resolved(a), _resolved(b)
    if pa == pb:
        return True
    try:
        return os.path.samefile(pa, pb)
    except OSError:
        return os.path.realpath(pa) == os.path.realpath(pb)


def _can_create_in(folder):
    """Whether a file can be created in `folder`, by creating and removing one: os.access says yes
    to root everywhere, /proc included."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".mlp-ref-probe.", dir=folder)
    except OSError:
        return False
    os.close(fd)
    os.unlink(tmp)
    return True


def _writable_folder(folder):
    """The nearest existing ancestor of `folder` is a folder we may create entries in."""
    probe = _resolved(folder)
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe.is_dir() and _can_create_in(probe), probe


def check_output(flag, path, *, inputs=(), graded=None, folder=False):
    """Refuse (ValueError, one line naming `flag`) an output path that cannot be written or would
    overwrite an input. folder=True: the output is a folder of files (created if missing)."""
    p = _resolved(path)
    for source in inputs:
        if source is not None and _same(p, source):
            raise ValueError(f"{flag}: expected an output path that is not an input, got {str(path)!r}, "
                             f"which is the input {str(source)!r}")
    if graded is not None and _inside(p, graded):
        raise ValueError(f"{flag}: expected an output path outside the folder being graded, got {str(path)!r}, "
                         f"inside {str(graded)!r} (it would be graded or overwrite a submission)")
    if folder:
        if p.exists() and not p.is_dir():
            raise ValueError(f"{flag}: expected a folder (one results file per submission), "
                             f"got {str(path)!r}, which is a file")
        ok, probe = _writable_folder(p)
        if not ok:
            raise ValueError(f"{flag}: expected a folder that can be created or written, got {str(path)!r} "
                             f"({str(probe)!r} is not a writable folder)")
        return p
    if p.is_dir() or str(path).endswith(os.sep):
        raise ValueError(f"{flag}: expected a file path, got {str(path)!r}, which is a folder")
    if p.exists() and not os.access(p, os.W_OK):
        raise ValueError(f"{flag}: expected a writable file, got {str(path)!r}, which is not writable")
    if not p.parent.is_dir() or not _can_create_in(p.parent):
        raise ValueError(f"{flag}: expected a file in an existing, writable folder, got {str(path)!r} "
                         f"({str(p.parent)!r} is missing or not writable)")
    return p


def write_atomic(path, data):
    """Write text or bytes to `path` through a temporary file in the same folder and os.replace."""
    path = Path(path)
    raw = data.encode() if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
        os.chmod(tmp, _mode(path))
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def _mode(path):
    """The existing file's mode, else what open() would give under the current umask."""
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def result_name(relative):
    """A submission's results-file name from its path relative to the graded folder; one-to-one,
    so two submissions never share a results file: '%' becomes '%25', each separator '%2F'."""
    text = str(Path(relative).with_suffix(".json"))
    return text.replace("%", "%25").replace(os.sep, "%2F")
