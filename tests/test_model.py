"""The reference model's five stages, each on its own: what forward caches, what loss returns,
that zero_grad zeroes, that backward adds, that step is W <- W - lr dW; dtype kept end to end;
and every gradient against central finite differences, for every activation and loss."""
import numpy as np
import pytest

from mlp_ref import MLP
from mlp_ref.functional import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from mlp_ref.gradcheck import check_model
from mlp_ref.model import PARAM_NAMES

D, H, K, N = 4, 6, 3, 5


def targets(net, rng, n=N):
    if net.loss_name == "ce":
        return rng.integers(0, net.n_out, n)
    return rng.uniform(0, 1, (n, net.n_out)).astype(net.dtype)


def combos():
    """(f, g, loss, reduction) for every pairing that makes sense."""
    out = []
    for f in HIDDEN_ACTIVATIONS:
        for g in OUTPUT_ACTIVATIONS:
            out.append((f, g, "mse", "sum"))
        out += [(f, "sigmoid", "bce", "mean"), (f, "softmax", "ce", "mean")]
    return out


@pytest.mark.parametrize("f, g, loss, reduction", combos())
def test_every_gradient_matches_finite_differences(f, g, loss, reduction):
    rng = np.random.default_rng(11)
    net = MLP(D, H, K, f=f, g=g, loss=loss, reduction=reduction, seed=3, negative_slope=0.2)
    x = rng.standard_normal((N, D))
    result = check_model(net, x, targets(net, rng))
    assert result.kinks == 0, "inputs sit on a ReLU kink: the finite difference is meaningless there"
    for name, c in result.comparisons.items():
        assert c.ok, f"{f}/{g}/{loss}: {name}\n{c.describe('analytic', 'numeric')}"


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_finite_differences_for_bce_and_mean_mse(reduction):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((N, D))
    for loss, g in (("bce", "sigmoid"), ("mse", "identity")):
        net = MLP(D, H, K, f="tanh", g=g, loss=loss, reduction=reduction)
        assert check_model(net, x, targets(net, rng)).ok


def test_finite_difference_check_catches_a_planted_bias_bug():
    """Negative control: a db1 that is only the first row of dz1, not its sum over the batch."""
    class NoBiasSum(MLP):
        def backward(self):
            inter = super().backward()
            self.grads["b1"] += inter["dz1"][0] - inter["dz1"].sum(axis=0)
            return inter

    rng = np.random.default_rng(0)
    net = NoBiasSum(D, H, K, f="tanh")
    result = check_model(net, rng.standard_normal((N, D)), targets(net, rng))
    assert not result.comparisons["b1"].ok
    assert all(result.comparisons[k].ok for k in ("W1", "W2", "b2"))


def test_forward_caches_the_named_intermediates():
    rng = np.random.default_rng(0)
    net = MLP(D, H, K, f="relu", g="sigmoid")
    x = rng.standard_normal((N, D))
    y_hat = net.forward(x)
    c = net.cache
    np.testing.assert_array_equal(c.z1, x @ net.params["W1"].T + net.params["b1"])
    np.testing.assert_array_equal(c.h, np.maximum(c.z1, 0))
    np.testing.assert_array_equal(c.z2, c.h @ net.params["W2"].T + net.params["b2"])
    assert c.y_hat is y_hat and c.x is x
    assert [a.shape for a in (c.z1, c.h, c.z2, y_hat)] == [(N, H), (N, H), (N, K), (N, K)]


def test_loss_returns_a_python_float():
    rng = np.random.default_rng(0)
    net = MLP(D, H, K, dtype="float32")
    y = rng.standard_normal((N, K)).astype("float32")
    value = net.loss(net.forward(rng.standard_normal((N, D)).astype("float32")), y)
    assert type(value) is float
    assert value == pytest.approx(float(((net.cache.y_hat - y) ** 2).sum()), rel=1e-6)


def test_zero_grad_sets_every_buffer_to_exactly_zero():
    rng = np.random.default_rng(0)
    net = MLP(D, H, K)
    net.loss(net.forward(rng.standard_normal((N, D))), rng.standard_normal((N, K)))
    net.backward()
    assert all(np.abs(g).sum() > 0 for g in net.grads.values())
    buffers = {k: id(v) for k, v in net.grads.items()}
    net.zero_grad()
    assert all(np.array_equal(g, np.zeros_like(g)) for g in net.grads.values())
    assert buffers == {k: id(v) for k, v in net.grads.items()}, "zero_grad must zero in place, as torch"


