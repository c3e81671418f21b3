"""A batch's shape and dtype are checked once per new shape (mlp_ref/seen.py), its values at every call,
and what a user holds from an earlier step keeps its documented meaning."""
import numpy as np
import pytest

from mlp_ref import MLP
from mlp_ref.seen import SeenShapes

D, H, K = 4, 5, 3


def batch(n, seed=0, dtype="float64"):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, D)).astype(dtype), rng.standard_normal((n, K)).astype(dtype)


def step(net, x, y, lr=0.1):
    value = net.loss(net.forward(x), y)
    net.zero_grad()
    inter = net.backward()
    net.step(lr)
    return value, inter


@pytest.mark.parametrize("where", [(0, 0), (2, 3)])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_seen_shape_still_has_its_values_checked(bad, where):
    net = MLP(D, H, K)
    x, y = batch(6)
    step(net, x, y)  # the shapes are now known
    x_bad = x.copy()
    x_bad[where] = bad
    with pytest.raises(ValueError, match=rf"x: expected finite values, got {bad} at index \({where[0]}, {where[1]}\)"):
        net.forward(x_bad)
    y_bad = y.copy()
    y_bad[where[0], where[1] % K] = bad
    net.forward(x)
    with pytest.raises(ValueError, match=r"y: expected finite values"):
        net.loss(net.cache.y_hat, y_bad)


def test_an_overflowing_forward_on_a_seen_shape_is_named_as_y_hat():
    net = MLP(D, H, K, f="identity")
    x, y = batch(6)
    step(net, x, y)
    net.params["W2"][...] = 1e308
    with np.errstate(over="ignore"):
        y_hat = net.forward(x * 1e300)
    with pytest.raises(ValueError, match=r"y_hat: expected finite values"):
        net.loss(y_hat, y)


def test_a_new_shape_or_dtype_after_a_seen_one_is_refused_as_before():
    net = MLP(D, H, K)
    x, y = batch(6)
    step(net, x, y)
    with pytest.raises(ValueError, match=r"x: expected shape \(N, n_in=4\), got \(6, 5\)"):
        net.forward(np.zeros((6, D + 1)))
    with pytest.raises(TypeError, match=r"x: expected dtype float64, got float32"):
        net.forward(x.astype(np.float32))
    with pytest.raises(TypeError, match=r"x: expected a numpy.ndarray"):
        net.forward(x.tolist())
    net.forward(x[:4])
    # y of the earlier batch's size (a shape seen for y before) is wrong for this batch of 4.
    with pytest.raises(ValueError, match=r"y: expected shape \(N=4, n_out=3\), got \(6, 3\)"):
        net.loss(net.cache.y_hat, y)


def test_a_subclass_of_ndarray_is_checked_in_full_every_time():
    class Tagged(np.ndarray):
        pass
    seen, calls = SeenShapes(), []
    x = np.zeros((2, 3)).view(Tagged)
    for _ in range(3):
        seen.array("x", x, shape=(None, 3), dtype="float64", on_new=calls.append)
    assert len(calls) == 3


def test_the_memory_check_runs_once_per_new_shape_and_a_cache_that_skipped_values_would_be_caught():
    calls, seen = [], SeenShapes()
    x = np.zeros((2, 3))
    for _ in range(3):
        seen.array("x", x, shape=(None, 3), dtype="float64", on_new=calls.append)
    seen.array("x", np.zeros((5, 3)), shape=(None, 3), dtype="float64", on_new=calls.append)
    assert [c.shape for c in calls] == [(2, 3), (5, 3)]
    # Negative control: a cache that skipped the finite check on a known shape lets NaN through,
    # which the real one refuses.
    class SkipsValues(SeenShapes):
        def array(self, arg, value, **kw):
            return value if self.known(arg, value, kw["shape"], kw["dtype"]) else super().array(arg, value, **kw)
    lax = SkipsValues()
    lax.array("x", x, shape=(None, 3), dtype="float64")
    nan = np.full((2, 3), np.nan)
    assert lax.array("x", nan, shape=(None, 3), dtype="float64") is nan
    with pytest.raises(ValueError, match="x: expected finite values"):
        seen.array("x", nan, shape=(None, 3), dtype="float64")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_what_a_user_holds_from_last_step(dtype):
    """The cache, backward's dict and y_hat are new at every step: holding them across a step keeps
    last step's values. grads (and params) are views reused in place, like torch's .grad: a held
    grads dict shows this step's gradients, and a copy keeps last step's."""
    net = MLP(D, H, K, dtype=dtype)
    (x1, y1), (x2, y2) = batch(6, 1, dtype), batch(6, 2, dtype)
    _, inter1 = step(net, x1, y1)
    cache1, held_grads = net.cache, net.grads
    saved_cache = {k: np.array(getattr(cache1, k)) for k in net.forward_names}
    saved_inter = {k: v.copy() for k, v in inter1.items()}
    copied_grads = {k: v.copy() for k, v in net.grads.items()}
    _, inter2 = step(net, x2, y2)
    for k in net.forward_names:
        np.testing.assert_array_equal(getattr(cache1, k), saved_cache[k])
        assert not np.shares_memory(getattr(cache1, k), getattr(net.cache, k))
    for k, v in inter1.items():
        np.testing.assert_array_equal(v, saved_inter[k])
        assert not np.shares_memory(v, inter2[k])
    for k in net.param_names:
        assert held_grads[k] is net.grads[k]  # the same views, updated in place
        np.testing.assert_array_equal(held_grads[k], net.grads[k])
        assert not np.array_equal(copied_grads[k], net.grads[k]), f"{k}: the second batch has other gradients"


@pytest.mark.parametrize("how", ["item", "update", "ior"])
def test_an_entry_assigned_any_way_is_copied_in_at_the_next_stage(how):
    # The packed arrays notice an assignment by a count the fixed-key dict keeps; every way of
    # assigning must move it, or the model would train its old values behind the new entry.
    net, ref = MLP(D, H, K, seed=1), MLP(D, H, K, seed=2)
    x, y = batch(6)
    step(net, x, y)  # the stages have looked at the entries once
    W1 = ref.params["W1"].copy()
    {"item": lambda: net.params.__setitem__("W1", W1), "update": lambda: net.params.update(W1=W1),
     "ior": lambda: net.params.__ior__({"W1": W1})}[how]()
    np.testing.assert_array_equal(net.forward(x), MLP(D, H, K, seed=1).set_params(
        {**{k: v.copy() for k, v in net.params.items()}, "W1": W1}).forward(x))
    assert np.shares_memory(net.params["W1"], net.packed()[0]) and net.params["W1"] is not W1


def test_a_new_key_through_ior_is_refused():
    net = MLP(D, H, K)
    with pytest.raises(KeyError, match=r"params: expected one of the keys .* got 'W9' \(the keys are fixed\)"):
        net.params |= {"W9": np.zeros((2, 2))}
