"""Negative controls for parity on batch norm, layer norm and dropout: each planted mistake (the ones
students and textbooks make) is caught at step 1, at the quantity where it is born."""
import numpy as np
import pytest

from mlp_ref import functional, hidden
from mlp_ref.functional import NormCache
from mlp_ref.parity import ParityConfig, run_parity

HIDDEN = [7, 6]


def first_failure(**kwargs):
    config = ParityConfig(n_hidden=HIDDEN, steps=3, f="tanh", **kwargs)
    report = run_parity(config)
    assert not report.ok, "the planted mistake went unnoticed"
    step, c, before = report.first_failure()
    return step, c.name, before


def _batchnorm(z, gamma, beta, eps=1e-5, *, ddof=0, eps_outside=False):
    mean = z.mean(axis=0)
    var = z.var(axis=0, ddof=ddof)
    inv_std = 1 / (np.sqrt(var) + eps) if eps_outside else 1 / np.sqrt(var + eps)
    z_hat = (z - mean) * inv_std
    return z_hat * gamma + beta, NormCache(z_hat, inv_std, gamma, mean, z.var(axis=0))


def test_normalizing_with_the_unbiased_variance_is_caught_at_the_norms_output(monkeypatch):
    monkeypatch.setattr(functional, "batchnorm_forward", lambda z, g, b, eps=1e-5: _batchnorm(z, g, b, eps, ddof=1))
    assert first_failure(norm="batch")[:2] == (1, "zn1")


def test_eps_outside_the_square_root_is_caught_at_the_norms_output(monkeypatch):
    monkeypatch.setattr(functional, "batchnorm_forward",
                        lambda z, g, b, eps=1e-5: _batchnorm(z, g, b, eps, eps_outside=True))
    assert first_failure(norm="batch")[:2] == (1, "zn1")


def _running(update):
    def planted(net, l, cache, n):
        rm, rv = net._running[l - 1]
        update(net.norm_momentum, rm, rv, cache, n)
    return planted


def test_the_running_variance_stored_biased_is_caught_at_running_var(monkeypatch):
    def biased(m, rm, rv, cache, n):
        rm[...] = (1 - m) * rm + m * cache.mean
        rv[...] = (1 - m) * rv + m * cache.var
    monkeypatch.setattr(hidden, "_update_running", _running(biased))
    step, name, before = first_failure(norm="batch")
    assert (step, name) == (1, "running_var1") and "running_mean1" in before and "zn1" in before


def test_momentum_the_wrong_way_round_is_caught_at_running_mean(monkeypatch):
    """momentum 0.1 in torch keeps 0.9 of the old value; planted: keeps 0.1 (Keras's convention)."""
    def keras(m, rm, rv, cache, n):
        rm[...] = m * rm + (1 - m) * cache.mean
        rv[...] = m * rv + (1 - m) * cache.var * n / (n - 1)
    monkeypatch.setattr(hidden, "_update_running", _running(keras))
    assert first_failure(norm="batch")[:2] == (1, "running_mean1")


def test_layer_norm_over_the_batch_axis_is_caught_at_the_norms_output(monkeypatch):
    monkeypatch.setattr(functional, "layernorm_forward", functional.batchnorm_forward)
    monkeypatch.setattr(functional, "layernorm_backward", functional.batchnorm_backward)
    assert first_failure(norm="layer")[:2] == (1, "zn1")


def test_dropout_not_inverted_is_caught_at_h(monkeypatch):
    monkeypatch.setattr(functional, "dropout_forward",
                        lambda h, mask, p: (h * mask, functional.DropoutCache(mask.astype(h.dtype))))
    step, name, before = first_failure(dropout=0.3)
    assert (step, name) == (1, "h1") and "a1" in before


def test_dropout_scaled_in_eval_is_caught_at_the_eval_forward(monkeypatch):
    """The non-inverted convention scales by 1 - p at test time; inverted dropout's eval is the identity."""
    good = hidden.forward

    def scaled_in_eval(net, l, z, entries):
        out = good(net, l, z, entries)
        if not net.training:
            out[-1] = out[-1] * (1 - net.dropout)
        return out

    monkeypatch.setattr(hidden, "forward", scaled_in_eval)
    step, name, before = first_failure(dropout=0.3)
    assert (step, name) == (1, "eval:h1") and "dW1" in before and "eval:a1" in before


def test_a_new_mask_in_backward_is_caught_at_da(monkeypatch):
    rng = np.random.default_rng(5)

    def fresh_mask(dout, cache):
        return dout * (rng.random(dout.shape) >= 0.3) / 0.7

    monkeypatch.setattr(functional, "dropout_backward", fresh_mask)
    step, name, before = first_failure(dropout=0.3)
    assert (step, name) == (1, "da2") and "dh2" in before


@pytest.mark.parametrize("norm", ["batch", "layer"])
def test_gammas_gradient_not_summed_over_the_batch_is_caught_at_dgamma(monkeypatch, norm):
    name = f"{norm}norm_backward"
    good = getattr(functional, name)

    def one_row(dout, cache):
        dz, _, dbeta = good(dout, cache)
        return dz, (dout * cache.z_hat)[0], dbeta

    monkeypatch.setattr(functional, name, one_row)
    step, failed, before = first_failure(norm=norm)
    assert (step, failed) == (1, "dgamma2") and "dz1" in before and "db2" in before
