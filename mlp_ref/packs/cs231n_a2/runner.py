"""The child's side of cs231n-a2: import the student's `cs231n/` package and call each unit on each case.

Runs in the sandboxed child (mlp_ref.grader.child.entry with opts["runner"]), under the same limits,
output cap, autograd guard and privilege drop as the homework. Each child is a fresh process, so the
package can keep its own name `cs231n` (its absolute imports then work) without meeting another
submission's. It is loaded twice: as written, and with the grader's reference layers standing at
`cs231n.layers` (and in place of every layer name fc_net.py and layer_utils.py hold), so
FullyConnectedNet is also graded on its own composition. Course helpers the folder lacks
(fast_layers, im2col, data_utils, ...) are stood in for by empty modules whose every name raises when
called, so units that do not use them still grade; a missing layer_utils gets the course's affine_relu
pair, built on the package's own layers.

A backward is fed the student's own forward cache. Every input is recorded again after each call
("name@unit"), so the grader can see one changed. One JSON line per case; nothing is judged here.
"""
import importlib
import os
import signal
import sys
import time
import traceback
import types

import numpy as np

from mlp_ref.grader import child
from mlp_ref.grader.guards import AutogradGuard, drop_privileges, hide_grader
from mlp_ref.packs.cs231n_a2 import cases as cases_module
from mlp_ref.packs.cs231n_a2 import py2, reference, variants
from mlp_ref.packs.cs231n_a2.interface import FORWARD_OF, MODEL_CLASS, MODEL_MODULE, MODULE, NOT_IMPLEMENTED, UNITS
from mlp_ref.packs.cs231n_a2.standins import PACKAGE, StandIn, restore_numpy_names, stood_in

class OutputFlood(BaseException):
    """Raised from print() once one case's output passes the cap: a BaseException, like the case timeout,
    so `except Exception` in a submission lets it by, and the flood costs the unit, not the run's time."""


class CaseOutput(child.CappedStream):
    """The child's capped stdout/stderr, also counting each case's own bytes."""

    case_bytes = 0

    def write(self, text):
        n = super().write(text)
        self.case_bytes += len(str(text))
        if self.case_bytes > self.cap:
            raise OutputFlood(f"printed more than {self.cap} bytes during one case")
        return n


def _purge():
    for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
        del sys.modules[name]


def load(root, variant, with_reference):
    """{module key: module or the exception its import raised}, loaded fresh under `cs231n`."""
    _purge()
    ref = reference.layers_module(variant, PACKAGE + ".layers") if with_reference else None
    modules = {}
    if ref is not None:
        importlib.import_module(PACKAGE)  # the package itself, then the reference in its layers' place
        sys.modules[ref.__name__] = ref
        setattr(sys.modules[PACKAGE], "layers", ref)
    for key in ("layers", "optim", "layer_utils", MODEL_MODULE):
        if not os.path.exists(os.path.join(root, PACKAGE, *key.split(".")) + ".py") and key != "layers":
            modules[key] = None if key != MODEL_MODULE else ModuleNotFoundError(f"{PACKAGE}/{key.replace('.', '/')}.py not found")
            continue
        try:
            modules[key] = importlib.import_module(f"{PACKAGE}.{key}")
        except BaseException as exc:  # noqa: B036  (an import that raises or exits fails its units only)
            if isinstance(exc, child.CaseTimeout):
                raise
            modules[key] = exc
    if ref is not None:
        names = set(vars(ref)) - {"np"}
        for key in ("layer_utils", MODEL_MODULE):
            if isinstance(modules.get(key), types.ModuleType):
                vars(modules[key]).update({k: getattr(ref, k) for k in names if k in vars(modules[key])})
    return modules


def error_info(exc, root, stage):
    """The child's error record, its line taken from the innermost frame inside the package folder."""
    info = child.error_info(exc, root, stage, None)
    inside = os.path.join(os.path.abspath(root), "")
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if os.path.abspath(frame.filename).startswith(inside):
            rel = os.path.relpath(frame.filename, root)
            info.update(line=frame.lineno, source=f"{rel}: {(frame.line or '').strip()}"[:200])
            break
    if isinstance(exc, SyntaxError) and exc.filename:
        info.update(line=exc.lineno, source=f"{os.path.relpath(exc.filename, root)}: {(exc.text or '').strip()}"[:200])
    return info


