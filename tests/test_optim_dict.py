"""mlp_ref.optim on a dict name -> ndarray: the same rules as on an MLP, matched against torch.optim
step for step (every parameter and state buffer, float64 and float32 at parity's tolerance), arrays
updated in place, bad input refused by name, and a state loaded before the first step used as torch
uses it. Negative controls: a planted Adam without bias correction and an optimizer that drops a
state loaded before step 1 are caught at step 1."""
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from mlp_ref import MLP, optim
from mlp_ref.compare import compare
from mlp_ref.tolerances import tolerance

SHAPES = {"W1": (6, 4), "b1": (6,), "kernel": (2, 3, 2), "scale": ()}
STEPS = 6


def arrays(dtypes, seed=0):
    """Parameters of SHAPES (dtypes: one name, or one per parameter) and STEPS fixed random grads."""
    rng = np.random.default_rng(seed)
    dtypes = dtypes if isinstance(dtypes, dict) else dict.fromkeys(SHAPES, dtypes)
    params = {k: np.asarray(rng.standard_normal(s), dtype=dtypes[k]) for k, s in SHAPES.items()}
    grads = [{k: np.asarray(rng.standard_normal(s), dtype=dtypes[k]) for k, s in SHAPES.items()}
             for _ in range(STEPS)]
    return params, grads


def twin(name, params, kwargs):
    """torch tensors built from copies of the same arrays, and torch.optim's optimizer over them."""
    tensors = {k: torch.tensor(p.copy(), requires_grad=True) for k, p in params.items()}
    return tensors, getattr(torch.optim, name)(list(tensors.values()), **kwargs)


def first_failure(ours, params, tensors, theirs, grads):
    """Both sides step on the same grads; (step, quantity, message) of the first disagreement, each
    step's state buffers compared before its parameters, or None when every step agrees."""
    for t, g in enumerate(grads, start=1):
        ours.step(g)
        for k, tensor in tensors.items():
            tensor.grad = torch.tensor(g[k].copy())
        theirs.step()
        state = ours.state
        for k, tensor in tensors.items():
            torch_state = {b: v.detach().numpy() for b, v in theirs.state[tensor].items()
                           if b != "step" and isinstance(v, torch.Tensor)}
            assert set(state[k]) - {"step"} == set(torch_state), "the buffers are torch's, by name"
            if "step" in theirs.state[tensor]:
                assert state[k]["step"] == int(theirs.state[tensor]["step"]) == ours.steps
            quantities = [(f"{b}[{k}]", state[k][b], v) for b, v in torch_state.items()]
            for name, mine, expected in quantities + [(k, params[k], tensor.detach().numpy())]:
                c = compare(name, mine, expected, tolerance(params[k].dtype))
                if not c.ok:
                    return t, name, c.describe()
    return None


# Each optimizer and its main options (torch's keyword arguments).
SETTINGS = [("SGD", dict(lr=0.1)), ("SGD", dict(lr=0.1, momentum=0.9)),
            ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.05)),
            ("SGD", dict(lr=0.1, momentum=0.8, dampening=0.3)),
            ("Adam", dict(lr=0.01)), ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1, betas=(0.8, 0.99))),
            ("AdamW", dict(lr=0.01)), ("AdamW", dict(lr=0.01, amsgrad=True, weight_decay=0.1, eps=1e-6)),
            ("RMSprop", dict(lr=0.01)), ("RMSprop", dict(lr=0.01, alpha=0.9, weight_decay=0.01)),
            ("RMSprop", dict(lr=0.01, centered=True)), ("RMSprop", dict(lr=0.01, momentum=0.9)),
            ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.01))]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items() if k != 'lr') or 'plain'}" for n, kw in SETTINGS]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name, kwargs", SETTINGS, ids=IDS)
def test_a_dict_of_arrays_steps_as_torch_optim_does(name, kwargs, dtype):
    params, grads = arrays(dtype)
    tensors, theirs = twin(name, params, kwargs)
    assert first_failure(getattr(optim, name)(params, **kwargs), params, tensors, theirs, grads) is None


