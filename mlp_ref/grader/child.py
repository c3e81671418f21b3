"""The child process: import one submission, run the battery on it, write back arrays only.

The child is forked from a fork server that has already imported torch (see sandbox.py), so a
submission costs no torch import. Limits are set here, before the submission loads: address space
(RLIMIT_AS), file size (RLIMIT_FSIZE), CPU seconds, and a per-case alarm; as root, the child then drops
to its own uid (RLIMIT_NPROC applies from there) and hides the grader's modules. One JSON line per event
goes up the results pipe as soon as it happens, so a
submission that kills the process still leaves the cases before it. The child judges nothing: it
records what the submission returned and the parent compares.
"""
import importlib
import json
import os
import resource
import signal
import sys
import time
import traceback

from mlp_ref.grader.guards import (AutogradGuard, become_subreaper, die_with_parent, drop_privileges, hide_grader,
                                   kill_descendants)
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
    """An array as JSON: dtype, shape, flat values (a float's repr round-trips exactly, NaN and inf too)."""
    import numpy as np

    a = np.asarray(a)
    if a.dtype.kind not in "fiub":
        a = a.astype(np.float64)
    return {"dtype": a.dtype.name, "shape": list(a.shape), "data": a.ravel().tolist()}


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


class Recorder:
    """Runs one case step by step, keeping each value the submission hands back as a numpy copy."""

    def __init__(self):
        self.driver = None
        self.arrays, self.tracked = {}, []
        self.stage, self.step = "construct", None

    to_numpy = None  # adapters.to_numpy, bound before the grader's modules are hidden

    def keep(self, name, value):
        # Answers are judged by type; "@" keys are the grader's own inputs read back (class indices too).
        answer = "@" not in name
        self.arrays[name] = self.to_numpy(value, name.split(".")[-1], self.tracked, answer=answer,
                                          tensors=answer and getattr(self.driver, "name", None) == "homework",
                                          dtype=getattr(getattr(self.driver, "case", None), "dtype", None))
        return self.arrays[name]

    def call(self, stage, fn, *args):
        self.stage = stage
        return fn(*args)

    def run(self, case):
        d = self.driver
        if case.kind == "loss":
            y, y_hat = d.tensor(case.array("y")), d.tensor(case.array("y_hat"))
            J, dJdy_hat = self.call("loss", d.loss, y, y_hat)
            self.keep("J", J)
            self.keep("dJdy_hat", dJdy_hat)
            self.keep("y@loss", y)
            self.keep("y_hat@loss", y_hat)
            return
        self.call("set parameters", d.set_params, {k: case.array(k) for k in ("W1", "b1", "W2", "b2")})
        self.call("clear_grad_and_cache", d.clear)
        x = d.tensor(case.array("x"))
        y = d.tensor(case.array("y")) if "y" in case.inputs else None
        steps = 2 if case.kind == "twice" else case.steps
        for step in range(1, steps + 1):
            self.step = step
            s = f"{step}."
            y_hat = self.keep(s + "y_hat", self.call("forward", d.forward, x))
            self.keep(s + "x@forward", x)
            if case.kind == "backward":
                dJdy_hat = d.tensor(case.array("dJdy_hat"))
            else:
                J, dJdy_hat = self.call("loss", d.loss, y, d.tensor(y_hat))
                self.keep(s + "J", J)
                if dJdy_hat is not None:
                    self.keep(s + "dJdy_hat", dJdy_hat)
                self.keep(s + "y@loss", y)
            before = None if dJdy_hat is None else self.keep(s + "dJdy_hat@before", dJdy_hat)
            self.call("backward", d.backward, dJdy_hat)
            if getattr(d, "dy_hat", None) is not None:
                self.keep(s + "dJdy_hat", d.dy_hat)
            grads = self.call("reading grads", d.grads)
            for k, v in grads.items():
                self.keep(s + k, v)
            self.keep(s + "x@backward", x)
            if before is not None:
                self.keep(s + "dJdy_hat@backward", dJdy_hat)
            if case.kind == "train" and step < steps:
                self.call("SGD update", d.sgd, case.lr, {k: self.arrays[s + k] for k in grads})
            if step < steps:
                self.call("clear_grad_and_cache", d.clear)


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
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as e:  # a folder (a pack's package submission) lands here too; its runner reads it
        source = e
    run = run_battery
    if opts.get("runner"):
        # An assignment pack's own runner ("module:function"), imported before the grader is hidden.
        module, _, name = opts["runner"].partition(":")
        run = getattr(importlib.import_module(module), name)
    try:
        run(os.path.abspath(path), source, results.fileno(), opts)
    finally:
        kill_descendants(os.getpid())
        # Skip interpreter teardown: the submission's atexit handlers and __del__ methods do not run.
        os._exit(0)


