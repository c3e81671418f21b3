"""Each loss and its gradient against torch's module with the same reduction, including where
naive formulas break: saturated BCE and large logits."""
import warnings

import numpy as np
import pytest
import torch

from mlp_ref import losses
from mlp_ref.compare import compare
from mlp_ref.tolerances import tolerance


def torch_value_and_grad(module, inp, target):
    t = torch.tensor(inp, requires_grad=True)
    value = module(t, torch.tensor(target))
    value.backward()
    return value.detach().numpy(), t.grad.numpy()


def assert_matches(name, value, grad, expected_value, expected_grad, dtype):
    tol = tolerance(dtype)
    for c in (compare(name, np.asarray(value), expected_value, tol), compare(f"d {name}", grad, expected_grad, tol)):
        assert c.ok, f"{c.name}\n{c.describe()}"


@pytest.mark.parametrize("reduction", losses.REDUCTIONS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape", [(1, 1), (6, 3)])
def test_mse_matches_torch(reduction, dtype, shape):
    rng = np.random.default_rng(0)
    y_hat, y = rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape).astype(dtype)
    value, grad = losses.mse(y_hat, y, reduction)
    assert_matches("mse", value, grad, *torch_value_and_grad(torch.nn.MSELoss(reduction=reduction), y_hat, y), dtype)


@pytest.mark.parametrize("reduction", losses.REDUCTIONS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_bce_matches_torch_including_saturated_outputs(reduction, dtype):
    # y_hat exactly 0 and 1 against both targets: torch clamps each log at -100 and the gradient's
    # denominator at 1e-12; the reference must give the same finite numbers, without warnings.
    y_hat = np.array([[0.0, 1.0, 0.0, 1.0], [0.3, 0.9, 1e-30, 1 - 1e-7]], dtype=dtype)
    y = np.array([[0.0, 1.0, 1.0, 0.0], [1.0, 0.0, 1.0, 0.5]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grad = losses.bce(y_hat, y, reduction)
    assert np.isfinite(value) and np.isfinite(grad).all()
    assert_matches("bce", value, grad, *torch_value_and_grad(torch.nn.BCELoss(reduction=reduction), y_hat, y), dtype)


@pytest.mark.parametrize("reduction", losses.REDUCTIONS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("scale", [1.0, 1e3, 1e4])
def test_cross_entropy_matches_torch_for_large_logits(reduction, dtype, scale):
    rng = np.random.default_rng(2)
    z2 = (scale * rng.standard_normal((5, 4))).astype(dtype)
    target = np.array([0, 3, 1, 1, 2])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grad = losses.cross_entropy(z2, target, reduction)
    module = torch.nn.CrossEntropyLoss(reduction=reduction)
    assert_matches("ce", value, grad, *torch_value_and_grad(module, z2, target), dtype)


def test_loss_comparison_catches_a_missing_factor_of_two():
    """Negative control: the 1/2 ||y_hat - y||^2 convention differs from torch and must be caught."""
    rng = np.random.default_rng(0)
    y_hat, y = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    value, grad = losses.mse(y_hat, y, "sum")
    expected_value, expected_grad = torch_value_and_grad(torch.nn.MSELoss(reduction="sum"), y_hat, y)
    tol = tolerance("float64")
    assert not compare("mse", np.asarray(value / 2), expected_value, tol).ok
    assert not compare("dmse", grad / 2, expected_grad, tol).ok
