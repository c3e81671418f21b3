"""Grade one cs231n-a2 submission: the child's run, torch's answers, one status per unit.

The cases that need no submission's output (every unit but dropout and the model's dropout
configuration) have torch's answers computed once per seed and variant, while the child runs.
"""
import functools
import itertools
import threading
import time

import numpy as np

from mlp_ref.compare import compare_many
from mlp_ref.grader import sandbox
from mlp_ref.grader.verdict import arrays_of
from mlp_ref.packs.cs231n_a2 import bugs, cases, dropout, submission, variants
from mlp_ref.packs.cs231n_a2.interface import MODEL_CONFIGS, MODULE, NOT_IMPLEMENTED, OWN, SECTION_OF, UNITS
from mlp_ref.packs.report import PackReport, Unit
from mlp_ref.tolerances import GRADING

RUNNER = "mlp_ref.packs.cs231n_a2.runner:run"
OPTIONAL = ("svm_loss",)  # in some years' assignments only: n/a when absent
OPTIM = ("sgd", "sgd_momentum", "rmsprop", "adam")
LAYERNORM = ("layernorm_forward", "layernorm_backward", "FullyConnectedNet[layernorm]",
             "FullyConnectedNet[layernorm]" + OWN)
FUNCTION_OF = {f"FullyConnectedNet[{c}]{o}": "FullyConnectedNet" for c in MODEL_CONFIGS for o in ("", OWN)}
_lock = threading.Lock()


def _oracle():
    """torch's side, imported where answers are computed: a submission refused before grading loads no torch."""
    from mlp_ref.packs.cs231n_a2 import oracle

    return oracle


@functools.lru_cache(maxsize=8)
def _fixed(seed, variant):
    oracle = _oracle()
    return {c.id: oracle.answers(c) for c in cases.build(seed, variants.VARIANTS[variant]) if c.group in oracle.ANSWERS}


def fixed_answers(seed, variant):
    """torch's answers for the cases whose truth does not depend on the submission (one computation per folder)."""
    with _lock:
        return _fixed(seed, variant)


def _errors(event):
    """The per-unit errors of a child event, keeping only well-formed ones."""
    errors = (event or {}).get("errors")
    if not isinstance(errors, dict):
        return {}
    return {str(k): v for k, v in errors.items() if isinstance(v, dict)
            and sandbox.valid_event(dict(v, event="error"))}


def _error_unit(name, error):
    outcome = error.get("outcome")
    where = f"\n{error['source']} (line {error['line']})" if error.get("line") else ""
    if error.get("type") in NOT_IMPLEMENTED:
        how = error.get("message") if error.get("type") == "NotImplementedYet" else "raises NotImplementedError"
        return Unit(name, SECTION_OF[name], "missing", message=f"not implemented yet: {name} {how}{where}")
    if error.get("type") == "NotRunYet":
        return Unit(name, SECTION_OF[name], "missing", message=f"{error.get('message')}: write it first")
    status = "timeout" if outcome == "timeout" else "crash"
    return Unit(name, SECTION_OF[name], status, message=f"{error.get('type')}: {error.get('message')}{where}")


def _compare_answer(unit, case, arrays, answer, noise, keys, floor=0.0):
    """(first failing key, message) over `keys` in order, or (None, "").

    floor: added to every element's allowance (the model's: see _model_check)."""
    tol = GRADING["float64"]
    returned = list(itertools.takewhile(lambda key: arrays.get(key) is not None, keys))
    expected = [np.asarray(answer[key], dtype=np.float64) for key in returned]
    allowed = tol.allowed_many(expected, [noise.get(key) for key in returned])
    model = tol.describe()
    for key, c in zip(returned, compare_many([(key.split("@")[0], arrays[key], e, tol, a + floor, model)
                                              for key, e, a in zip(returned, expected, allowed)])):
        if not c.ok:
            what = key.split("@")[0]
            kind = "changed by the call" if what in case.inputs or key == "X@model" else "disagrees with torch"
            return key, f"{case.id}: {what} {kind}\n" + c.describe("submission", "torch")
    if len(returned) < len(keys):
        key = keys[len(returned)]
        return key, f"{case.id}: {key.split('@')[0]} was not returned"
    return None, ""


def _unit_keys(unit, answer, case):
    """The answer keys a unit is graded on: its outputs first, then its inputs (unchanged)."""
    if case.group == "model":
        mine = list(answer)
    else:
        # w: the course's own sgd updates w in place (w -= lr * dw) and the Solver stores next_w anyway.
        mine = [k for k in answer if k.endswith("@" + unit) and not (case.group in OPTIM and k.startswith("w@"))]
    return sorted(mine, key=lambda k: "@" in k and k.split("@")[0] in case.inputs)


