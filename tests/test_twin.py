"""The torch twin is built from the reference's parameters, and copies cross explicitly both ways."""
import numpy as np
import pytest
import torch

from mlp_ref import MLP
from mlp_ref.model import PARAM_NAMES
from mlp_ref.twin import TorchTwin


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_twin_starts_from_a_copy_of_the_references_parameters(dtype):
    net = MLP(5, 7, 3, dtype=dtype, seed=2)
    twin = TorchTwin(net)
    for name, p in twin.tensors.items():
        assert p.dtype == getattr(torch, dtype) and tuple(p.shape) == net.params[name].shape
        np.testing.assert_array_equal(p.detach().numpy(), net.params[name])
        assert not np.shares_memory(p.detach().numpy(), net.params[name])
    net.params["W1"] += 1.0
    assert not np.array_equal(twin.params()["W1"], net.params["W1"]), "the twin must not see in-place updates"


def test_from_twin_copies_torchs_parameters_into_the_reference():
    net = MLP(5, 7, 3)
    twin = TorchTwin(net)
    with torch.no_grad():
        for p in twin.tensors.values():
            p.mul_(2)
    twin.from_twin(net)
    for name, p in twin.tensors.items():
        np.testing.assert_array_equal(net.params[name], p.detach().numpy())
        assert not np.shares_memory(net.params[name], p.detach().numpy())


def test_to_twin_after_training_makes_the_twin_equal_again():
    rng = np.random.default_rng(0)
    net = MLP(5, 7, 3)
    twin = TorchTwin(net)
    net.loss(net.forward(rng.standard_normal((4, 5))), rng.standard_normal((4, 3)))
    net.backward()
    net.step(0.1)
    twin.to_twin(net)
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(twin.params()[name], net.params[name])


@pytest.mark.parametrize("f, g, modules", [("relu", "identity", (torch.nn.ReLU, torch.nn.Identity)),
                                           ("leaky_relu", "softmax", (torch.nn.LeakyReLU, torch.nn.Softmax)),
                                           ("tanh", "sigmoid", (torch.nn.Tanh, torch.nn.Sigmoid))])
def test_the_twin_is_a_sequential_of_torchs_own_modules(f, g, modules):
    loss = "ce" if g == "softmax" else "mse"
    twin = TorchTwin(MLP(2, 3, 2, f=f, g=g, loss=loss, negative_slope=0.3))
    kinds = [type(m) for m in twin.model]
    assert kinds == [torch.nn.Linear, modules[0], torch.nn.Linear, modules[1]]
    if f == "leaky_relu":
        assert twin.model[1].negative_slope == 0.3
    assert isinstance(twin.loss_fn, torch.nn.CrossEntropyLoss if loss == "ce" else torch.nn.MSELoss)
    assert isinstance(twin.optimizer, torch.optim.SGD)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised when CUDA is absent")
def test_asking_for_cuda_without_a_gpu_is_a_clear_error():
    with pytest.raises(ValueError, match=r"device: cuda requested, but torch.cuda.is_available\(\) is False"):
        TorchTwin(MLP(2, 3, 2), device="cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA not available: torch.cuda.is_available() is False")
def test_the_cuda_twin_holds_its_parameters_on_the_gpu():
    twin = TorchTwin(MLP(2, 3, 2), device="cuda")
    assert all(p.is_cuda for p in twin.tensors.values())


def test_a_deep_twin_is_linear_f_repeated_then_linear_g():
    net = MLP(3, [4, 5, 6], 2, f="tanh", g="sigmoid")
    twin = TorchTwin(net)
    assert [type(m) for m in twin.model] == [torch.nn.Linear, torch.nn.Tanh] * 3 + [torch.nn.Linear, torch.nn.Sigmoid]
    assert list(twin.tensors) == list(net.param_names)
    for name, p in twin.tensors.items():
        np.testing.assert_array_equal(p.detach().numpy(), net.params[name])


def test_the_twin_keeps_its_intermediates_and_backpropagates_a_given_dout():
    """What an oracle needs: forward's z_l, h_l, y_hat by name; backward(dout) -> every gradient."""
    rng = np.random.default_rng(0)
    net = MLP(3, [4, 5], 2, f="tanh", g="sigmoid")
    twin = TorchTwin(net)
    x, dout = rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
    twin.forward(x)
    grads = twin.backward(dout)
    assert list(twin.inter) == ["z1", "h1", "z2", "h2", "z3", "y_hat"]
    # The reference, handed the same upstream gradient through a loss whose dL/dy_hat is dout:
    # sum(y_hat * dout) has exactly that gradient.
    y_hat = net.forward(x)
    net.zero_grad()
    h2, W3 = net.cache.h2, net.params["W3"]
    dz3 = dout * y_hat * (1 - y_hat)
    np.testing.assert_allclose(grads["dz3"].numpy(), dz3, rtol=1e-12)
    np.testing.assert_allclose(grads["dW3"].numpy(), dz3.T @ h2, rtol=1e-12)
    np.testing.assert_allclose(grads["dh2"].numpy(), dz3 @ W3, rtol=1e-12)
    assert set(grads) == {"dy_hat", "dz3", "dh2", "dz2", "dh1", "dz1", "dW1", "db1", "dW2", "db2", "dW3", "db3"}
    np.testing.assert_array_equal(grads["dy_hat"].numpy(), dout)


@pytest.mark.parametrize("name, cls", [("SGD", torch.optim.SGD), ("Adam", torch.optim.Adam),
                                       ("AdamW", torch.optim.AdamW), ("RMSprop", torch.optim.RMSprop)])
def test_the_twin_builds_the_matching_torch_optimizer_from_the_same_arguments(name, cls):
    from mlp_ref import optim
    net = MLP(3, [4, 5], 2)
    ours = getattr(optim, name)(net, lr=0.003, weight_decay=0.05)
    twin = TorchTwin(net, optimizer=ours)
    assert type(twin.optimizer) is cls
    group = twin.optimizer.param_groups[0]
    assert {k: tuple(group[k]) if k == "betas" else group[k] for k in ours.hyper} == ours.hyper
