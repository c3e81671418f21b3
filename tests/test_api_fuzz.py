"""Fuzz the constructor: any argument values end in a model or in a ValueError/TypeError naming the
argument, never another exception and never a large allocation (sizes meet a small memory limit)."""
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mlp_ref import MLP, memory

ANY = st.one_of(st.none(), st.booleans(), st.text(max_size=3), st.floats(allow_nan=True),
                st.integers(-2 ** 70, 2 ** 70), st.integers(10 ** 5, 10 ** 12), st.just(np.int64(3)), st.just([1]),
                st.sampled_from(["relu", "leaky_relu", "sigmoid", "softmax", "bce", "ce", "mean", "float32", "xavier"]))
# A valid model, then up to two arguments replaced by anything: every argument's check is reached.
VALID = st.fixed_dictionaries({
    "n_in": st.integers(1, 4), "n_hidden": st.integers(1, 4), "n_out": st.integers(1, 4),
    "f": st.sampled_from(["relu", "leaky_relu", "sigmoid", "tanh", "identity"]),
    "g": st.sampled_from(["identity", "sigmoid"]), "loss": st.sampled_from(["mse", "bce"]),
    "reduction": st.sampled_from(["sum", "mean"]), "dtype": st.sampled_from(["float64", "float32"]),
    "seed": st.integers(0, 5), "negative_slope": st.floats(-1, 1), "init": st.sampled_from(["torch", "xavier"])})
REFUSED = (ValueError, TypeError)  # memory.TooLarge is a ValueError
ARGS = ("n_in", "n_hidden", "n_out", "f", "g", "loss", "reduction", "dtype", "seed", "negative_slope", "init")


def test_the_constructor_builds_or_names_the_argument():
    outcomes = {"built": 0, "refused": set()}

    @settings(max_examples=200, deadline=None, database=None, derandomize=True)
    @given(base=VALID, bad=st.dictionaries(st.sampled_from(list(ARGS)), ANY, min_size=1, max_size=2))
    def one(base, bad):
        kwargs = {**base, **bad}
        if kwargs["loss"] == "bce" and kwargs["g"] == "identity" and not {"g", "loss"} & set(bad):
            kwargs["g"] = "sigmoid"
        try:
            net = MLP(**kwargs, max_memory=2 ** 26)
        except REFUSED as e:
            named = [a for a in kwargs if str(e).startswith(f"{a}:")]
            assert named or isinstance(e, memory.TooLarge), e
            assert not named or named[0] in bad or named[0] in ("g", "loss"), (e, bad)
            outcomes["refused"].add(named[0] if named else "memory")
            return
        assert all(kwargs[k] == base[k] or _acceptable(k, kwargs[k]) for k in bad), (bad, net)
        y_hat = net.forward(np.zeros((2, net.n_in), dtype=net.dtype))
        assert y_hat.shape == (2, net.n_out) and math.isfinite(float(np.sum(y_hat)))
        outcomes["built"] += 1

    one()
    # Control: the strategy reaches models and refusals of most arguments, not only the first one.
    assert outcomes["built"] >= 10 and len(outcomes["refused"]) >= 9, outcomes


def _acceptable(name, value):
    """Values the fuzz may draw that are legitimately accepted (a valid name or number by chance)."""
    if name == "n_hidden" and isinstance(value, list):  # hidden widths of a deep model
        return bool(value) and all(_acceptable("n_in", h) for h in value)
    if name in ("n_in", "n_hidden", "n_out", "seed"):
        return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= (name == "seed") ^ 1
    if name == "negative_slope":
        return isinstance(value, (int, float, np.integer)) and not isinstance(value, bool) and math.isfinite(value)
    return isinstance(value, str)