def _write_all(fd, data):
    while data:
        data = data[os.write(fd, data):]


def run_battery(path, source, fd, opts):
    _limit(opts)

    def emit(**event):
        _write_all(fd, (json.dumps(event) + "\n").encode())

    real_stdout = os.dup(1)
    capped = CappedStream(real_stdout, int(opts["output_cap"]), lambda n: emit(event="output_flood", bytes=n))
    sys.stdout = sys.stderr = capped
    import numpy as np  # noqa: F401  (loaded before the submission, so it cannot shadow it)
    import torch

    torch.set_num_threads(1)
    from mlp_ref.grader import adapters, battery

    cases = battery.by_id(opts["seed"], opts.get("dtype", battery.DTYPES[0]))
    Recorder.to_numpy = staticmethod(adapters.to_numpy)
    # Installed before the submission loads: autograd at import time counts too.
    guard = AutogradGuard()
    drop_privileges(opts.get("uid"))
    hide_grader()
    sys.path.insert(0, os.path.dirname(path))
    t0 = time.perf_counter()
    try:
        if isinstance(source, OSError):
            raise source
        module = load_submission(path, source)
    except BaseException as exc:  # noqa: B036  (SyntaxError, ImportError, sys.exit at import: all reported)
        info = error_info(exc, path, "import", None)
        if isinstance(exc, SyntaxError):
            info.update(line=exc.lineno, source=(exc.text or "").strip()[:200], message=exc.msg)
        emit(event="import_error", **info)
        return
    interface, problem = adapters.detect(module)
    emit(event="interface", interface=interface, problem=problem, import_s=time.perf_counter() - t0,
         autograd_calls=guard.check())
    if interface is None:
        return

    def alarm(signum, frame):
        raise CaseTimeout(f"still running after the {opts['case_timeout_s']:g} s limit for one case")

    signal.signal(signal.SIGALRM, alarm)
    timeouts = 0
    for case_id in opts["cases"]:
        case = cases[case_id]
        if case.kind not in adapters.SUPPORTED_KINDS[interface]:
            emit(event="case", case=case_id, skipped=f"the {interface} interface has no {case.kind} check")
            continue
        if timeouts >= MAX_TIMEOUTS:
            emit(event="case", case=case_id, skipped=f"not run: {timeouts} earlier cases ran out of time")
            continue
        rec, error, calls0 = None, None, guard.check()
        signal.setitimer(signal.ITIMER_REAL, float(opts["case_timeout_s"]))
        try:
            rec = Recorder()
            rec.driver = adapters.DRIVERS[interface](module, case)
            rec.run(case)
        except BaseException as exc:  # noqa: B036  (whatever the submission raises becomes a failed check)
            error = error_info(exc, path, rec.stage if rec else "construct", rec.step if rec else None)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        timeouts += bool(error and error["outcome"] == "timeout")
        emit(event="case", case=case_id, arrays={k: pack(v) for k, v in rec.arrays.items()}, error=error,
             autograd_calls=guard.check() - calls0, tracked=rec.tracked)
    emit(event="done", output_bytes=capped.bytes)


if __name__ == "__main__":
    # By hand, for debugging: python -m mlp_ref.grader.child SUBMISSION OPTIONS_JSON  (events on stdout's fd)
    with open(sys.argv[1], "rb") as f:
        run_battery(os.path.abspath(sys.argv[1]), f.read(), os.dup(1), json.loads(sys.argv[2]))
    os._exit(0)
