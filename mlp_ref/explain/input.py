"""explain's JSON input: the problem a student types in, checked key by key, and their own numbers.

Required keys x, y, W1, b1, W2, b2, f, g, loss; optional reduction, negative_slope, and `mine`: the
student's hand-derived values (null: not filled yet), keyed by the names explain prints (z1, z2, z3, y_hat, loss; per sample
"dl/dy_hat [n=0]", "dy_hat/dz3 [n=0]", "dz3/dz2 [n=0]", "dz2/dz1 [n=0]", "dl/dz3 [n=0]", "dW2_n [n=0]",
"dl/dz2 [n=0]", "dl/dz1 [n=0]", "dW1_n [n=0]"; db2, dW2, db1, dW1), optionally with rtol and atol.
Each is compared with the derivation in chain order, so the first departure is where the hand
derivation went wrong.
"""
import json
import math
import numbers

import numpy as np

from mlp_ref import functional as fn
from mlp_ref import losses, validate
from mlp_ref.compare import compare
from mlp_ref.explain.derivation import GRADIENTS, Problem, bce_outputs_in_range
from mlp_ref.tolerances import HAND_WORKED as HAND, Tolerance

REQUIRED = ("x", "y", "W1", "b1", "W2", "b2", "f", "g", "loss")
OPTIONAL = ("reduction", "negative_slope", "mine")
FORWARD = ("z1", "z2", "z3", "y_hat", "loss")
PER_SAMPLE = ("dl/dy_hat", "dy_hat/dz3", "dz3/dz2", "dz2/dz1", "dl/dz3", "dW2_n", "dl/dz2", "dl/dz1", "dW1_n")


def numbers_only(key, value):
    """value, if it is a number or nested lists of numbers: JSON's true, "1.0" and null are not numbers
    (NumPy would quietly read them as 1.0, 1.0 and NaN)."""
    stack = [(value, key)]
    while stack:
        v, where = stack.pop()
        if isinstance(v, list):
            stack += [(item, f"{where}[{i}]") for i, item in enumerate(v)]
        elif isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
            raise ValueError(f"{where}: expected a finite number, got {json.dumps(v)[:40] if _jsonable(v) else repr(v)}")
    return value


def _jsonable(v):
    return v is None or isinstance(v, (str, bool, int, float, dict))


def _matrix(key, value, shape, names, one_row=False):
    """value as a float64 array of `shape`. A flat list stands for one row, (1, K), where the shape has
    one row, or may have (one_row: x as a batch of 1, W2 as one output); every other shape is refused."""
    numbers_only(key, value)
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{key}: expected numbers in nested lists of shape {validate._shape_text(shape, names)}, "
                         f"got {str(value)[:60]}") from None
    if arr.ndim == 1 and arr.size and len(shape) == 2 and (shape[0] == 1 or one_row) and shape[1] in (None, arr.size):
        arr = arr[None, :]
    return validate.array(key, arr, shape=shape, dtype="float64", names=names)


