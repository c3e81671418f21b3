"""The child process: limits, guards and the results pipe; an assignment pack's runner imports the
submission, runs the pack's cases on it and writes back arrays only.

The child is forked from a fork server that has already imported torch (see sandbox.py), so a
submission costs no torch import. Limits are set here, before the submission loads: address space
(RLIMIT_AS), file size (RLIMIT_FSIZE), CPU seconds, and a per-case alarm; as root, the child then drops
to its own uid (RLIMIT_NPROC applies from there) and hides the grader's modules. One JSON line per event
goes up the results pipe as soon as it happens, so a
submission that kills the process still leaves the cases before it. The child judges nothing: it
records what the submission returned and the parent compares. Which runner is the pack's choice
(opts["runner"], "module:function"; the homework's is mlp_ref.packs.dlsp_hw1.runner).
"""
import importlib
import json
import os
import resource
import signal
import sys
import traceback

from mlp_ref.grader.guards import become_subreaper, die_with_parent, kill_descendants
from mlp_ref.grader.source import strict_text

# Cases abandoned after this many per-case timeouts: a loop that never ends in forward would
# otherwise cost the per-case limit once for every case.
MAX_TIMEOUTS = 2


class CaseTimeout(BaseException):
    """Raised by the per-case alarm; a BaseException so `except Exception` in a submission lets it by."""


class CappedStream:
    """stdout/stderr for the submission: the first `cap` bytes reach the real file, the rest are counted."""

    def __init__(self, fd, cap, on_flood):
        self.fd, self.cap, self.on_flood, self.bytes = fd, cap, on_flood, 0

    def write(self, text):
        data = str(text).encode("utf-8", "replace")
        before, self.bytes = self.bytes, self.bytes + len(data)
        if before < self.cap:
            try:
                os.write(self.fd, data[: self.cap - before])
            except OSError:
                pass
        if before <= self.cap < self.bytes:
            self.on_flood(self.bytes)
        return len(text)

    def flush(self):
        pass

    def isatty(self):
        return False

    encoding = "utf-8"


def _mapped_bytes():
    """Address space this process already maps (torch alone is about 650 MB), from /proc/self/statm."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


def _limit(opts):
    # The limit is on what the submission adds to what the child was forked with, so it means the
    # same whether the child came from the small fork server or from a larger grading process.
    mem = _mapped_bytes() + int(opts["memory_mb"]) * 2 ** 20
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 2 ** 20, 64 * 2 ** 20))
    cpu = int(opts["timeout_s"]) + 5
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    # A write past RLIMIT_FSIZE then fails with an error instead of killing the process.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def _where(exc, path):
    """The innermost frame of the traceback inside the submission: (line number, source line, function)."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if os.path.abspath(frame.filename) == path:
            return frame.lineno, (frame.line or "").strip(), frame.name
    return None, None, None


def error_info(exc, path, stage, step):
    lineno, source, function = _where(exc, path)
    unwritten = None
    if isinstance(exc, NotImplementedError):
        # An unfilled template function, by its name: not a crash.
        unwritten = getattr(exc, "function", None) or (function if function != "<module>" else None) or stage
    if unwritten:
        outcome = "unwritten"
    elif isinstance(exc, CaseTimeout):
        outcome = "timeout"
    elif isinstance(exc, SystemExit):
        outcome = "exited"
    elif isinstance(exc, MemoryError) or "allocate" in str(exc):
        outcome = "memory_limit"
    else:
        outcome = "crashed"
    message = f"sys.exit({exc.code!r})" if isinstance(exc, SystemExit) else str(exc)
    return {"type": type(exc).__name__, "message": message[:500], "stage": stage, "step": step,
            "line": lineno, "source": source[:200] if source else None, "outcome": outcome,
            "function": unwritten}


def pack(a):
    """An array as JSON: dtype, shape, and its bytes (little-endian, C order) in base64: exact to the bit,
    NaN and inf too, and a tenth of the time that writing each float's repr takes."""
    import base64

    import numpy as np

    a = np.asarray(a)
    if a.dtype.kind not in "fiub":
        a = a.astype(np.float64)
    known = _PACKED.get(a.dtype)
    if known is None:
        known = _PACKED[a.dtype] = (a.dtype.name, a.dtype.newbyteorder("<"))
    name, little_endian = known
    raw = np.ascontiguousarray(a, dtype=little_endian).tobytes()
    return {"dtype": name, "shape": list(a.shape), "b64": base64.b64encode(raw).decode("ascii")}


# Per dtype, its name and little-endian form: NumPy builds both anew at every call, and that cost more
# than the packing itself. (What the child sends is checked by the parent whatever it says.)
_PACKED = {}


def load_submission(path, source):
    """The submission as a fresh module, from its source read before the privileges were dropped."""
    import linecache
    import types

    text = strict_text(source, path)
    # mtime None: linecache never re-reads the file (which the child's uid may not be allowed to).
    linecache.cache[path] = (len(text), None, text.splitlines(True), path)
    code = compile(source, path, "exec")
    module = types.ModuleType("submission")
    module.__file__ = path
    sys.modules["submission"] = module
    exec(code, module.__dict__)
    return module


def entry(path, results, output_path, work_dir, opts):
    """The child's first call, in a process forked from the fork server (torch already loaded there).

    results: the write end of the pipe the parent reads (a multiprocessing Connection; only its fd is used).
    """
    os.setsid()  # its own process group, so the grader can kill it with everything it started
    become_subreaper()  # and what leaves the group (setsid) stays below it, to be killed at the end
    die_with_parent()
    os.chdir(work_dir)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    out = os.open(output_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(out, 1)
    os.dup2(out, 2)
    # Every other descriptor the child inherited is closed: the fork server's alive pipe and its resource
    # tracker's (data written there kills the server, and the next grading pays torch's import again),
    # multiprocessing's sentinels, and, forked from a lone grader, everything the grader holds. The
    # submission reaches the grader by the results pipe alone.
    close_inherited(keep=results.fileno())
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as e:  # a folder (a pack's package submission) lands here too; its runner reads it
        source = e
    # The assignment pack's runner ("module:function"), imported before the grader is hidden.
    module, _, name = opts["runner"].partition(":")
    run = getattr(importlib.import_module(module), name)
    try:
        run(os.path.abspath(path), source, results.fileno(), opts)
    finally:
        kill_descendants(os.getpid())
        # Skip interpreter teardown: the submission's atexit handlers and __del__ methods do not run.
        os._exit(0)


def close_inherited(keep):
    """Close every descriptor above stderr but `keep`: those /proc lists as open (a loop to the descriptor
    limit would make a million close calls where the limit is that high), else up to the limit."""
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        os.closerange(3, keep)
        os.closerange(keep + 1, os.sysconf("SC_OPEN_MAX"))
        return
    for fd in fds:
        if fd > 2 and fd != keep:
            try:
                os.close(fd)
            except OSError:
                pass  # the listing's own descriptor, already closed


def _write_all(fd, data):
    while data:
        data = data[os.write(fd, data):]


def emit(fd, **event):
    """One event, as one JSON line, up the results pipe (fd)."""
    _write_all(fd, (json.dumps(event) + "\n").encode())