class NotImplementedYet(Exception):
    """A unit returned None where an array belongs: the course's blank body (`out = None ... pass`)."""


def left_none(exc):
    """Whether an error is the course's blank dropout body meeting the course's own next line,
    `out = out.astype(x.dtype, copy=False)`, with `out` still None. (Other uses of a None may be a
    forgotten `return`: those stay crashes.)"""
    return isinstance(exc, AttributeError) and str(exc) == "'NoneType' object has no attribute 'astype'"


class Calls:
    """One case's calls: each unit's outputs kept as float64 copies, each unit's error kept apart."""

    def __init__(self, path):
        self.path, self.arrays, self.errors, self.done = path, {}, {}, set()

    def keep(self, name, value):
        if value is None:
            raise NotImplementedYet(f"returns None for {name.split('@')[0]}")
        self.arrays[name] = np.array(value, dtype=np.float64)

    def run(self, unit, fn):
        """fn() under the unit's name; False when it raised (recorded), True otherwise."""
        try:
            fn()
            self.done.add(unit)
            return True
        except child.CaseTimeout:
            raise
        except BaseException as exc:  # noqa: B036  (whatever the submission raises fails this unit alone)
            self.errors[unit] = error_info(exc, self.path, unit)
            missing = stood_in() if isinstance(exc, NameError) else ()
            if missing:
                # A name a left-out module would have brought in with `import *`.
                self.errors[unit]["message"] += (f" ({', '.join(missing)} is not in the submission; the grader stands "
                                                 "in an empty module for it)")
            if left_none(exc):
                self.errors[unit].update(type="NotImplementedYet", message=f"leaves a value None ({exc})")
            if isinstance(exc, OutputFlood):
                self.errors[unit]["outcome"] = "output_flood"
            return False


