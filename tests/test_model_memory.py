"""The tuned reference's memory rules (mlp_ref/_packed.py and the MLP docstring): params and grads live in
one array each, entries assigned from outside are copied in, and nothing handed out is reused."""
import numpy as np
import pytest

from mlp_ref import MLP
from mlp_ref.model import PARAM_NAMES

D, H, K = 4, 5, 3


def batch(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, D)), rng.standard_normal((n, K))


def train_step(net, x, y, lr=0.1):
    value = net.loss(net.forward(x), y)
    net.zero_grad()
    inter = net.backward()
    net.step(lr)
    return value, inter


def test_assigned_params_are_copied_in_and_trained():
    net, ref = MLP(D, H, K, seed=1), MLP(D, H, K, seed=2)
    assigned = {k: ref.params[k].copy() for k in PARAM_NAMES}
    W1 = assigned["W1"]
    for k in PARAM_NAMES:
        net.params[k] = assigned[k]
    x, y = batch(6)
    for _ in range(3):
        train_step(net, x, y)
        train_step(ref, x, y)
    for k in PARAM_NAMES:
        np.testing.assert_array_equal(net.params[k], ref.params[k])
    # The assigned array gave its values and was let go: it is not updated behind the user's back.
    np.testing.assert_array_equal(W1, MLP(D, H, K, seed=2).params["W1"])


def test_an_assigned_non_finite_parameter_is_named_by_forward():
    net = MLP(D, H, K)
    W2 = net.params["W2"].copy()
    W2[1, 2] = np.nan
    net.params["W2"] = W2
    with pytest.raises(ValueError, match=r"params\['W2'\].*nan at index \(1, 2\)"):
        net.forward(batch(2)[0])


def test_a_non_finite_parameter_written_in_place_is_named_by_forward():
    net = MLP(D, H, K)
    net.params["b1"][3] = np.inf
    with pytest.raises(ValueError, match=r"params\['b1'\].*inf at index \(3,\)"):
        net.forward(batch(2)[0])


def test_assigned_grads_are_zeroed_and_accumulated_into():
    net = MLP(D, H, K)
    net.grads["W1"] = np.ones((H, D))
    net.zero_grad()
    assert not any(g.any() for g in net.grads.values())
    x, y = batch(4)
    net.loss(net.forward(x), y)
    net.grads["b2"] = np.full(K, 2.0)
    inter = net.backward()
    np.testing.assert_allclose(net.grads["b2"], 2.0 + inter["dz2"].sum(axis=0), rtol=1e-15)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_arrays_handed_out_are_never_overwritten_by_later_calls(dtype):
    net = MLP(D, H, K, dtype=dtype)
    (x1, y1), (x2, y2) = batch(6, seed=1), batch(9, seed=2)
    y_hat1 = net.forward(x1.astype(dtype))
    cache1 = [a.copy() for a in net.cache[:5]]
    kept_cache = net.cache
    _, inter1 = (net.loss(y_hat1, y1.astype(dtype)), net.backward())
    saved = {k: v.copy() for k, v in inter1.items()}
    saved_y_hat = y_hat1.copy()
    train_step(net, x2.astype(dtype), y2.astype(dtype))  # a different batch size, too
    train_step(net, x1.astype(dtype), y1.astype(dtype))
    np.testing.assert_array_equal(y_hat1, saved_y_hat)
    for a, b in zip(kept_cache[:5], cache1):
        np.testing.assert_array_equal(a, b)
    for k, v in inter1.items():
        np.testing.assert_array_equal(v, saved[k])


def test_the_overwrite_check_catches_a_model_that_reuses_its_output_buffer():
    """Negative control: a forward that writes every call into one buffer must fail the check above."""
    class ReusesOutput(MLP):
        def forward(self, x):
            y_hat = super().forward(x)
            if not hasattr(self, "_out") or self._out.shape != y_hat.shape:
                self._out = np.empty_like(y_hat)
            self._out[...] = y_hat
            return self._out

    net = ReusesOutput(D, H, K)
    y_hat1 = net.forward(batch(6, seed=1)[0])
    saved = y_hat1.copy()
    net.forward(batch(6, seed=2)[0])
    assert not np.array_equal(y_hat1, saved)


def test_a_change_of_batch_size_gives_what_a_fresh_model_gives():
    net = MLP(D, H, K, seed=3)
    for n in (5, 1, 8):
        train_step(net, *batch(n, seed=n))
    fresh = MLP(D, H, K, seed=3)
    for n in (5, 1, 8):
        x, y = batch(n, seed=n)
        value = fresh.loss(fresh.forward(x), y)
        fresh.zero_grad()
        fresh.backward()
        for k in PARAM_NAMES:  # the textbook update, one array at a time
            fresh.params[k] = fresh.params[k] - 0.1 * fresh.grads[k]
        assert np.isfinite(value)
    for k in PARAM_NAMES:
        np.testing.assert_allclose(net.params[k], fresh.params[k], rtol=1e-14, atol=1e-15)


def test_a_deep_models_assigned_params_are_copied_in_and_its_outputs_never_reused():
    net, ref = MLP(D, [5, 6, 4], K, seed=1), MLP(D, [5, 6, 4], K, seed=2)
    for k in ref.param_names:
        net.params[k] = ref.params[k].copy()
    x, y = batch(6)
    y_hat = net.forward(x)
    kept = y_hat.copy()
    _, inter = train_step(net, x, y)
    saved = {k: v.copy() for k, v in inter.items()}
    train_step(ref, x, y)
    train_step(net, *batch(3, seed=4))
    train_step(ref, *batch(3, seed=4))
    for k in ref.param_names:
        np.testing.assert_array_equal(net.params[k], ref.params[k])
    np.testing.assert_array_equal(y_hat, kept)
    for k, v in inter.items():
        np.testing.assert_array_equal(v, saved[k])