@pytest.mark.parametrize("name, kwargs", SETTINGS[2::3], ids=IDS[2::3])
def test_mixed_dtypes_keep_their_own_and_match_torch_each_at_its_tolerance(name, kwargs):
    params, grads = arrays({"W1": "float32", "b1": "float64", "kernel": "float64", "scale": "float32"})
    tensors, theirs = twin(name, params, kwargs)
    ours = getattr(optim, name)(params, **kwargs)
    assert first_failure(ours, params, tensors, theirs, grads) is None
    assert {k: p.dtype.name for k, p in params.items()} == {"W1": "float32", "b1": "float64",
                                                            "kernel": "float64", "scale": "float32"}
    assert all(b.dtype == params[k].dtype for k, s in ours.state.items() for b in s.values()
               if isinstance(b, np.ndarray))


def test_the_arrays_are_updated_in_place():
    params, grads = arrays("float64")
    held, before = dict(params), {k: p.copy() for k, p in params.items()}
    optim.Adam(params, lr=0.1).step(grads[0])
    assert all(params[k] is held[k] and not np.array_equal(params[k], before[k]) for k in params)


@pytest.mark.parametrize("name, kwargs", SETTINGS, ids=IDS)
def test_a_dict_of_the_models_arrays_takes_the_models_steps_exactly(name, kwargs):
    """The dict path and the MLP's one-buffer path are the same rule: equal to the last bit."""
    net = MLP(4, [6, 5], 3, seed=3)
    arrays_ = {k: p.copy() for k, p in net.params.items()}
    on_net, on_dict = getattr(optim, name)(net, **kwargs), getattr(optim, name)(arrays_, **kwargs)
    rng = np.random.default_rng(1)
    for _ in range(4):
        net.loss(net.forward(rng.standard_normal((5, 4))), rng.standard_normal((5, 3)))
        on_net.zero_grad()
        net.backward()
        on_dict.step({k: g.copy() for k, g in net.grads.items()})
        on_net.step()
    for k in net.param_names:
        np.testing.assert_array_equal(arrays_[k], net.params[k])
        for b, v in on_net.state[k].items():
            np.testing.assert_array_equal(on_dict.state[k][b], v)


# --- a state loaded before the first step is used as torch uses it -----------------------------------

BUFFERS = {"SGD": (dict(lr=0.1, momentum=0.9, dampening=0.3), ["momentum_buffer"]),
           "Adam": (dict(lr=0.01, amsgrad=True), ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]),
           "AdamW": (dict(lr=0.01), ["exp_avg", "exp_avg_sq"]),
           "RMSprop": (dict(lr=0.01, centered=True, momentum=0.5), ["square_avg", "grad_avg", "momentum_buffer"])}


def loaded_state(name, params, t, seed=7):
    """A random state for every parameter at step t, one torch could have reached: squares where
    torch keeps squares, max_exp_avg_sq >= exp_avg_sq, square_avg > grad_avg^2."""
    rng = np.random.default_rng(seed)
    state = {}
    for k, p in params.items():
        s = {b: rng.standard_normal(p.shape) for b in BUFFERS[name][1]}
        for b in ("exp_avg_sq", "max_exp_avg_sq", "square_avg"):
            if b in s:
                s[b] = s[b] * s[b] + 0.1
        if "max_exp_avg_sq" in s:
            s["max_exp_avg_sq"] = s["max_exp_avg_sq"] + s["exp_avg_sq"]
        if "grad_avg" in s:
            s["square_avg"] = s["square_avg"] + s["grad_avg"] ** 2
        state[k] = {"step": t, **{b: np.asarray(v, p.dtype) for b, v in s.items()}}
    return state


def load_into_torch(theirs, tensors, state, name):
    for k, tensor in tensors.items():
        s = {b: torch.tensor(v.copy()) for b, v in state[k].items() if b != "step"}
        theirs.state[tensor] = s if name == "SGD" else {"step": torch.tensor(float(state[k]["step"])), **s}


class ForgetsAStateLoadedBeforeStep1(optim.SGD):
    """A planted slip: load_state_dict keeps the buffers only of a run that has taken steps."""
    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        if self.steps == 0:
            self._buffers = {}