def problem_from_dict(data):
    """A Problem from parsed JSON, each key checked: what was expected, what came."""
    if not isinstance(data, dict):
        raise ValueError(f"input: expected a JSON object with keys {list(REQUIRED)}, got {type(data).__name__}")
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise ValueError(f"input: missing key(s) {missing}; expected keys {list(REQUIRED)} and optionally {list(OPTIONAL)}")
    unknown = sorted(set(data) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise ValueError(f"input: unknown key(s) {unknown}; expected keys {list(REQUIRED)} and optionally {list(OPTIONAL)}")
    f = validate.choice("f", data["f"], fn.HIDDEN_ACTIVATIONS)
    g = validate.choice("g", data["g"], fn.OUTPUT_ACTIVATIONS)
    loss = validate.choice("loss", data["loss"], losses.LOSSES)
    reduction = validate.choice("reduction", data.get("reduction", "mean" if loss == "ce" else "sum"), losses.REDUCTIONS)
    if loss == "ce" and g != "softmax":
        raise ValueError(f"loss: 'ce' is cross-entropy on softmax outputs and needs g='softmax', got g={g!r}")
    slope = numbers_only("negative_slope", data.get("negative_slope", 0.01))
    if isinstance(slope, list):
        raise ValueError(f"negative_slope: expected a number, got a list {str(slope)[:40]}")
    x = _matrix("x", data["x"], (None, None), ("N", "D"), one_row=True)
    (n, d) = x.shape
    if n == 0 or d == 0:
        raise ValueError(f"x: expected at least one sample and one feature, got shape {x.shape}")
    W1 = _matrix("W1", data["W1"], (None, d), ("m", "D"))
    m = W1.shape[0]
    b1 = _matrix("b1", data["b1"], (m,), ("m",))
    W2 = _matrix("W2", data["W2"], (None, m), ("K", "m"), one_row=True)
    k = W2.shape[0]
    b2 = _matrix("b2", data["b2"], (k,), ("K",))
    if loss == "ce":
        y = np.array(numbers_only("y", data["y"]))
        if y.dtype.kind == "f" and np.all(y == np.round(y)):
            y = y.astype(np.int64)  # JSON has one number type: 1.0 is accepted as class 1
        validate.class_targets("y", y, n=n, n_classes=k)
    else:
        y = _matrix("y", data["y"], (n, k), ("N", "K"))
        if loss == "bce":
            validate.probabilities("y", y)
    return bce_outputs_in_range(Problem(x, y, W1, b1, W2, b2, f=f, g=g, loss=loss, reduction=reduction,
                                        negative_slope=float(slope)))


def problem_to_dict(problem):
    """The inverse of problem_from_dict: a JSON-ready dict a student can edit."""
    p = problem
    return {"x": p.x.tolist(), "y": p.y.tolist(), "W1": p.W1.tolist(), "b1": p.b1.tolist(), "W2": p.W2.tolist(),
            "b2": p.b2.tolist(), "f": p.f, "g": p.g, "loss": p.loss, "reduction": p.reduction,
            "negative_slope": p.negative_slope}


def chain(d):
    """Every quantity of a Derivation in the order a student derives it: name -> array."""
    return chain_of(d.forward, d.samples, {name: d.gradients[name]["jacobian"] for name in GRADIENTS})


def chain_of(forward, samples, gradients):
    """The chain order of chain() from the parts: forward values, per-sample factors, summed gradients."""
    out = {name: forward[name] for name in FORWARD}
    for n, s in enumerate(samples):
        out.update({f"{q} [n={n}]": s[q] for q in PER_SAMPLE})
    out.update({name: gradients[name] for name in GRADIENTS})
    return out


def stub(problem):
    """The `mine` object --write-input writes: every name a student may fill, each null ("not filled"),
    and rtol/atol null (the hand-worked defaults)."""
    n = problem.x.shape[0]
    names = [*FORWARD, *(f"{q} [n={i}]" for i in range(n) for q in PER_SAMPLE), *GRADIENTS]
    return {**{name: None for name in names}, "rtol": None, "atol": None}


def read_mine(d, mine):
    """(tolerance, {name: array}) of the values a student filled in, in chain order. null is "not
    filled" (the --write-input stub); a flat list of K numbers is read as a (1, K) row where the
    derivation's quantity is one; any other shape is kept as given, for the comparison to report."""
    if not isinstance(mine, dict):
        raise ValueError(f"mine: expected an object of your values keyed by quantity name, got {type(mine).__name__}")
    tol = Tolerance(rtol=_number("mine['rtol']", _given(mine, "rtol", HAND.rtol)),
                    atol=_number("mine['atol']", _given(mine, "atol", HAND.atol)))
    quantities = chain(d)
    unknown = sorted(set(mine) - set(quantities) - {"rtol", "atol"})
    if unknown:
        raise ValueError(f"mine: unknown quantity name(s) {unknown}; expected names from {list(quantities)}")
    values = {}
    for name, expected in quantities.items():
        if mine.get(name) is None:
            continue
        numbers_only(f"mine[{name!r}]", mine[name])
        try:
            yours = np.array(mine[name], dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"mine[{name!r}]: expected numbers of shape {np.shape(expected)}, "
                             f"got {str(mine[name])[:60]}") from None
        values[name] = _row(yours, np.shape(expected))
    return tol, values


def _given(mine, key, default):
    return default if mine.get(key) is None else mine[key]


def _row(value, shape):
    """A flat list of K numbers as the (1, K) row it stands for; anything else unchanged."""
    return value[None, :] if len(shape) == 2 and shape[0] == 1 and value.shape == shape[1:] else value


def compare_mine(d, mine):
    """The student's values against the derivation, in chain order: a list of Comparisons
    (expected = the derivation, which explain has checked against torch). A wrong shape is a
    mismatch reported by the comparison (a transposed dW is the classic slip), not an error."""
    tol, values = read_mine(d, mine)
    return compare_values(d, values, tol)


def compare_values(d, values, tol):
    """compare_mine on values already read by read_mine."""
    quantities = chain(d)
    return [compare(name, yours, np.asarray(quantities[name], dtype=np.float64), tol) for name, yours in values.items()]


def _number(arg, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < math.inf:
        raise ValueError(f"{arg}: expected a number >= 0, got {value!r}")
    return float(value)
