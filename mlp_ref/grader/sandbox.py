"""Run a submission in a child process and read back what it recorded, safely.

Children are forked from one fork server (multiprocessing's "forkserver") that imported numpy and
torch once, single-threaded: a child starts in milliseconds instead of paying torch's 1-3 s import.
The child gets a time limit (killed with its whole process group), a memory limit and an output cap
(set by the child before the submission loads), single-threaded BLAS/OpenMP, a scratch working directory, and
no stdin. What comes back is JSON only, parsed here into numpy arrays of an allowed dtype: nothing
the child wrote is ever unpickled or executed.
"""
import contextlib
import json
import multiprocessing
import multiprocessing.forkserver
import os
import signal
import sys
import tempfile
import threading
import time
import types
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

THREAD_ENV = {"OPENBLAS_THREAD_TIMEOUT": "4", "OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": "1",
              "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
ALLOWED_DTYPES = ("float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint8", "bool")
OUTPUT_HEAD = 2000


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
    """A packed array back to numpy, refusing any dtype outside the allowed list."""
    dtype = packed.get("dtype")
    if dtype not in ALLOWED_DTYPES:
        raise ValueError(f"array dtype {dtype!r} not allowed")
    shape = tuple(int(s) for s in packed["shape"])
    return np.array(packed["data"], dtype=np.float64 if dtype != "bool" else bool).astype(dtype).reshape(shape)


PRELOAD = ["numpy", "torch", "mlp_ref.grader.child", "mlp_ref.grader.adapters", "mlp_ref.grader.battery"]
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


def fork_server():
    """The multiprocessing context whose server process imported torch once, single-threaded; children fork from it."""
    global _context
    with _server_lock:
        if _context is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(PRELOAD)
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

    @property
    def folder(self):
        return Path(self.tmp.name)


def start_child(path, case_ids, limits=Limits(), seed=0, *, from_parent=False):
    """Start the child on the battery's cases `case_ids`.

    from_parent: fork this process directly instead of asking the fork server. Saves the server's
    torch import (seconds) for a one-off `mlp-ref check FILE`; safe only while this process has one
    thread and has not yet run torch ops (whose thread pools do not survive a fork).
    """
    from mlp_ref.grader import child

    ctx = multiprocessing.get_context("fork") if from_parent else fork_server()
    tmp = tempfile.TemporaryDirectory(prefix="mlp-ref-check-")
    folder = Path(tmp.name)
    (folder / "work").mkdir()
    opts = dict(seed=seed, cases=list(case_ids), timeout_s=limits.timeout_s, case_timeout_s=limits.case_timeout_s,
                memory_mb=limits.memory_mb, output_cap=limits.output_cap)
    proc = ctx.Process(target=child.entry, args=(str(Path(path).resolve()), str(folder / "results.jsonl"),
                                                 str(folder / "output.txt"), str(folder / "work"), opts), daemon=True)
    t0 = time.perf_counter()
    if from_parent:
        proc.start()
    else:
        with _server_lock, _without_main():
            proc.start()
    return Pending(proc, tmp, limits, t0)


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
    proc.join(max(0.0, pending.limits.timeout_s - (time.perf_counter() - pending.t0)))
    run.timed_out = proc.exitcode is None
    # The whole group: a submission may have started processes of its own.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.join()
    run.returncode = proc.exitcode
    run.seconds = time.perf_counter() - pending.t0
    results, output = pending.folder / "results.jsonl", pending.folder / "output.txt"
    _read_events(run, results)
    size = output.stat().st_size if output.exists() else 0
    run.output_bytes = max([size] + [e.get("bytes", e.get("output_bytes", 0)) for e in run.events])
    if output.exists():
        with open(output, "rb") as f:
            run.output_head = f.read(OUTPUT_HEAD).decode("utf-8", "replace")
    pending.tmp.cleanup()
    return run


def run_child(path, case_ids, limits=Limits(), seed=0):
    """Run the battery's cases `case_ids` on the submission at `path` in a child forked from the server."""
    return finish(start_child(path, case_ids, limits, seed))


def _read_events(run, results):
    if not results.exists():
        return
    with open(results, "rb") as f:
        for line in f:
            try:
                event = json.loads(line)
            except ValueError:
                run.bad_lines += 1
                continue
            if isinstance(event, dict):
                run.events.append(event)
