"""A copied or unpickled model is a whole model: it trains, on its own arrays, exactly as the original
would have, and the original is left untouched."""
import copy
import pickle

import numpy as np
import pytest

from mlp_ref import MLP, optim

COPIES = {"deepcopy": copy.deepcopy, "copy": copy.copy, "pickle": lambda net: pickle.loads(pickle.dumps(net))}
MODELS = {"plain": {}, "deep": {"n_hidden": [5, 4]}, "batch norm + dropout": {"norm": "batch", "dropout": 0.3},
          "layer norm": {"norm": "layer"}}


def data(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((6, 3)), rng.standard_normal((6, 2))


def train(net, opt=None, steps=2):
    x, y = data()
    losses = []
    for _ in range(steps):
        losses.append(net.loss(net.forward(x), y))
        net.zero_grad()
        net.backward()
        net.step(0.1) if opt is None else opt.step()
    return losses


def snapshot(net):
    return {k: v.copy() for k, v in {**net.params, **net.grads, **net.buffers}.items()}


@pytest.mark.parametrize("make", COPIES.values(), ids=COPIES.keys())
@pytest.mark.parametrize("kwargs", MODELS.values(), ids=MODELS.keys())
def test_a_copy_trains_as_the_original_would_and_leaves_it_alone(make, kwargs):
    net = MLP(3, kwargs.pop("n_hidden", 4), 2, seed=1, **kwargs)
    train(net, steps=1)  # a model mid-training: grads, running statistics and the mask generator moved on
    clone, before = make(net), snapshot(net)
    clone_losses = train(clone)
    assert all(np.array_equal(v, before[k]) for k, v in snapshot(net).items()), "training the copy changed the original"
    assert train(net) == clone_losses, "the copy must take the original's steps: same losses"
    for k, v in snapshot(net).items():
        assert np.array_equal(v, snapshot(clone)[k]), f"{k} differs after the same two steps"
    assert not np.shares_memory(clone.params["W1"], net.params["W1"])


def test_a_copied_model_keeps_training_its_packed_arrays():
    """The failure a detached copy shows: after one step its params stay where they were."""
    clone = pickle.loads(pickle.dumps(MLP(3, 4, 2, seed=2)))
    W1 = clone.params["W1"].copy()
    train(clone, steps=1)
    assert not np.array_equal(clone.params["W1"], W1), "a step must move the copy's weights"
    assert np.any(clone.grads["W1"] != 0)


def test_a_model_and_its_optimizer_copied_together_stay_linked():
    net = MLP(3, 4, 2, seed=3)
    opt = optim.Adam(net, lr=0.01)
    train(net, opt, steps=1)
    net2, opt2 = copy.deepcopy((net, opt))
    assert opt2.net is net2 and opt2.params is net2.params
    assert train(net, opt) == train(net2, opt2)
    assert np.array_equal(net.params["W2"], net2.params["W2"])


def test_a_copy_keeps_an_entry_assigned_from_outside():
    net = MLP(3, 4, 2)
    net.params["W1"] = np.full((4, 3), 0.5)
    assert np.array_equal(copy.deepcopy(net).params["W1"], np.full((4, 3), 0.5))
    net.params["W1"] = np.zeros((4, 3), dtype="float32")
    with pytest.raises(TypeError, match=r"params\[.W1.\]: expected dtype float64, got float32"):
        copy.deepcopy(net)