def test_backward_adds_into_the_buffers():
    rng = np.random.default_rng(0)
    net = MLP(D, H, K, f="tanh")
    batches = [(rng.standard_normal((N, D)), rng.standard_normal((N, K))) for _ in range(2)]
    single = []
    for x, y in batches:
        net.loss(net.forward(x), y)
        net.zero_grad()
        net.backward()
        single.append({k: v.copy() for k, v in net.grads.items()})
    net.zero_grad()
    for x, y in batches:
        net.loss(net.forward(x), y)
        net.backward()
    for k in PARAM_NAMES:
        np.testing.assert_allclose(net.grads[k], single[0][k] + single[1][k], rtol=1e-14, atol=1e-15)


def test_step_is_plain_sgd():
    rng = np.random.default_rng(0)
    net = MLP(D, H, K)
    net.loss(net.forward(rng.standard_normal((N, D))), rng.standard_normal((N, K)))
    net.zero_grad()
    net.backward()
    before = {k: v.copy() for k, v in net.params.items()}
    net.step(0.1)
    for k in PARAM_NAMES:
        np.testing.assert_array_equal(net.params[k], before[k] - 0.1 * net.grads[k])


@pytest.mark.parametrize("f, g, loss, reduction", [("relu", "identity", "mse", "sum"), ("tanh", "softmax", "ce", "mean"),
                                                   ("sigmoid", "sigmoid", "bce", "sum")])
def test_float32_is_kept_end_to_end(f, g, loss, reduction):
    rng = np.random.default_rng(0)
    net = MLP(D, H, K, f=f, g=g, loss=loss, reduction=reduction, dtype="float32")
    x = rng.standard_normal((N, D)).astype("float32")
    y_hat = net.forward(x)
    net.loss(y_hat, targets(net, rng))
    net.zero_grad()
    inter = net.backward()
    net.step(0.01)
    arrays = [*net.params.values(), *net.grads.values(), *net.cache[:5],
              *(v for v in inter.values() if v is not None)]
    assert {a.dtype for a in arrays} == {np.dtype("float32")}


def test_float32_model_starts_from_the_rounded_float64_one():
    a, b = MLP(D, H, K, seed=4), MLP(D, H, K, seed=4, dtype="float32")
    for k in PARAM_NAMES:
        np.testing.assert_array_equal(b.params[k], a.params[k].astype("float32"))


def test_init_follows_nn_linear_bounds_and_the_seed():
    net = MLP(200, 50, 3, seed=1)
    assert np.abs(net.params["W1"]).max() <= 1 / np.sqrt(200)
    assert np.abs(net.params["W2"]).max() <= 1 / np.sqrt(50)
    assert np.array_equal(MLP(200, 50, 3, seed=1).params["W1"], net.params["W1"])
    assert not np.array_equal(MLP(200, 50, 3, seed=2).params["W1"], net.params["W1"])
    xavier = MLP(200, 50, 3, init="xavier")
    assert not xavier.params["b1"].any()


def test_set_params_copies_and_owns_its_arrays():
    src = MLP(D, H, K, seed=9)
    net = MLP(D, H, K, seed=0).set_params(src.params)
    for k in PARAM_NAMES:
        np.testing.assert_array_equal(net.params[k], src.params[k])
        assert not np.shares_memory(net.params[k], src.params[k])


def test_forward_and_backward_mutate_no_input():
    rng = np.random.default_rng(0)
    net = MLP(D, H, K, f="relu", g="sigmoid", loss="bce")
    x, y = rng.standard_normal((N, D)), rng.uniform(0, 1, (N, K))
    x0, y0 = x.copy(), y.copy()
    y_hat = net.forward(x)
    y_hat0 = y_hat.copy()
    net.loss(y_hat, y)
    net.backward()
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(y_hat, y_hat0)


def test_finite_difference_table_catches_an_error_far_above_its_own():
    """Pins FINITE_DIFFERENCES: central differences are good to ~1e-10, so one dW1 element off by 1e-4
    relative is a real error; loosening the table past it lets this pass."""
    class OneElementOff(MLP):
        def backward(self):
            inter = super().backward()
            i = np.unravel_index(np.argmax(np.abs(self.grads["W1"])), self.grads["W1"].shape)
            self.grads["W1"][i] *= 1 + 1e-4
            return inter

    rng = np.random.default_rng(0)
    net = OneElementOff(D, H, K, f="tanh")
    result = check_model(net, rng.standard_normal((N, D)), targets(net, rng))
    assert not result.comparisons["W1"].ok and result.comparisons["b1"].ok