def _model_check(unit, case, arrays):
    """(failing key or None, message, diagnosis or None) for a FullyConnectedNet configuration."""
    s, config = case.inputs["shape"], case.inputs["config"]
    for k, v in case.inputs["params"].items():
        shape = arrays.get(f"shape.{k}")
        if shape is None:
            return "shape", f"model.params has no {k!r} (FullyConnectedNet({config}) should make it)", None
        if tuple(int(n) for n in shape) != v.shape:
            bug = "gamma_beta_wrong_width" if k.startswith(("gamma", "beta")) else None
            return "shape." + k, f"model.params[{k!r}] has shape {tuple(int(n) for n in shape)}, expected {v.shape}", bug
    masks = ()
    if config == "dropout":
        masks, bug, problem = dropout.model_masks(arrays, len(s["hidden"]), case.inputs["keep"])
        if masks is None:
            return "dropout", f"{case.id}: {problem}", bug
    oracle = _oracle()
    answer, noise = oracle.with_noise(oracle.model, case, masks, case.inputs["keep"], len(s["hidden"]))
    # A gradient that is 0 in exact arithmetic (b before batch norm) is a sum of the model's larger terms:
    # its rounding scales with the model's gradients, not with itself.
    top = max(float(np.max(np.abs(v))) for k, v in answer.items() if k.startswith("grad."))
    key, message = _compare_answer(unit, case, arrays, answer, noise, _unit_keys(unit, answer, case),
                                   floor=GRADING["float64"].scale * top)
    if key is None:
        return None, "", None
    if key in arrays and np.shape(arrays[key]) != np.shape(answer[key]) and key.startswith("grad.") \
            and np.size(arrays[key]) == np.size(answer[key]) and key[5:].startswith(("gamma", "beta")):
        return key, message, "gamma_grad_keepdims"
    return key, message, bugs.diagnose(unit, case, arrays, key, answer, masks=masks)


def _judge(unit, unit_cases, events, run, fixed, limits):
    """One Unit from its cases' events."""
    for case in unit_cases:
        event = events.get(case.id)
        if event is None:
            ending = run.ending or "crashed"
            status = "timeout" if ending == "timeout" else "crash"
            how = {"timeout": f"killed after the {limits.timeout_s:g} s time limit"}.get(
                ending, f"the process ended ({ending}, status {run.returncode}) before this unit ran")
            return Unit(unit, SECTION_OF[unit], status, message=how)
        if event.get("skipped"):
            return Unit(unit, SECTION_OF[unit], "timeout", message=str(event["skipped"]))
        flood = event.get("output_bytes")
        if isinstance(flood, int) and flood > limits.output_cap:
            return Unit(unit, SECTION_OF[unit], "crash", message=f"{case.id}: printed {flood} bytes during this "
                        f"case, past the {limits.output_cap}-byte output limit (a print left in a loop?)")
        errors = _errors(event)
        if unit in errors:
            return _error_unit(unit, errors[unit])
        try:
            arrays = arrays_of(event)
        except ValueError as e:
            return Unit(unit, SECTION_OF[unit], "crash", message=f"results unreadable: {e}")
        if case.group == "dropout":
            bug, message = (dropout.forward if unit == "dropout_forward" else dropout.backward)(arrays, case)
            if message:
                return _failed(unit, bug, f"{case.id}: {message}")
            continue
        if case.group == "model":
            key, message, bug = _model_check(unit, case, arrays)
            if key:
                return _failed(unit, bug, message)
            continue
        answer, noise = fixed[case.id]
        keys = _unit_keys(unit, answer, case)
        key, message = _compare_answer(unit, case, arrays, answer, noise, keys)
        if key:
            return _failed(unit, bugs.diagnose(unit, case, arrays, key, answer), message)
    return Unit(unit, SECTION_OF[unit], "pass")


def _failed(unit, bug, message):
    what, fix = bugs.WORDS.get(bug, ("", ""))
    return Unit(unit, SECTION_OF[unit], "fail", bug, message + (f"\n{what}" if what else ""), fix)


def _can_fork_here():
    """Whether the child may fork from this process: one thread, and no torch op run yet (its thread pools
    do not survive a fork), neither this pack's answers nor the homework's."""
    from mlp_ref.packs.dlsp_hw1 import grade as homework

    return threading.active_count() == 1 and _fixed.cache_info().currsize == 0 and not homework.answers_ready()


