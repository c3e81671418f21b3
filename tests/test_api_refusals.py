"""The Python API refuses bad arguments by name, keeps its parameter keys fixed, and refuses sizes
that would not fit in memory before allocating them."""
import copy
import math
import pickle

import numpy as np
import pytest

from mlp_ref import MLP, memory


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(seed=-1), ValueError, "seed: expected an integer >= 0, got int -1"),
    (dict(seed="a"), ValueError, "seed: expected an integer >= 0, got str 'a'"),
    (dict(seed=1.5), ValueError, "seed: expected an integer >= 0, got float 1.5"),
    (dict(seed=True), ValueError, "seed: expected an integer >= 0, got bool True"),
    (dict(negative_slope="a"), TypeError, "negative_slope: expected a finite real number, got str 'a'"),
    (dict(negative_slope=math.nan), ValueError, "negative_slope: expected a finite real number, got nan"),
    (dict(negative_slope=math.inf), ValueError, "negative_slope: expected a finite real number, got inf"),
    (dict(g="relu", loss="bce"), ValueError, "g: 'bce' takes log(y_hat) and log(1 - y_hat), so it needs outputs in [0, 1]: expected sigmoid (or softmax), got 'relu'"),
    (dict(g="identity", loss="bce"), ValueError, "needs outputs in [0, 1]"),
])
def test_bad_constructor_arguments_are_named(kwargs, error, words):
    with pytest.raises(error) as e:
        MLP(3, 4, 2, **kwargs)
    assert words in str(e.value)


@pytest.mark.parametrize("g", ["sigmoid", "softmax"])
def test_bce_on_outputs_in_0_1_is_accepted(g):
    net = MLP(3, 4, 2, g=g, loss="bce")
    y_hat = net.forward(np.zeros((2, 3)))
    assert np.isfinite(net.loss(y_hat, np.full((2, 2), 0.5)))


def test_numpy_integer_seed_is_accepted_and_means_the_same_seed():
    a, b = MLP(3, 4, 2, seed=np.int64(7)), MLP(3, 4, 2, seed=7)
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)


def test_params_keys_are_fixed():
    net = MLP(3, 4, 2)
    with pytest.raises(TypeError, match=r"params: its keys \['W1', 'b1', 'W2', 'b2'\] are fixed"):
        del net.params["W1"]
    with pytest.raises(KeyError, match=r"params: expected one of the keys .* got 'W9'"):
        net.params["W9"] = np.zeros((4, 3))
    with pytest.raises(KeyError, match="grads: expected one of the keys"):
        net.grads.update(dW1=np.zeros((4, 3)))
    with pytest.raises(TypeError, match="grads: its keys"):
        net.grads.pop("W1")
    # Assigning an existing key still works, and is copied in at the next stage.
    net.params["W1"] = np.ones((4, 3))
    net.forward(np.zeros((1, 3)))
    assert np.array_equal(net.params["W1"], np.ones((4, 3)))


def test_a_model_survives_copy_and_pickle_with_its_fixed_keys():
    net = MLP(3, 4, 2, seed=3)
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        assert list(clone.params) == ["W1", "b1", "W2", "b2"]
        assert np.array_equal(clone.params["W2"], net.params["W2"])
        with pytest.raises(KeyError):
            clone.params["W9"] = 0


def test_an_empty_batch_is_refused():
    with pytest.raises(ValueError, match=r"x: expected at least one sample, got shape \(0, 3\)"):
        MLP(3, 4, 2).forward(np.zeros((0, 3)))


def test_a_model_too_large_for_memory_is_refused_before_allocating():
    # 1e5 x 1e5 float64 weights alone are 80 GB: refused by the estimate, in no time and no memory.
    with pytest.raises(memory.TooLarge, match=r"MLP\(100000, 100000, 3, dtype='float64'\): would need about"):
        MLP(100_000, 100_000, 3, max_memory=2 ** 30)


def test_a_batch_too_large_for_memory_is_refused_naming_n():
    net = MLP(3, 4, 2, max_memory=10 ** 6)
    net.forward(np.zeros((100, 3)))  # well under: runs
    with pytest.raises(memory.TooLarge, match=r"forward on a batch of N=100000: would need about .* over the memory limit"):
        net.forward(np.zeros((100_000, 3)))


def test_the_estimate_bounds_what_the_model_really_allocates():
    """Negative control for the estimator: a model's packed arrays must fit inside model_bytes."""
    net = MLP(50, 60, 7, dtype="float32")
    owned = sum(a.nbytes for a in (net._params.flat, net._grads.flat, net._dparams.flat, net._update))
    assert owned <= memory.model_bytes((50, 60, 7), "float32") < 10 * owned


def test_a_deep_model_and_its_cache_survive_pickle_and_its_estimate_bounds_its_arrays():
    net = MLP(5, [6, 4, 3], 2, seed=1)
    net.forward(np.ones((3, 5)))
    clone = pickle.loads(pickle.dumps(net))
    assert type(clone.cache).__name__ == "ForwardCache4" and np.array_equal(clone.cache.h3, net.cache.h3)
    owned = sum(a.nbytes for a in (net._params.flat, net._grads.flat, net._dparams.flat, net._update))
    assert owned <= memory.model_bytes(net.sizes, "float64") < 10 * owned