# --- deep models: n_hidden a list ----------------------------------------------------------------

@pytest.mark.parametrize("hidden", [[6], [6, 5], [6, 5, 4, 7]])
@pytest.mark.parametrize("f, g, loss, reduction", [("tanh", "identity", "mse", "sum"), ("sigmoid", "sigmoid", "bce", "mean"),
                                                   ("leaky_relu", "softmax", "ce", "mean"), ("relu", "identity", "mse", "mean")])
def test_deep_gradients_match_finite_differences(hidden, f, g, loss, reduction):
    rng = np.random.default_rng(2)
    net = MLP(D, hidden, K, f=f, g=g, loss=loss, reduction=reduction, seed=1, negative_slope=0.2)
    result = check_model(net, rng.standard_normal((N, D)), targets(net, rng))
    assert result.kinks == 0
    assert set(result.comparisons) == set(net.param_names) and len(net.param_names) == 2 * (len(hidden) + 1)
    for name, c in result.comparisons.items():
        assert c.ok, f"{hidden} {f}/{g}/{loss}: {name}\n{c.describe('analytic', 'numeric')}"


def test_finite_differences_catch_a_planted_bug_in_a_middle_layer():
    """Negative control: f' wrong in every hidden layer; every gradient below the top layer fails."""
    class WrongTanhDerivative(MLP):
        def f_backward(self, dh, cache):
            return dh * (1 - cache.out)

    rng = np.random.default_rng(0)
    net = WrongTanhDerivative(D, [6, 5, 4], K, f="tanh")
    result = check_model(net, rng.standard_normal((N, D)), targets(net, rng))
    assert [name for name, c in result.comparisons.items() if not c.ok] == ["W1", "b1", "W2", "b2", "W3", "b3"]


def test_a_deep_model_names_every_layer_as_the_math_does():
    rng = np.random.default_rng(0)
    net = MLP(D, [6, 5, 4], K, f="tanh", g="sigmoid")
    assert net.param_names == ("W1", "b1", "W2", "b2", "W3", "b3", "W4", "b4")
    assert net.shapes == {"W1": (6, D), "b1": (6,), "W2": (5, 6), "b2": (5,), "W3": (4, 5), "b3": (4,),
                          "W4": (K, 4), "b4": (K,)}
    x = rng.standard_normal((N, D))
    y_hat = net.forward(x)
    c = net.cache
    assert c._fields[:9] == ("x", "z1", "h1", "z2", "h2", "z3", "h3", "z4", "y_hat")
    h = x
    for l in (1, 2, 3):
        np.testing.assert_array_equal(getattr(c, f"z{l}"), h @ net.params[f"W{l}"].T + net.params[f"b{l}"])
        h = getattr(c, f"h{l}")
        np.testing.assert_array_equal(h, np.tanh(getattr(c, f"z{l}")))
    np.testing.assert_array_equal(c.z4, h @ net.params["W4"].T + net.params["b4"])
    assert c.y_hat is y_hat
    net.loss(y_hat, rng.uniform(0, 1, (N, K)))
    inter = net.backward()
    assert list(inter) == ["dy_hat", "dz4", "dh3", "dz3", "dh2", "dz2", "dh1", "dz1"]
    np.testing.assert_allclose(net.grads["W2"], inter["dz2"].T @ c.h1, rtol=1e-14)


def test_an_int_and_a_one_element_list_are_the_same_two_layer_model():
    a, b = MLP(D, H, K, seed=3), MLP(D, [H], K, seed=3)
    assert a.forward_names == b.forward_names == ("z1", "h", "z2", "y_hat")
    for k in PARAM_NAMES:
        np.testing.assert_array_equal(a.params[k], b.params[k])


@pytest.mark.parametrize("n_hidden, message", [([], "n_hidden: expected a positive integer or a non-empty list"),
                                               ([4, 0], "n_hidden[1]: expected a positive integer, got 0"),
                                               ([4, 2.5], "n_hidden[1]: expected a positive integer, got 2.5")])
def test_bad_hidden_widths_are_named(n_hidden, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        MLP(D, n_hidden, K)
