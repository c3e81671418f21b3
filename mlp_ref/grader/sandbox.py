"""Run a submission in a child process and read back what it recorded, safely.

Children are forked from one fork server (multiprocessing's "forkserver") that imported numpy and
torch once, single-threaded: a child starts in milliseconds instead of paying torch's 1-3 s import.
The child gets a time limit (killed with its whole process group), a memory limit and an output cap
(set by the child before the submission loads), single-threaded BLAS/OpenMP, a scratch working directory, and
no stdin. When the grader runs as root, each child also drops to a uid of its own (CHILD_UIDS) before
the submission loads, so it cannot write the grader's files or another child's, and every process
left with that uid is killed when the child ends.

Results come back through an anonymous pipe, never a file a submission could reach by path. They are
JSON lines only, each one capped in length, type-checked field by field, and parsed into numpy arrays
of an allowed dtype (raw bytes in base64, their count checked against the shape): nothing the child
wrote is ever unpickled or executed. The submission runs in the process that holds the pipe, so this
protects against other submissions and a broken child, not against a submission that writes forged
lines to its own pipe (see the README's grading section).
"""
import binascii
import contextlib
import importlib
import json
import multiprocessing
import multiprocessing.forkserver
import os
import secrets
import select
import signal
import sys
import tempfile
import threading
import time
import types
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mlp_ref.env import THREAD_VARIABLES
from mlp_ref.grader import guards

