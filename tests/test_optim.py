"""mlp_ref.optim's contract beyond the rule itself (the rules are matched against torch in
test_optim_parity): torch's defaults, torch's refusals named by argument, inspectable state that
lives in one array per buffer, and a state_dict that round-trips."""
import numpy as np
import pytest
import torch

from mlp_ref import MLP, optim

D, H, K, N = 4, 6, 3, 5


def batch(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((N, D)), rng.standard_normal((N, K))


def train(net, opt, steps, seed=0):
    for i in range(steps):
        x, y = batch(seed + i)
        net.loss(net.forward(x), y)
        opt.zero_grad()
        net.backward()
        opt.step()


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop"])
def test_the_defaults_are_torchs(name):
    ours = getattr(optim, name)(MLP(D, H, K)).hyper
    theirs = getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)]).defaults
    assert ours == {k: tuple(theirs[k]) if k == "betas" else theirs[k] for k in ours}


def test_plain_sgd_is_the_models_own_step():
    a, b = MLP(D, [H, 5], K, seed=1), MLP(D, [H, 5], K, seed=1)
    train(a, optim.SGD(a, lr=0.1), 3)
    for i in range(3):
        x, y = batch(i)
        b.loss(b.forward(x), y)
        b.zero_grad()
        b.backward()
        b.step(0.1)
    for k in a.param_names:
        np.testing.assert_array_equal(a.params[k], b.params[k])


def test_zero_grad_is_the_models():
    net = MLP(D, H, K)
    x, y = batch()
    net.loss(net.forward(x), y)
    net.backward()
    optim.Adam(net).zero_grad()
    assert not any(g.any() for g in net.grads.values())


# torch refuses each of these with a ValueError; so do we, naming the argument first.
REFUSED = [("SGD", dict(lr=-0.1), "lr"), ("SGD", dict(momentum=-0.5), "momentum"),
           ("SGD", dict(weight_decay=-1e-3), "weight_decay"), ("SGD", dict(nesterov=True), "nesterov"),
           ("SGD", dict(momentum=0.9, dampening=0.1, nesterov=True), "nesterov"),
           ("Adam", dict(lr=-1e-3), "lr"), ("Adam", dict(eps=-1e-8), "eps"),
           ("Adam", dict(betas=(1.0, 0.999)), "betas[0]"), ("Adam", dict(betas=(-0.1, 0.999)), "betas[0]"),
           ("Adam", dict(betas=(0.9, 1.0)), "betas[1]"), ("Adam", dict(weight_decay=-0.1), "weight_decay"),
           ("AdamW", dict(betas=(0.9, 1.5)), "betas[1]"), ("AdamW", dict(weight_decay=-0.1), "weight_decay"),
           ("RMSprop", dict(lr=-0.01), "lr"), ("RMSprop", dict(alpha=-0.5), "alpha"),
           ("RMSprop", dict(eps=-1.0), "eps"), ("RMSprop", dict(momentum=-0.9), "momentum"),
           ("RMSprop", dict(weight_decay=-0.9), "weight_decay")]


@pytest.mark.parametrize("name, kwargs, arg", REFUSED)
def test_bad_arguments_are_refused_as_torch_refuses_them_and_named(name, kwargs, arg):
    with pytest.raises(ValueError):
        getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)], **kwargs)
    with pytest.raises(ValueError) as e:
        getattr(optim, name)(MLP(D, H, K), **kwargs)
    assert str(e.value).startswith(f"{arg}: "), str(e.value)


@pytest.mark.parametrize("kwargs, message", [(dict(lr="0.1"), "lr: expected a real number, got str"),
                                             (dict(lr=float("nan")), "lr: expected a finite number >= 0, got nan"),
                                             (dict(amsgrad=1), "amsgrad: expected True or False, got int"),
                                             (dict(betas=0.9), "betas: expected a pair (beta1, beta2), got 0.9")])
def test_wrong_types_are_named_too(kwargs, message):
    with pytest.raises((TypeError, ValueError), match=message.replace("(", r"\(").replace(")", r"\)")):
        optim.Adam(MLP(D, H, K), **kwargs)


