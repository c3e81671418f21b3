"""How CS231n-style update rules (config dicts, a function per rule) map onto mlp_ref.optim's torch
rules, checked numerically on the state buffers and the parameters (docs/parity.md, "CS231n's
update rules"). The CS231n-style rules are written here from their formulas:

    sgd_momentum: v = mu v - lr dw;  w += v                       v = -lr * momentum_buffer (constant lr)
    rmsprop:      cache = d cache + (1 - d) dw^2;  w -= lr dw / (sqrt(cache) + eps)     cache = square_avg, d = alpha
    adam:         t += 1;  m = b1 m + (1 - b1) dw;  v = b2 v + (1 - b2) dw^2           m, v = exp_avg, exp_avg_sq
                  w -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)

Each mapping has a negative control: the same check on a departure it must catch."""
import numpy as np
import pytest

from mlp_ref import optim
from mlp_ref.compare import compare
from mlp_ref.tolerances import tolerance

TOL = tolerance("float64")
SHAPES = {"W1": (6, 4), "b1": (6,), "W2": (3, 6)}


def sgd_momentum(w, dw, config):
    v = config["momentum"] * config.get("velocity", np.zeros_like(w)) - config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config


def rmsprop(w, dw, config):
    d = config["decay_rate"]
    config["cache"] = d * config.get("cache", np.zeros_like(w)) + (1 - d) * dw ** 2
    return w - config["learning_rate"] * dw / (np.sqrt(config["cache"]) + config["epsilon"]), config


def adam(w, dw, config, eps_on_uncorrected=False):
    """eps_on_uncorrected: Kingma and Ba's "efficient" ordering, eps added to sqrt(v) before the
    correction (a departure from torch and from CS231n, for the negative control)."""
    b1, b2, eps = config["beta1"], config["beta2"], config["epsilon"]
    config["t"] = t = config.get("t", 0) + 1
    config["m"] = m = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * dw
    config["v"] = v = b2 * config.get("v", np.zeros_like(w)) + (1 - b2) * dw ** 2
    if eps_on_uncorrected:
        return w - config["learning_rate"] * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (np.sqrt(v) + eps), config
    return w - config["learning_rate"] * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps), config


def run(opt_name, opt_kwargs, rule, mapping, steps=20, scale=1.0, lr_at=None):
    """Both rules on the same parameters and grads; the first (step, quantity) outside parity's
    float64 tolerance (or None), and the worst |error| / allowance seen. mapping: (the CS231n
    config, pairs(config, state, hyper) -> [(name, ours, CS231n's)] that must agree per parameter).
    lr_at: a schedule (step -> lr) applied to both sides, torch-style by editing hyper."""
    rng = np.random.default_rng(0)
    params = {k: rng.standard_normal(s) for k, s in SHAPES.items()}
    theirs = {k: p.copy() for k, p in params.items()}
    first, pairs = mapping
    configs = {k: dict(first) for k in params}
    opt = getattr(optim, opt_name)(params, **opt_kwargs)
    worst = 0.0
    for t in range(1, steps + 1):
        grads = {k: scale * rng.standard_normal(s) for k, s in SHAPES.items()}
        if lr_at is not None:
            opt.hyper["lr"] = lr_at(t)
            for c in configs.values():
                c["learning_rate"] = lr_at(t)
        opt.step(grads)
        for k in params:
            theirs[k], configs[k] = rule(theirs[k], grads[k], configs[k])
            for name, mine, expected in pairs(configs[k], opt.state[k], opt.hyper) + [("w", params[k], theirs[k])]:
                c = compare(f"{name}[{k}]", mine, expected, TOL)
                worst = max(worst, c.headroom)
                if not c.ok:
                    return (t, c.name), worst
    return None, worst


MOMENTUM = (dict(learning_rate=0.05, momentum=0.9),
            lambda config, state, hyper: [("velocity", -hyper["lr"] * state["momentum_buffer"], config["velocity"])])
RMSPROP = (dict(learning_rate=0.01, decay_rate=0.99, epsilon=1e-8),
           lambda config, state, hyper: [("cache", state["square_avg"], config["cache"])])
ADAM = (dict(learning_rate=0.01, beta1=0.9, beta2=0.999, epsilon=1e-8),
        lambda config, state, hyper: [("m", state["exp_avg"], config["m"]), ("v", state["exp_avg_sq"], config["v"])])


def test_sgd_momentum_velocity_is_minus_lr_times_torchs_buffer_at_a_constant_lr():
    assert run("SGD", dict(lr=0.05, momentum=0.9), sgd_momentum, MOMENTUM)[0] is None


def test_the_velocity_mapping_breaks_when_lr_changes_mid_run():
    """Negative control: torch's buffer carries no lr, CS231n's velocity carries the old one."""
    failure, _ = run("SGD", dict(lr=0.05, momentum=0.9), sgd_momentum, MOMENTUM,
                     lr_at=lambda t: 0.05 if t < 5 else 0.01)
    assert failure == (5, "velocity[W1]")


def test_rmsprop_cache_is_torchs_square_avg_with_alpha_the_decay_rate():
    assert run("RMSprop", dict(lr=0.01, alpha=0.99), rmsprop, RMSPROP)[0] is None


def test_rmsprop_with_another_decay_rate_is_caught():
    assert run("RMSprop", dict(lr=0.01, alpha=0.9), rmsprop, RMSPROP)[0] == (1, "cache[W1]")


@pytest.mark.parametrize("scale", [1.0, 1e-8])
def test_adam_m_v_are_exp_avg_exp_avg_sq_and_the_steps_agree_to_rounding(scale):
    """The same formula (eps after the corrected square root in both), arranged differently by
    torch: lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps). Over 20 steps the two stay within
    a small fraction of parity's float64 tolerance, also with gradients as small as eps."""
    failure, worst = run("Adam", dict(lr=0.01), adam, ADAM, scale=scale)
    assert failure is None and worst < 0.05


@pytest.mark.parametrize("scale", [1.0, 1e-8])
def test_adam_with_eps_on_the_uncorrected_sqrt_is_caught_at_step_1(scale):
    """Negative control: Kingma and Ba's efficient ordering is eps / sqrt(1 - b2^t) in torch's
    terms (eps 32x larger at step 1): with unit gradients it moves a step by ~3e-7 relative, past
    float64's tolerance; with gradients ~eps it changes the step itself."""
    def efficient(w, dw, config):
        return adam(w, dw, config, eps_on_uncorrected=True)
    assert run("Adam", dict(lr=0.01), efficient, ADAM, scale=scale)[0] == (1, "w[W1]")