def _layer_group(case, calls, fns):
    a, keep = case.array, calls.keep
    g = case.group
    st = {}

    def forward(unit, call, inputs):
        def go():
            args = {k: a(k) for k in inputs}
            st["args"] = args
            st["out"], st["cache"] = call(args)
            keep(f"out@{unit}", st["out"])
            for k, v in args.items():
                if isinstance(v, np.ndarray):
                    keep(f"{k}@{unit}", v)
        if unit in fns and calls.run(unit, go):
            return True
        st.pop("cache", None)  # a forward that failed feeds no backward
        return False

    def backward(unit, grads):
        def go():
            dout = a("dout")
            result = fns[unit](dout, st["cache"])
            result = (result,) if len(grads) == 1 else tuple(result)
            if len(result) != len(grads):
                raise ValueError(f"{unit} returned {len(result)} values, expected {len(grads)} ({', '.join(grads)})")
            for k, v in zip(grads, result):
                keep(f"{k}@{unit}", v)
            keep(f"dout@{unit}", dout)
        if unit in fns and "cache" in st:
            calls.run(unit, go)
        elif unit in fns:
            before = calls.errors.get(FORWARD_OF[unit], {}).get("type")
            todo = before in NOT_IMPLEMENTED
            calls.errors[unit] = {"type": "NotRunYet" if todo else "NotRun",
                                  "message": f"not run: {FORWARD_OF[unit]} "
                                             + ("is not implemented yet" if todo else "gave no cache to feed it"),
                                  "stage": unit, "outcome": "crashed"}

    if g == "affine":
        forward("affine_forward", lambda k: fns["affine_forward"](k["x"], k["w"], k["b"]), ("x", "w", "b"))
        backward("affine_backward", ("dx", "dw", "db"))
    elif g == "relu":
        forward("relu_forward", lambda k: fns["relu_forward"](k["x"]), ("x",))
        backward("relu_backward", ("dx",))
    elif g in ("softmax_loss", "svm_loss"):
        def go():
            x = a("x")
            loss, dx = fns[g](x, case.inputs["y"].copy())
            keep(f"loss@{g}", loss)
            keep(f"dx@{g}", dx)
            keep(f"x@{g}", x)
        if g in fns:
            calls.run(g, go)
    elif g in ("batchnorm", "layernorm"):
        param = "bn_param" if g == "batchnorm" else "ln_param"

        def call(k):
            k[param] = a(param)
            out = fns[f"{g}_forward"](k["x"], k["gamma"], k["beta"], k[param])
            # The running statistics as the call left them (in bn_param or in the arrays handed in).
            for n in ("running_mean", "running_var"):
                if n in k[param]:
                    keep(f"{n}@{g}_forward", k[param][n])
            return out
        forward(f"{g}_forward", call, ("x", "gamma", "beta"))
        for unit in case.units[1:]:
            backward(unit, ("dx", "dgamma", "dbeta"))
    elif g == "dropout":
        def go():
            x = a("x")
            # "u": no seed, so a backward that draws its mask again (instead of using the forward's) shows.
            for tag, mode, seed in (("a", "train", 0), ("b", "train", 0), ("c", "train", 1), ("test", "test", 0),
                                    ("u", "train", None)):
                param = {"p": case.inputs["p"], "mode": mode, **({} if seed is None else {"seed": seed})}
                out, st[f"cache.{tag}"] = fns["dropout_forward"](x, param)
                keep(f"out.{tag}@dropout_forward", out)
            st["cache"] = st["cache.a"]
            keep("x@dropout_forward", x)
        if "dropout_forward" in fns:
            calls.run("dropout_forward", go)
        backward("dropout_backward", ("dx",))

        def unseeded():
            keep("dx.u@dropout_backward", fns["dropout_backward"](a("dout"), st["cache.u"]))
        if "dropout_backward" in fns and "cache.u" in st and "dropout_backward" not in calls.errors:
            calls.run("dropout_backward", unseeded)
    else:  # an optimizer
        def go():
            w, dw, config = a("w"), a("dw"), case.inputs["config"]
            config = None if config is None else {k: (v.copy() if isinstance(v, np.ndarray) else v)
                                                  for k, v in config.items()}
            next_w, new = fns[g](w, dw, config)
            keep(f"next_w@{g}", next_w)
            for k in ("velocity", "cache", "m", "v", "t"):
                if isinstance(new, dict) and k in new:
                    keep(f"{k}@{g}", new[k])
            keep(f"w@{g}", w)
            keep(f"dw@{g}", dw)
        if g in fns:
            calls.run(g, go)


def _model(case, calls, modules, variant):
    unit = case.units[0]
    fc = modules.get(MODEL_MODULE)
    if not isinstance(fc, types.ModuleType):
        calls.errors[unit] = error_info(fc if isinstance(fc, BaseException) else
                                        ModuleNotFoundError("cs231n.classifiers.fc_net"), calls.path, unit)
        return
    seen = []

    def recording(fn):
        fn = getattr(fn, "recorded", fn)  # the model's modules serve several cases: wrap the original once

        def dropout_forward(x, dropout_param):
            out, cache = fn(x, dropout_param)
            if dropout_param.get("mode") == "train":
                seen.append((np.array(x, dtype=np.float64), np.array(out, dtype=np.float64)))
            return out, cache
        dropout_forward.recorded = fn
        return dropout_forward

    for m in [fc, modules.get("layer_utils")]:
        if isinstance(m, types.ModuleType) and callable(vars(m).get("dropout_forward")):
            vars(m)["dropout_forward"] = recording(vars(m)["dropout_forward"])

    def go():
        s = case.inputs["shape"]
        kwargs = variant.model_kwargs(case.inputs["config"], case.inputs["keep"])
        model = getattr(fc, MODEL_CLASS)(list(s["hidden"]), input_dim=s["d"], num_classes=s["c"],
                                         reg=case.inputs["reg"], weight_scale=1e-2, dtype=np.float64, seed=0, **kwargs)
        for k, v in model.params.items():
            if isinstance(k, str):
                calls.keep(f"shape.{k}", np.shape(v))
        for k, v in case.inputs["params"].items():
            model.params[k] = v.copy()
        X = case.array("X")
        loss, grads = model.loss(X, case.inputs["y"].copy())
        if isinstance(grads, dict) and not grads:
            # The course's blank backward pass: `loss, grads = 0.0, {}` returned as it stands.
            raise NotImplementedYet(f"returns no gradients (loss {loss!r}, grads {{}})")
        calls.keep("loss", loss)
        for k in case.inputs["params"]:
            if k in grads:
                calls.keep(f"grad.{k}", grads[k])
        for i, (x, out) in enumerate(seen):
            calls.keep(f"drop{i}.x", x)
            calls.keep(f"drop{i}.out", out)
        # Not with batch norm: the 2016-2017 course files set `bn_param[mode] = mode` (a key named after the
        # mode), which leaves every net of those years normalizing with batch statistics in test mode.
        if case.inputs["config"] != "batchnorm":
            calls.keep("scores", model.loss(X))
        calls.keep("X@model", X)
    calls.run(unit, go)