def grade(path, *, limits=sandbox.Limits(), seed=0, variant=None, only=None, from_parent=None):
    """The PackReport of the submission at `path` (a folder holding cs231n/, or a zip of one).

    variant: a name in variants.VARIANTS, or None to detect it; only: grade these units alone.
    from_parent: fork the child from this process (saves starting the fork server, seconds, for a lone
    command-line run) or from the fork server; None: from this process where that is safe.
    """
    t0 = time.perf_counter()
    if from_parent is None:
        from_parent = _can_fork_here()
    units = tuple(u for u in UNITS if only is None or u in only)
    report = PackReport(str(path), "cs231n-a2")
    with submission.unpacked(path) as (root, problem, package):
        report.package = package
        if root is None:
            report.problem = problem or f"no {submission.PACKAGE}/ package found in {path}"
            name, why = (variant, "given") if variant else (variants.DEFAULT, "nothing to detect it from")
            report.variant, report.variant_why = name, why
            report.units = [Unit(u, SECTION_OF[u], "missing", message=report.problem) for u in units]
            report.seconds = time.perf_counter() - t0
            return report
        name, why = (variant, "given with --variant") if variant else variants.detect(root)
        report.variant, report.variant_why = name, why
        v = variants.get(name)
        todo = [c for c in cases.build(seed, v) if set(c.units) & set(units)]
        pending = sandbox.start_child(root, [c.id for c in todo], limits, seed, from_parent=from_parent,
                                      runner=RUNNER, extra={"variant": name})
        fixed = fixed_answers(seed, name)
        run = sandbox.finish(pending)
    report.output_head = run.output_head
    events = {e["case"]: e for e in run.of("case") if isinstance(e.get("case"), str)}
    iface = run.of("interface")
    present = set(iface[0].get("tracked") or ()) if iface else set()
    import_errors = _errors(iface[0]) if iface else {}
    if not iface:
        report.problem = f"the package's process ended before it was imported ({run.ending}, status {run.returncode})"
    for unit in units:
        report.units.append(_unit(unit, v, todo, events, run, fixed, limits, iface, present, import_errors,
                                  report.problem))
    _explain_own(report)
    report.seconds = time.perf_counter() - t0
    return report


def _unit(unit, v, todo, events, run, fixed, limits, iface, present, import_errors, problem):
    function = FUNCTION_OF.get(unit, unit)
    if unit in LAYERNORM and not v.layernorm and (function == "FullyConnectedNet" or function not in present):
        return Unit(unit, SECTION_OF[unit], "n/a", message=f"not in the {v.years} assignment")
    if not iface:
        return Unit(unit, SECTION_OF[unit], "timeout" if run.ending == "timeout" else "crash", message=problem)
    if function != "FullyConnectedNet" and function not in present:
        if MODULE[unit] in import_errors:
            return _error_unit(unit, import_errors[MODULE[unit]])
        if unit in OPTIONAL:
            return Unit(unit, SECTION_OF[unit], "n/a", message="not in this package (in some years' assignments only)")
        return Unit(unit, SECTION_OF[unit], "missing", message=f"{unit} is not defined in cs231n/{MODULE[unit]}.py")
    return _judge(unit, [c for c in todo if unit in c.units], events, run, fixed, limits)


# The layer units each model configuration calls, its own first: a model that fails with the student's
# own layers but passes with the reference's takes the diagnosis of the first of these that fails.
_BASE = ("affine_forward", "affine_backward", "relu_forward", "relu_backward", "softmax_loss")
CONFIG_LAYERS = {"plain": _BASE, "reg": _BASE,
                 "batchnorm": ("batchnorm_forward", "batchnorm_backward", "batchnorm_backward_alt") + _BASE,
                 "layernorm": ("layernorm_forward", "layernorm_backward") + _BASE,
                 "dropout": ("dropout_forward", "dropout_backward") + _BASE}


def _explain_own(report):
    """A model that fails only with the student's own layers: name the failing layer it calls."""
    status = {u.name: u for u in report.units}
    for i, u in enumerate(report.units):
        base = status.get(u.name[: -len(OWN)]) if u.name.endswith(OWN) else None
        if base is not None and u.status in ("fail", "crash", "missing"):
            config = u.name[len("FullyConnectedNet["): u.name.index("]")]
            todo = [n for n in CONFIG_LAYERS[config] if n in status and status[n].status == "missing"]
            if todo:
                # Not wrong yet, only unfinished: say which layers it waits for.
                report.units[i] = Unit(u.name, u.section, "missing",
                                       message=f"needs {', '.join(todo)}, not implemented yet")
                continue
        if base is None or base.status != "pass" or u.status not in ("fail", "crash"):
            continue
        config = u.name[len("FullyConnectedNet["): u.name.index("]")]
        failing = [status[n] for n in CONFIG_LAYERS[config] if n in status and status[n].status in ("fail", "crash")]
        if u.status == "crash" and not any(x.diagnosis for x in failing):
            continue
        # A model that raised because a layer it calls is wrong (a transposed dw no longer adds to W)
        # fails with that layer's diagnosis.
        hint = "passes with the reference layers: the difference is in your layers" + (
            f" ({', '.join(x.name for x in failing)} fail{'s' * (len(failing) == 1)})" if failing else "")
        inherited = next((x for x in failing if x.diagnosis), None)
        bug = u.diagnosis or (inherited.diagnosis if inherited else None)
        report.units[i] = Unit(u.name, u.section, "fail", bug, u.message + "\n" + hint,
                               u.fix or (inherited.fix if inherited and bug == inherited.diagnosis else ""))