@pytest.mark.parametrize("t", [0, 3])
@pytest.mark.parametrize("name", list(BUFFERS))
def test_a_loaded_state_is_used_by_the_next_step_as_torch_uses_it(name, t):
    kwargs = BUFFERS[name][0]
    params, grads = arrays("float64")
    state = loaded_state(name, params, t)
    tensors, theirs = twin(name, params, kwargs)
    load_into_torch(theirs, tensors, state, name)
    ours = getattr(optim, name)(params, **kwargs)
    ours.load_state_dict({"state": state, "hyper": ours.hyper})
    assert ours.steps == t and set(ours.state) == set(params)
    assert first_failure(ours, params, tensors, theirs, grads[:3]) is None


def test_sgd_uses_a_loaded_momentum_buffer_instead_of_starting_from_the_gradient():
    """Negative control: torch's SGD starts its buffer at g only when it has none; an optimizer that
    drops a buffer loaded before step 1 starts at g, and the check names the buffer at step 1."""
    kwargs = BUFFERS["SGD"][0]
    params, grads = arrays("float64")
    state = loaded_state("SGD", params, 0)
    tensors, theirs = twin("SGD", params, kwargs)
    load_into_torch(theirs, tensors, state, "SGD")
    wrong = ForgetsAStateLoadedBeforeStep1(params, **kwargs)
    wrong.load_state_dict({"state": state, "hyper": wrong.hyper})
    step, quantity, _ = first_failure(wrong, params, tensors, theirs, grads[:3])
    assert (step, quantity) == (1, "momentum_buffer[W1]")


class AdamWithoutBiasCorrection(optim.Adam):
    """theta <- theta - lr m / (sqrt(v) + eps): m and v agree with torch, the step does not."""
    def update(self, params, grads, work, scaled):
        (b1, b2), h = self.hyper["betas"], self.hyper
        m, v = self.buffer("exp_avg", params), self.buffer("exp_avg_sq", params)
        m[...] = b1 * m + (1 - b1) * grads
        v[...] = b2 * v + (1 - b2) * grads * grads
        params -= h["lr"] * m / (np.sqrt(v) + h["eps"])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_adam_without_bias_correction_is_caught_at_step_1_on_the_parameter(dtype):
    params, grads = arrays(dtype)
    tensors, theirs = twin("Adam", params, dict(lr=0.01))
    step, quantity, message = first_failure(AdamWithoutBiasCorrection(params, lr=0.01), params, tensors,
                                            theirs, grads)
    # The buffers of W1 were compared first and agreed: the corrections scale the step, not m or v.
    assert (step, quantity) == (1, "W1"), message


# --- bad input, refused by name -------------------------------------------------------------------

def good():
    return {"W": np.zeros((3, 2)), "b": np.zeros(3, np.float32)}


def refused_params():
    a = np.zeros((4, 4))
    read_only = np.zeros(3)
    read_only.flags.writeable = False
    return [([np.zeros(3)], TypeError, r"params: expected an mlp_ref MLP or a dict name -> numpy.ndarray, got list"),
            ({}, ValueError, r"params: expected a dict name -> ndarray with at least one array, got an empty dict"),
            ({"W": [[1.0]]}, TypeError, r"params\['W'\]: expected a numpy.ndarray of float32 or float64, got list"),
            ({"W": np.zeros(3, np.int64)}, TypeError, r"params\['W'\]: expected dtype float32 or float64, got int64"),
            ({"W": np.zeros(3, np.float16)}, TypeError,
             r"params\['W'\]: expected dtype float32 or float64, got float16"),
            ({"W": a[:, ::2]}, ValueError, r"params\['W'\]: expected a C-contiguous array"),
            ({"W": a.T}, ValueError, r"params\['W'\]: expected a C-contiguous array"),
            ({"W": read_only}, ValueError, r"params\['W'\]: expected a writeable array .* got a read-only one"),
            ({"W": a[:2], "V": a[1:]}, ValueError, r"params\['V'\]: shares memory with params\['W'\]"),
            ({1: np.zeros(3)}, TypeError, r"params: expected names \(str\) as keys, got int 1")]