# One thread per child: a folder run already grades one submission per core.
THREAD_ENV = {**THREAD_VARIABLES, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
ALLOWED_DTYPES = ("float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint8", "bool")
_LITTLE_ENDIAN = {name: np.dtype(name).newbyteorder("<") for name in ALLOWED_DTYPES}  # child.pack's byte order
_NATIVE = {name: np.dtype(name) for name in ALLOWED_DTYPES}  # (a dtype object: NumPy parses a name at every use)
OUTPUT_HEAD = 2000
POLL_S = 0.005  # seconds between looks at a child whose end cannot be waited for
MAX_LINE = 16 * 2 ** 20      # one result line; a case's arrays take kilobytes
MAX_RESULTS = 128 * 2 ** 20  # everything one child may send back; the rest is read and dropped
# Uids given to children when the grader is root: unlikely to belong to anyone, one per child.
CHILD_UIDS = range(3_000_000, 3_000_000 + 2 ** 24)
INT_FIELDS = ("bytes", "output_bytes", "autograd_calls", "line", "step")
STR_FIELDS = ("event", "case", "type", "message", "problem", "source", "stage", "skipped", "interface", "outcome",
              "function")


@dataclass
class Limits:
    timeout_s: float = 30.0       # the whole battery, import included
    case_timeout_s: float = 5.0   # one case; a correct one takes milliseconds, a loaded machine more
    memory_mb: int = 2048         # address space the submission may add to the child's (torch's included)
    output_cap: int = 1 << 20     # bytes of stdout + stderr before the run counts as an output flood


@dataclass
class ChildRun:
    """What came back from one child: its events in order, and how it ended."""
    events: list = field(default_factory=list)
    returncode: int = None
    timed_out: bool = False
    seconds: float = 0.0
    output_bytes: int = 0
    output_head: str = ""
    bad_lines: int = 0

    def of(self, name):
        return [e for e in self.events if e.get("event") == name]

    @property
    def finished(self):
        return bool(self.of("done"))

    @property
    def ending(self):
        """How the process ended, in words, when it did not finish the battery."""
        if self.finished:
            return None
        if self.timed_out:
            return "timeout"
        if self.returncode is not None and self.returncode < 0:
            sig = -self.returncode
            # SIGXCPU is the CPU-seconds limit; SIGKILL/SIGSEGV from the kernel usually memory.
            return "timeout" if sig == signal.SIGXCPU else "crashed"
        return "exited"


def unpack(packed):
    """A packed array (child.pack) back to numpy: ValueError for a dtype outside the allowed list, a shape
    that is not a list of sizes, or bytes that are not base64 or not exactly the shape's size."""
    dtype = packed.get("dtype")
    kind = _LITTLE_ENDIAN.get(dtype)
    if kind is None:
        raise ValueError(f"array dtype {dtype!r} not allowed")
    shape, encoded = packed["shape"], packed["b64"]
    size = 1
    for s in shape if type(shape) is list else (-1,):  # anything but a list fails as a bad size
        if type(s) is not int or s < 0:
            raise ValueError(f"array shape: expected a list of sizes, got {str(shape)[:80]}")
        size *= s
    if type(encoded) is not str:
        raise ValueError(f"array bytes: expected a base64 string, got {type(encoded).__name__}")
    try:
        raw = binascii.a2b_base64(encoded, strict_mode=True)
    except binascii.Error as e:
        raise ValueError(f"array bytes: not base64 ({e})") from None
    if len(raw) != size * kind.itemsize:
        raise ValueError(f"array bytes: shape {shape} of {dtype} needs {size * kind.itemsize}, got {len(raw)}")
    if dtype == "bool":  # any nonzero byte is True, as numpy itself would make it
        return (np.frombuffer(raw, dtype=np.uint8) != 0).reshape(shape)
    return np.frombuffer(raw, dtype=kind).astype(_NATIVE[dtype]).reshape(shape)


# The fork server imports these once; the first runner's module joins them (a later pack's runner is
# imported in its child instead).
PRELOAD = ["numpy", "torch", "mlp_ref.grader.child"]
_server_lock = threading.Lock()
_context = None


@contextlib.contextmanager
def _environment(values):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def fork_server(runner_module=None):
    """The multiprocessing context whose server process imported torch once, single-threaded; children fork from it."""
    global _context
    with _server_lock:
        if _context is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(PRELOAD + ([runner_module] if runner_module else []))
            # The thread variables must be in the server's environment before it imports torch; the
            # grader's own process keeps its settings.
            with _environment(THREAD_ENV):
                multiprocessing.forkserver.ensure_running()
            _context = ctx
        return _context


@dataclass
class Pending:
    """A child that was started: its process, its scratch folder, when it began."""
    proc: object
    tmp: tempfile.TemporaryDirectory
    limits: Limits
    t0: float
    reader: object = None  # the parent's end of the results pipe
    uid: int = None        # the uid the child runs as, when the grader is root

    @property
    def folder(self):
        return Path(self.tmp.name)


def start_child(path, case_ids, limits=Limits(), seed=0, *, dtype="float32", from_parent=False, runner=None,
                extra=None):
    """Start the child on the cases `case_ids` of an assignment pack's cases for `seed` and the graded `dtype`.

    runner: "module:function", the pack's side of the child, called as runner(path, source, fd, opts);
    extra: further options it reads (JSON-able).

    from_parent: fork this process directly instead of asking the fork server (after importing what the
    server would have). Saves starting the server, and a second torch import, for a one-off `mlp-ref check
    FILE`; safe only while this process has one thread and has not yet run torch ops (whose thread pools
    do not survive a fork).
    """
    from mlp_ref.grader import child

    if not isinstance(runner, str) or not runner.partition(":")[2]:
        raise ValueError(f"runner: expected 'module:function' (an assignment pack's child side), got {runner!r}")
    runner_module = runner.partition(":")[0]
    if from_parent:
        # What the fork server would have imported, imported here first: the child inherits it, so torch's
        # import (a second or two) is paid once for both processes instead of once in each.
        for module in PRELOAD + [runner_module]:
            importlib.import_module(module)
    ctx = multiprocessing.get_context("fork") if from_parent else fork_server(runner_module)
    tmp = tempfile.TemporaryDirectory(prefix="mlp-ref-check-")
    folder = Path(tmp.name)
    (folder / "work").mkdir()
    uid = None
    if os.geteuid() == 0:
        uid = CHILD_UIDS.start + secrets.randbelow(len(CHILD_UIDS))
        os.chown(folder / "work", uid, uid)
    opts = dict(seed=seed, dtype=dtype, cases=list(case_ids), timeout_s=limits.timeout_s, case_timeout_s=limits.case_timeout_s,
                memory_mb=limits.memory_mb, output_cap=limits.output_cap, uid=uid)
    opts.update(extra or {}, runner=runner)
    reader, writer = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=child.entry, args=(str(Path(path).resolve()), writer,
                                                 str(folder / "output.txt"), str(folder / "work"), opts), daemon=True)
    t0 = time.perf_counter()
    try:
        if from_parent:
            proc.start()
        else:
            with _server_lock, _without_main():
                proc.start()
    finally:
        writer.close()  # the child holds its own copy; the pipe ends when every copy is closed
    return Pending(proc, tmp, limits, t0, reader, uid)