def test_the_state_is_keyed_as_torchs_and_lives_in_one_array_per_buffer():
    net = MLP(D, [H, 5], K)
    opt = optim.Adam(net, amsgrad=True)
    assert opt.state == {}, "torch creates state at the first step"
    train(net, opt, 2)
    assert set(opt.state) == set(net.param_names)
    s = opt.state["W2"]
    assert s["step"] == 2 and set(s) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    assert s["exp_avg"].shape == net.params["W2"].shape and s["exp_avg"].dtype == np.float64
    # Views of one contiguous buffer: the update is one pass over the model, not one per tensor.
    first, last = opt.state["W1"]["exp_avg"], opt.state["b3"]["exp_avg"]
    assert first.base is not None and first.base is last.base and first.base.size == sum(
        p.size for p in net.params.values())
    before = s["exp_avg"].copy()
    train(net, opt, 1, seed=5)
    assert not np.array_equal(opt.state["W2"]["exp_avg"], before)


@pytest.mark.parametrize("make", [lambda n: optim.SGD(n, lr=0.05, momentum=0.9, nesterov=True),
                                  lambda n: optim.Adam(n, amsgrad=True, weight_decay=0.1),
                                  lambda n: optim.AdamW(n), lambda n: optim.RMSprop(n, centered=True, momentum=0.5)])
def test_state_dict_round_trips(make):
    net = MLP(D, [H, 5], K, seed=2)
    opt = make(net)
    train(net, opt, 4)
    saved, params = opt.state_dict(), {k: v.copy() for k, v in net.params.items()}
    train(net, opt, 3, seed=10)
    resumed = MLP(D, [H, 5], K, seed=7).set_params(params)
    other = make(resumed)
    other.load_state_dict(saved)
    for s in saved["state"].values():  # loading copies: the dict may change afterwards
        for v in s.values():
            if isinstance(v, np.ndarray):
                v += 1.0
    train(resumed, other, 3, seed=10)
    for k in net.param_names:
        np.testing.assert_array_equal(resumed.params[k], net.params[k])
    assert other.state_dict()["hyper"] == opt.state_dict()["hyper"]


def test_a_state_dict_of_the_wrong_shape_is_refused_by_name():
    a, b = MLP(D, H, K), MLP(D, H + 1, K)
    opt = optim.Adam(a)
    train(a, opt, 1)
    with pytest.raises(ValueError, match=r"state_dict\['state'\]\['W1'\]\['exp_avg'\]: expected a float array of shape \(7, 4\)"):
        optim.Adam(b).load_state_dict(opt.state_dict())
    with pytest.raises(ValueError, match=r"state_dict\['hyper'\]: expected the keys .* of SGD"):
        optim.SGD(MLP(D, H, K), momentum=0.9).load_state_dict(opt.state_dict())
    adam_state = opt.state_dict()
    adam_state["hyper"] = optim.RMSprop(MLP(D, H, K)).hyper
    with pytest.raises(ValueError, match=r"'exp_avg' is not a buffer of RMSprop"):
        optim.RMSprop(MLP(D, H, K)).load_state_dict(adam_state)


@pytest.mark.parametrize("nesterov", [False, True])
def test_cs231n_momentum_takes_the_same_steps_at_a_constant_lr(nesterov):
    """The docstring's claim: lr inside a velocity from 0 (CS231n) or outside a buffer that starts
    as g (torch) give the same steps while lr is constant and dampening 0."""
    a, b = MLP(D, [H, 5], K, seed=4), MLP(D, [H, 5], K, seed=4)
    opt = optim.SGD(a, lr=0.05, momentum=0.9, nesterov=nesterov)
    v = {k: np.zeros_like(p) for k, p in b.params.items()}
    for i in range(10):
        train(a, opt, 1, seed=i)
        x, y = batch(i)
        b.loss(b.forward(x), y)
        b.zero_grad()
        b.backward()
        for k, p in b.params.items():
            v_prev = v[k].copy()
            v[k] = 0.9 * v[k] - 0.05 * b.grads[k]
            p += -0.9 * v_prev + 1.9 * v[k] if nesterov else v[k]
    for k in a.param_names:
        np.testing.assert_allclose(a.params[k], b.params[k], rtol=1e-12, atol=1e-14)