@pytest.mark.parametrize("params, error, message", refused_params())
@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop"])
def test_bad_params_are_refused_by_name(name, params, error, message):
    with pytest.raises(error, match=message):
        getattr(optim, name)(params)


@pytest.mark.parametrize("grads, error, message", [
    (None, TypeError, r"grads: expected a dict name -> ndarray keyed like params .* got None"),
    ([np.zeros((3, 2))], TypeError, r"grads: expected a dict name -> ndarray keyed like params, got list"),
    ({"W": np.zeros((3, 2))}, ValueError, r"grads: expected the keys of params \['W', 'b'\]; missing 'b'$"),
    ({"W": np.zeros((3, 2)), "b": np.zeros(3, np.float32), "c": np.zeros(1)}, ValueError,
     r"grads: expected the keys of params \['W', 'b'\]; extra 'c'$"),
    ({"W": np.zeros((3, 2)), "c": np.zeros(1)}, ValueError, r"; missing 'b'; extra 'c'$"),
    ({"W": np.zeros((2, 3)), "b": np.zeros(3, np.float32)}, ValueError,
     r"grads\['W'\]: expected shape \(3, 2\) and dtype float64 \(its parameter's\), got shape \(2, 3\)"),
    ({"W": np.zeros((3, 2)), "b": np.zeros(3)}, ValueError,
     r"grads\['b'\]: expected shape \(3,\) and dtype float32 .* got shape \(3,\) and dtype float64"),
    ({"W": np.zeros((3, 2)), "b": [0.0, 0.0, 0.0]}, TypeError, r"grads\['b'\]: expected a numpy.ndarray, got list"),
])
def test_bad_grads_are_refused_by_name_and_nothing_moves(grads, error, message):
    params = good()
    before = {k: p.copy() for k, p in params.items()}
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    with pytest.raises(error, match=message):
        opt.step(grads)
    assert opt.steps == 0 and opt.state == {}
    assert all(np.array_equal(params[k], before[k]) for k in params)


def test_a_grad_need_not_be_contiguous_or_writeable():
    params, g = good(), np.zeros((2, 3)).T
    g.flags.writeable = False
    optim.SGD(params).step({"W": g, "b": np.ones(3, np.float32)})
    np.testing.assert_array_equal(params["b"], np.full(3, -1e-3, np.float32))


def test_an_array_replaced_in_the_dict_after_building_is_refused():
    params = good()
    opt = optim.Adam(params)
    params["W"] = np.ones((3, 2))
    with pytest.raises(ValueError, match=r"params: the dict was changed after the optimizer was built"):
        opt.step({"W": np.zeros((3, 2)), "b": np.zeros(3, np.float32)})


def test_a_dict_has_no_zero_grad_and_an_mlp_takes_no_grads():
    with pytest.raises(TypeError, match=r"zero_grad: the optimizer was given a dict of arrays"):
        optim.SGD(good()).zero_grad()
    net = MLP(2, 3, 1)
    with pytest.raises(TypeError, match=r"grads: an optimizer over an MLP steps on the model's own net.grads"):
        optim.SGD(net).step({k: np.zeros_like(p) for k, p in net.params.items()})


def test_the_docs_example_runs_and_moves_the_arrays_in_place():
    text = (Path(__file__).resolve().parent.parent / "docs" / "parity.md").read_text()
    block = re.search(r"## Optimizers on any arrays\n.*?```python\n(.*?)```", text, re.S).group(1)
    scope = {}
    exec(compile(block, "docs/parity.md", "exec"), scope)
    params = scope["params"]
    assert params["W"].dtype == np.float64 and params["b"].dtype == np.float32
    # AdamW's first step moves every element by lr against the gradient's sign (m_hat / sqrt(v_hat) = 1).
    np.testing.assert_allclose(params["W"], -1e-3, rtol=1e-6)
    np.testing.assert_allclose(params["b"], -1e-3, rtol=1e-4)
