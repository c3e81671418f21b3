"""The parity engine catches a wrong optimizer at the first step where the wrong rule shows, and
names the quantity: each planted rule below is a textbook slip, overriding only the update."""
import numpy as np
import pytest

from mlp_ref import optim
from mlp_ref.parity import ParityConfig, run_parity

HIDDEN = [6, 5]


def textbook_adam(opt, params, g, corrected=True, eps_inside=False):
    """CS231n's adam on flat arrays, with one of two slips available."""
    (b1, b2), t, eps = opt.hyper["betas"], opt.steps, opt.hyper["eps"]
    m, v = opt.buffer("exp_avg", params), opt.buffer("exp_avg_sq", params)
    m[...] = b1 * m + (1 - b1) * g
    v[...] = b2 * v + (1 - b2) * g * g
    m_hat, v_hat = (m / (1 - b1 ** t), v / (1 - b2 ** t)) if corrected else (m, v)
    params -= opt.hyper["lr"] * m_hat / (np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps)


class AdamWithoutBiasCorrection(optim.Adam):
    """theta <- theta - lr m / (sqrt(v) + eps): m and v still agree, the step does not."""
    def update(self, params, grads, work, scaled):
        textbook_adam(self, params, grads, corrected=False)


class AdamEpsInsideTheSqrt(optim.Adam):
    """sqrt(v_hat + eps) in place of sqrt(v_hat) + eps."""
    def update(self, params, grads, work, scaled):
        textbook_adam(self, params, grads, eps_inside=True)


class AdamWCoupledDecay(optim.AdamW):
    """AdamW's decay added to the gradient (Adam's L2), not applied to the weights."""
    def update(self, params, grads, work, scaled):
        textbook_adam(self, params, grads + self.hyper["weight_decay"] * params)


class NesterovAsPlainMomentum(optim.SGD):
    """nesterov=True accepted, then theta <- theta - lr b, as without it."""
    def update(self, params, grads, work, scaled):
        first = self.steps == 1
        buf = self.buffer("momentum_buffer", params, first=grads)
        if not first:
            buf[...] = self.hyper["momentum"] * buf + grads
        params -= self.hyper["lr"] * buf


class MomentumBufferFromZero(optim.SGD):
    """b starts at 0 (b <- momentum b + (1 - dampening) g from the first step), not at g."""
    def update(self, params, grads, work, scaled):
        h = self.hyper
        buf = self.buffer("momentum_buffer", params)
        buf[...] = h["momentum"] * buf + (1 - h["dampening"]) * grads
        params -= h["lr"] * buf


class RMSpropCenteredWithoutTheMean(optim.RMSprop):
    """centered=True keeps grad_avg but divides by sqrt(v) + eps, not sqrt(v - grad_avg^2) + eps."""
    def update(self, params, grads, work, scaled):
        h = self.hyper
        v, a = self.buffer("square_avg", params), self.buffer("grad_avg", params)
        v[...] = h["alpha"] * v + (1 - h["alpha"]) * grads * grads
        a[...] = h["alpha"] * a + (1 - h["alpha"]) * grads
        params -= h["lr"] * grads / (np.sqrt(v) + h["eps"])


def first_failure(config, wrong):
    net = config.model()
    report = run_parity(config, reference=net, optimizer=wrong(net, lr=config.lr, **config.optimizer_kwargs()))
    assert not report.ok, "the parity engine passed a wrong optimizer"
    step, comparison, before = report.first_failure()
    return step, comparison.name, before


@pytest.mark.parametrize("wrong, optim_name, kwargs, expected", [
    (AdamWithoutBiasCorrection, "adam", {}, (1, "W1")),
    (AdamEpsInsideTheSqrt, "adam", {}, (1, "W1")),
    (AdamWCoupledDecay, "adamw", dict(weight_decay=0.1), (1, "exp_avg[W1]")),
    (NesterovAsPlainMomentum, "sgd", dict(momentum=0.9, nesterov=True), (1, "W1")),
    (MomentumBufferFromZero, "sgd", dict(momentum=0.9, dampening=0.5), (1, "momentum_buffer[W1]")),
    (RMSpropCenteredWithoutTheMean, "rmsprop", dict(centered=True), (1, "W1")),
])
def test_a_wrong_rule_is_caught_at_the_first_step_where_it_shows(wrong, optim_name, kwargs, expected):
    config = ParityConfig(n_hidden=HIDDEN, optim=optim_name, lr=0.005, steps=3, **kwargs)
    step, name, before = first_failure(config, wrong)
    assert (step, name) == expected
    assert "dW1" in before, "the gradients agreed: the optimizer is what departed"


def test_adam_without_bias_correction_agrees_on_both_moments_at_step_1():
    """Why its failure is W1, not a buffer: the corrections scale the step, never m or v."""
    config = ParityConfig(n_hidden=HIDDEN, optim="adam", lr=0.005, steps=3)
    _, _, before = first_failure(config, AdamWithoutBiasCorrection)
    assert {f"{b}[{p}]" for b in ("exp_avg", "exp_avg_sq") for p in ("W1", "b1", "W3", "b3")} <= set(before)


def test_a_momentum_buffer_from_zero_is_invisible_without_dampening():
    """Why the control uses dampening: with dampening 0, momentum * 0 + g is exactly g."""
    config = ParityConfig(n_hidden=HIDDEN, optim="sgd", lr=0.005, steps=5, momentum=0.9)
    net = config.model()
    assert run_parity(config, reference=net, optimizer=MomentumBufferFromZero(net, lr=0.005, momentum=0.9)).ok


def test_adamw_coupled_decay_is_invisible_without_decay():
    config = ParityConfig(n_hidden=HIDDEN, optim="adamw", lr=0.005, steps=5, weight_decay=0.0)
    net = config.model()
    assert run_parity(config, reference=net, optimizer=AdamWCoupledDecay(net, lr=0.005, weight_decay=0.0)).ok