def run(path, source, fd, opts):
    """The child's work (called by mlp_ref.grader.child.entry): the package under `path` on every case."""
    child._limit(opts)

    def emit(**event):
        child._write_all(fd, (child.json.dumps(event) + "\n").encode())

    capped = CaseOutput(os.dup(1), int(opts["output_cap"]), lambda n: emit(event="output_flood", bytes=n))
    sys.stdout = sys.stderr = capped
    variant = variants.VARIANTS[opts["variant"]]
    todo = cases_module.by_id(opts["seed"], variant)
    guard = AutogradGuard()
    drop_privileges(opts.get("uid"))
    hide_grader()
    sys.meta_path.append(StandIn(path))
    restore_numpy_names()
    py2.install()
    sys.path.insert(0, path)

    def alarm(signum, frame):
        raise child.CaseTimeout(f"still running after the {opts['case_timeout_s']:g} s limit for one case")

    signal.signal(signal.SIGALRM, alarm)
    t0 = time.perf_counter()
    loaded = {}
    for key, with_ref in (("own", False), ("reference", True)):
        signal.setitimer(signal.ITIMER_REAL, float(opts["case_timeout_s"]))
        try:
            loaded[key] = load(path, variant, with_ref)
        except BaseException as exc:  # noqa: B036  (the package itself did not import)
            loaded[key] = {k: exc for k in ("layers", "optim", "layer_utils", MODEL_MODULE)}
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    own = loaded["own"]
    fns = {}
    problems = {}
    for unit in UNITS:
        module = own.get(MODULE.get(unit))
        # vars(), not getattr: a stood-in module answers every name
        if isinstance(module, types.ModuleType) and callable(vars(module).get(unit)):
            fns[unit] = vars(module)[unit]
    for key, m in own.items():
        if isinstance(m, BaseException):
            problems[key] = error_info(m, path, "import")
    emit(event="interface", interface="cs231n", tracked=sorted(fns), errors=problems,
         import_s=time.perf_counter() - t0, autograd_calls=guard.check())
    timeouts = 0
    for case_id in opts["cases"]:
        case = todo[case_id]
        if timeouts >= child.MAX_TIMEOUTS:
            emit(event="case", case=case_id, skipped=f"not run: {timeouts} earlier cases ran out of time")
            continue
        calls, calls0, printed = Calls(path), guard.check(), capped.bytes
        capped.case_bytes = 0
        signal.setitimer(signal.ITIMER_REAL, float(opts["case_timeout_s"]))
        try:
            if case.group == "model":
                _model(case, calls, loaded["own" if case.inputs["own"] else "reference"], variant)
            else:
                _layer_group(case, calls, fns)
        except BaseException as exc:  # noqa: B036  (the case's time ran out, or something escaped a unit)
            info = error_info(exc, path, "case")
            # The unit that was running when time ran out, and those after it; not those that finished.
            for unit in case.units:
                if unit not in calls.done:
                    calls.errors.setdefault(unit, info)
            timeouts += info["outcome"] == "timeout"
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        emit(event="case", case=case_id, arrays={k: child.pack(v) for k, v in calls.arrays.items()},
             errors=calls.errors, autograd_calls=guard.check() - calls0, output_bytes=capped.bytes - printed)
    emit(event="done", output_bytes=capped.bytes)