@contextlib.contextmanager
def _without_main():
    """multiprocessing re-runs the parent's __main__ script in every child it starts (a script without
    an `if __name__ == "__main__"` guard would grade again, recursively; one read from stdin cannot be
    found). The child needs nothing from it, so it is hidden while the child starts."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


def finish(pending):
    """Wait for the child (killing it at the time limit) and read back what it recorded; never raises for it."""
    run, proc = ChildRun(), pending.proc
    deadline = pending.t0 + pending.limits.timeout_s
    data = _collect(pending.reader, proc, deadline)
    _wait(proc, deadline)
    run.timed_out = proc.exitcode is None
    if run.timed_out:
        # Still alive, the child (a subreaper) holds every process it started, setsid() or not.
        guards.kill_descendants(proc.pid)
    # The whole group: a submission may have started processes of its own.
    for kill in (os.killpg, os.kill):  # the child itself too, should it have left its group
        try:
            kill(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    proc.join()
    if pending.uid is not None:
        kill_uid(pending.uid)  # processes that left the group (setsid) still have the child's uid
    data += _drain(pending.reader, MAX_RESULTS - len(data))
    pending.reader.close()
    run.returncode = proc.exitcode
    run.seconds = time.perf_counter() - pending.t0
    output = pending.folder / "output.txt"
    _read_events(run, data)
    size = output.stat().st_size if output.exists() else 0
    run.output_bytes = max([size] + [e.get("bytes") or e.get("output_bytes") or 0 for e in run.events])
    if output.exists():
        with open(output, "rb") as f:
            run.output_head = f.read(OUTPUT_HEAD).decode("utf-8", "replace")
    pending.tmp.cleanup()
    return run


def run_child(path, case_ids, limits=Limits(), seed=0, dtype="float32", *, runner):
    """Run the pack's cases `case_ids` on the submission at `path` in a child forked from the server."""
    return finish(start_child(path, case_ids, limits, seed, dtype=dtype, runner=runner))


def _collect(reader, proc, deadline):
    """What the child sends until the pipe closes, the child ends, or the deadline (read as it comes:
    a full pipe would stop the child)."""
    fd, data = reader.fileno(), bytearray()
    watch = [fd, proc.sentinel]
    while (left := deadline - time.perf_counter()) > 0:
        # Without the sentinel, poll: at most POLL_S between looks at whether the child has ended.
        ready, _, _ = select.select(watch, [], [], left if len(watch) == 2 else min(left, POLL_S))
        if fd in ready:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            if len(data) < MAX_RESULTS:
                data += chunk[: MAX_RESULTS - len(data)]
        elif proc.exitcode is not None:  # a non-blocking waitpid
            break  # the child ended; a process it left behind may hold the pipe open
        elif ready:
            # The sentinel is readable while the child lives: a forked child closes its copy of the write
            # end at start (it keeps no descriptor but the results pipe). Poll instead.
            watch = [fd]
    return data


def _wait(proc, deadline):
    """Until the child ends or the deadline, never in a blocking waitpid: multiprocessing's join() takes
    a readable sentinel for the child's end and then waits for it without a limit."""
    while proc.exitcode is None and time.perf_counter() < deadline:
        time.sleep(POLL_S)


def _drain(reader, room):
    """What is left in the pipe after the child ended, without waiting for anyone still holding it."""
    fd, data = reader.fileno(), bytearray()
    os.set_blocking(fd, False)
    while True:
        try:
            chunk = os.read(fd, 1 << 20)
        except (BlockingIOError, OSError):
            break
        if not chunk:
            break
        data += chunk[: max(0, room - len(data))]
    return bytes(data)


def kill_uid(uid, rounds=50):
    """SIGKILL every process whose real uid is `uid` (a uid used by one child alone), until none is left."""
    for _ in range(rounds):
        found = False
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/status") as f:
                    uids = next(line for line in f if line.startswith("Uid:")).split()[1:]
                if int(uids[0]) == uid or int(uids[1]) == uid:
                    os.kill(int(entry.name), signal.SIGKILL)
                    found = True
            except (OSError, StopIteration, ValueError, IndexError):
                continue
        if not found:
            return


def valid_event(event):
    """Whether a parsed line has the shape of a child event: every known field of the right type."""
    if not isinstance(event, dict) or not isinstance(event.get("event"), str):
        return False
    for name, value in event.items():
        if name in INT_FIELDS and not (value is None or (type(value) is int and value >= 0)):
            return False
        if name in STR_FIELDS and not (value is None or isinstance(value, str)):
            return False
    tracked = event.get("tracked", [])
    if not isinstance(tracked, list) or not all(isinstance(t, str) for t in tracked):
        return False
    if not isinstance(event.get("arrays", {}), dict):
        return False
    error = event.get("error")
    return error is None or (isinstance(error, dict) and "error" not in error and valid_event(dict(error, event="error")))


def _read_events(run, data):
    for line in bytes(data).split(b"\n"):
        if not line.strip():
            continue
        if len(line) > MAX_LINE:
            run.bad_lines += 1
            continue
        try:
            event = json.loads(line)
        except Exception:  # noqa: BLE001  (deep nesting raises RecursionError; any unreadable line is just bad)
            run.bad_lines += 1
            continue
        if valid_event(event):
            run.events.append(event)
        else:
            run.bad_lines += 1
