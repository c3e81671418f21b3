"""state_dict() and load_state_dict(): torch's buffer names and step, save -> load -> save the
identity for every optimizer at step 0 (a loaded state, before any step) and after steps, on an MLP
and on a dict of arrays; a state loaded before the first step takes the MLP's step exactly as it
takes a dict's (which tests/test_optim_dict.py matches against torch)."""
import numpy as np
import pytest

from mlp_ref import MLP, optim

D, H, K, N = 4, [6, 5], 3, 5
SETTINGS = [("SGD", dict(lr=0.05, momentum=0.9)), ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
            ("Adam", dict(amsgrad=True)), ("Adam", dict(weight_decay=0.1)), ("AdamW", {}),
            ("RMSprop", dict(centered=True, momentum=0.5)), ("RMSprop", dict(alpha=0.9))]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'plain'}" for n, kw in SETTINGS]
# torch.optim's state per parameter, by option: what a state_dict holds besides "step".
TORCH_KEYS = {"SGD": lambda kw: {"momentum_buffer"} if kw.get("momentum") else set(),
              "Adam": lambda kw: {"exp_avg", "exp_avg_sq"} | ({"max_exp_avg_sq"} if kw.get("amsgrad") else set()),
              "RMSprop": lambda kw: {"square_avg"} | ({"grad_avg"} if kw.get("centered") else set())
              | ({"momentum_buffer"} if kw.get("momentum") else set())}
TORCH_KEYS["AdamW"] = TORCH_KEYS["Adam"]


def parameters(kind, seed=0):
    net = MLP(D, H, K, seed=seed)
    return net if kind == "mlp" else {k: p.copy() for k, p in net.params.items()}


def train(opt, params, steps, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        if isinstance(params, MLP):
            params.loss(params.forward(rng.standard_normal((N, D))), rng.standard_normal((N, K)))
            opt.zero_grad()
            params.backward()
            opt.step()
        else:
            opt.step({k: rng.standard_normal(p.shape) for k, p in params.items()})


def state_at_step_0(opt, names_shapes, seed=3):
    """A state torch could hold before any step: every buffer of TORCH_KEYS, step 0."""
    rng = np.random.default_rng(seed)
    keys = TORCH_KEYS[type(opt).__name__](opt.hyper)
    state = {}
    for k, shape in names_shapes.items():
        s = {b: rng.standard_normal(shape) for b in sorted(keys)}
        for b in ("exp_avg_sq", "max_exp_avg_sq", "square_avg"):
            if b in s:
                s[b] = s[b] ** 2 + 1 + s.get("grad_avg", 0) ** 2
        state[k] = {"step": 0, **s}
    return state


def assert_same(a, b):
    assert a["hyper"] == b["hyper"]
    assert a["state"].keys() == b["state"].keys()
    for name, s in a["state"].items():
        assert s.keys() == b["state"][name].keys(), name
        for key, v in s.items():
            if isinstance(v, np.ndarray):
                assert v.dtype == b["state"][name][key].dtype
                np.testing.assert_array_equal(v, b["state"][name][key], err_msg=f"{key}[{name}]")
            else:
                assert v == b["state"][name][key], f"{key}[{name}]"


@pytest.mark.parametrize("kind", ["mlp", "dict"])
@pytest.mark.parametrize("t", [0, 3])
@pytest.mark.parametrize("name, kwargs", SETTINGS, ids=IDS)
def test_save_load_save_is_the_identity(name, kwargs, t, kind):
    params = parameters(kind)
    opt = getattr(optim, name)(params, **kwargs)
    shapes = {k: p.shape for k, p in (params.params if kind == "mlp" else params).items()}
    if t == 0:
        opt.load_state_dict({"state": state_at_step_0(opt, shapes), "hyper": opt.hyper})
    else:
        train(opt, params, t)
    saved = opt.state_dict()
    assert set(saved["state"]) == set(shapes)
    assert all(set(s) == {"step"} | TORCH_KEYS[name](kwargs) and s["step"] == t for s in saved["state"].values())
    other = getattr(optim, name)(parameters(kind, seed=9), **kwargs)
    other.load_state_dict(saved)
    assert_same(other.state_dict(), saved)
    assert other.steps == t and set(other.state) == set(shapes)
    assert_same(opt.state_dict(), saved)


@pytest.mark.parametrize("kind", ["mlp", "dict"])
@pytest.mark.parametrize("name, kwargs", SETTINGS, ids=IDS)
def test_a_fresh_state_round_trips_empty(name, kwargs, kind):
    opt = getattr(optim, name)(parameters(kind), **kwargs)
    assert opt.state_dict()["state"] == {} and opt.state == {}
    other = getattr(optim, name)(parameters(kind, seed=1), **kwargs)
    other.load_state_dict(opt.state_dict())
    assert other.state == {} and other.steps == 0


@pytest.mark.parametrize("name, kwargs", SETTINGS, ids=IDS)
def test_a_state_loaded_before_step_1_takes_the_mlp_where_it_takes_a_dict(name, kwargs):
    """The MLP's one-buffer path with a loaded state, bit for bit the dict path (matched to torch)."""
    net, arrays = parameters("mlp"), parameters("dict")
    on_net, on_dict = getattr(optim, name)(net, **kwargs), getattr(optim, name)(arrays, **kwargs)
    state = state_at_step_0(on_net, {k: p.shape for k, p in arrays.items()})
    for opt in (on_net, on_dict):
        opt.load_state_dict({"state": state, "hyper": opt.hyper})
    rng = np.random.default_rng(2)
    for _ in range(3):
        net.loss(net.forward(rng.standard_normal((N, D))), rng.standard_normal((N, K)))
        on_net.zero_grad()
        net.backward()
        on_dict.step({k: g.copy() for k, g in net.grads.items()})
        on_net.step()
    fresh = parameters("mlp")
    for k in net.param_names:
        np.testing.assert_array_equal(net.params[k], arrays[k])
        assert not np.array_equal(net.params[k], fresh.params[k])
    assert_same(on_net.state_dict(), on_dict.state_dict())


def test_a_state_dict_with_steps_that_differ_or_a_bad_step_is_refused():
    arrays = parameters("dict")
    opt = optim.Adam(arrays)
    train(opt, arrays, 2)
    saved = opt.state_dict()
    saved["state"]["W1"]["step"] = 5
    with pytest.raises(ValueError, match=r"state_dict\['state'\]: expected one step count t >= 0 shared by every"):
        optim.Adam(parameters("dict")).load_state_dict(saved)
    for name in saved["state"]:
        saved["state"][name]["step"] = -1
    with pytest.raises(ValueError, match=r"expected one step count t >= 0 .* got \[-1\]"):
        optim.Adam(parameters("dict")).load_state_dict(saved)
    saved = opt.state_dict()
    del saved["state"]["b2"]
    with pytest.raises(ValueError, match=r"state_dict\['state'\]: expected the parameters \['W1', .*\] \(or none\)"):
        optim.Adam(parameters("dict")).load_state_dict(saved)
    saved = opt.state_dict()
    saved["state"]["b2"]["exp_avg"] = np.zeros(5, np.int64)
    with pytest.raises(ValueError, match=r"\['b2'\]\['exp_avg'\]: expected a float array of shape \(5,\), got int64"):
        optim.Adam(parameters("dict")).load_state_dict(saved)
