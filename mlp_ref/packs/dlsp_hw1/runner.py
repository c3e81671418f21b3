"""The homework's child side: run the battery's cases on one submission, keeping each value it hands back.

Runs inside the engine's sandboxed child (mlp_ref.grader.child: limits, guards, the results pipe); the
parent compares. RUNNER is what the homework hands sandbox.start_child; start_child here is that, bound.
"""
import functools
import json
import os
import signal
import sys
import time

from mlp_ref.grader import child, guards, sandbox
from mlp_ref.grader.sandbox import Limits, finish  # noqa: F401  (the homework's way into the sandbox)

RUNNER = "mlp_ref.packs.dlsp_hw1.runner:run_battery"
start_child = functools.partial(sandbox.start_child, runner=RUNNER)


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


def run_battery(path, source, fd, opts):
    """The child's side for this homework: load the submission, detect its interface, run each case."""
    child._limit(opts)

    def emit(**event):
        child.emit(fd, **event)

    real_stdout = os.dup(1)
    capped = child.CappedStream(real_stdout, int(opts["output_cap"]), lambda n: emit(event="output_flood", bytes=n))
    sys.stdout = sys.stderr = capped
    import numpy as np  # noqa: F401  (loaded before the submission, so it cannot shadow it)
    import torch

    torch.set_num_threads(1)
    # Imported here, not at the top: a grader that forks the child itself must not have loaded torch.
    from mlp_ref.packs.dlsp_hw1 import adapters, battery

    Recorder.to_numpy = staticmethod(adapters.to_numpy)
    cases = battery.by_id(opts["seed"], opts.get("dtype", battery.DTYPES[0]))
    # Installed before the submission loads: autograd at import time counts too.
    guard = guards.AutogradGuard()
    guards.drop_privileges(opts.get("uid"))
    guards.hide_grader()
    sys.path.insert(0, os.path.dirname(path))
    t0 = time.perf_counter()
    try:
        if isinstance(source, OSError):
            raise source
        module = child.load_submission(path, source)
    except BaseException as exc:  # noqa: B036  (SyntaxError, ImportError, sys.exit at import: all reported)
        info = child.error_info(exc, path, "import", None)
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
        raise child.CaseTimeout(f"still running after the {opts['case_timeout_s']:g} s limit for one case")

    signal.signal(signal.SIGALRM, alarm)
    timeouts = 0
    for case_id in opts["cases"]:
        case = cases[case_id]
        if case.kind not in adapters.SUPPORTED_KINDS[interface]:
            emit(event="case", case=case_id, skipped=f"the {interface} interface has no {case.kind} check")
            continue
        if timeouts >= child.MAX_TIMEOUTS:
            emit(event="case", case=case_id, skipped=f"not run: {timeouts} earlier cases ran out of time")
            continue
        rec, error, calls0 = None, None, guard.check()
        signal.setitimer(signal.ITIMER_REAL, float(opts["case_timeout_s"]))
        try:
            rec = Recorder()
            rec.driver = adapters.DRIVERS[interface](module, case)
            rec.run(case)
        except BaseException as exc:  # noqa: B036  (whatever the submission raises becomes a failed check)
            error = child.error_info(exc, path, rec.stage if rec else "construct", rec.step if rec else None)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        timeouts += bool(error and error["outcome"] == "timeout")
        emit(event="case", case=case_id, arrays={k: child.pack(v) for k, v in rec.arrays.items()}, error=error,
             autograd_calls=guard.check() - calls0, tracked=rec.tracked)
    emit(event="done", output_bytes=capped.bytes)


if __name__ == "__main__":
    # By hand, for debugging: python -m mlp_ref.packs.dlsp_hw1.runner SUBMISSION OPTIONS_JSON  (events on stdout's fd)
    with open(sys.argv[1], "rb") as f:
        run_battery(os.path.abspath(sys.argv[1]), f.read(), os.dup(1), json.loads(sys.argv[2]))
    os._exit(0)
