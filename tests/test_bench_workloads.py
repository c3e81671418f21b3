"""The benchmark workloads time what their names say: the deep size is a deep model, the Adam size
steps with Adam on both sides, and the GEMM-only ceiling has the step's GEMMs and flops."""
import numpy as np
import pytest
import torch

from mlp_ref.bench import workloads
from mlp_ref.bench.workloads import (JAX_MISSING, SIZES, Size, bare_step, gemm_only, jax_available, jax_step,
                                     numpy_step, step_flops, torch_step)

SMALL_DEEP_ADAM = Size("t", 4, 5, 6, 3, depth=3, optim="adam")


def test_the_deep_and_adam_sizes_are_what_the_goals_name():
    assert SIZES["deep"].label == "deep (256, 784->512->512->512->10)"
    assert SIZES["medium-adam"][1:5] == SIZES["medium"][1:5] and SIZES["medium-adam"].optim == "adam"


def test_a_deep_adam_step_is_a_deep_model_trained_by_adam_on_both_sides():
    step = numpy_step(SMALL_DEEP_ADAM, "float32")
    assert step.net.param_names == ("W1", "b1", "W2", "b2", "W3", "b3", "W4", "b4")
    before = step.net.params["W1"].copy()
    step()
    # Adam's first step moves every weight with a non-zero gradient by about lr: plain SGD would not.
    moved = np.abs(step.net.params["W1"] - before)
    assert np.allclose(moved[moved > 0], 1e-3, rtol=1e-2)
    t = torch_step(SMALL_DEEP_ADAM, "float32")
    assert isinstance(t.twin.optimizer, torch.optim.Adam) and len(t.twin.model) == 8


def test_the_gemm_ceiling_has_the_steps_flops(monkeypatch):
    calls = []
    real_dot = np.dot

    def counting_dot(a, b, out=None):
        calls.append(2 * a.shape[0] * a.shape[1] * b.shape[1])
        return real_dot(a, b, out=out)

    gemms = gemm_only(SMALL_DEEP_ADAM, "float64")
    monkeypatch.setattr(np, "dot", counting_dot)
    gemms()
    assert len(calls) == 3 * 4 - 1 and sum(calls) == step_flops(SMALL_DEEP_ADAM)


@pytest.mark.parametrize("size", [SIZES["tiny"], Size("t", 7, 5, 6, 3)], ids=["tiny", "batch of 7"])
def test_the_bare_floor_takes_the_references_steps(size):
    """The floor the jax goals are judged against is a real step: three bare steps leave the weights
    where three steps of the reference leave them."""
    bare, ref = bare_step(size, "float64"), numpy_step(size, "float64")
    for _ in range(3):
        bare()
        ref()
    for name, value in bare.params().items():
        np.testing.assert_allclose(value, ref.net.params[name], rtol=1e-12, atol=1e-15, err_msg=name)


def test_a_bare_step_with_a_wrong_learning_rate_is_told_apart(monkeypatch):
    # Negative control for the comparison above: the same floor at twice the lr ends elsewhere.
    size = Size("t", 7, 5, 6, 3)
    ref = numpy_step(size, "float64")
    ref()
    monkeypatch.setattr(workloads, "LR", 2 * workloads.LR)
    bare = bare_step(size, "float64")
    bare()
    assert not np.allclose(bare.params()["W1"], ref.net.params["W1"], rtol=1e-9)


def test_the_bare_floor_is_refused_for_a_model_it_does_not_compute():
    with pytest.raises(ValueError, match=r"bare_step: plain sizes only .*got deep \(256"):
        bare_step(SIZES["deep"], "float32")


def test_the_bn_sizes_step_through_batch_norm_and_dropout_on_both_sides():
    small_bn = SIZES["small-bn"]
    assert small_bn[1:5] == SIZES["small"][1:5] and SIZES["medium-bn"][1:5] == SIZES["medium"][1:5]
    assert small_bn.label == "small-bn (64, 784->128->10, batch norm, dropout 0.2)"
    tiny = Size("t", 8, 5, 6, 3, norm="batch", dropout=0.2)
    step = numpy_step(tiny, "float32")
    step()
    assert step.net.norm == "batch" and step.net.dropout == 0.2 and step.net.cache.mask1.shape == (8, 6)
    assert not np.array_equal(step.net.buffers["running_mean1"], np.zeros(6)), "the running statistics moved"
    t = torch_step(tiny, "float32")
    kinds = [type(m).__name__ for m in t.twin.model]
    assert kinds == ["Linear", "BatchNorm1d", "ReLU", "Dropout", "Linear", "Identity"], "torch draws its own mask"
    t()


JAX_SIZES = [Size("t", 8, 5, 6, 3), SMALL_DEEP_ADAM, Size("t", 8, 5, 6, 3, norm="batch")]


@pytest.mark.skipif(not jax_available(), reason=JAX_MISSING)
@pytest.mark.parametrize("size", JAX_SIZES, ids=["plain", "deep-adam", "batch-norm"])
def test_the_jax_step_trains_the_same_model_as_the_reference(size):
    # Three steps from the same parameters and data: jax.grad and the hand-coded gradients agree to
    # rounding, so the jax side times the same work (a wrong lr, loss or layer would show here).
    j, n = jax_step(size, "float64"), numpy_step(size, "float64")
    for _ in range(3):
        j()
        n()
    moved = max(np.abs(n.net.params[k] - numpy_step(size, "float64").net.params[k]).max() for k in n.net.params)
    err = max(np.abs(j.params()[k] - n.net.params[k]).max() for k in n.net.params)
    assert moved > 1e-4 and err < 1e-12 * max(1.0, moved) + 1e-14, (moved, err)


def test_a_jax_step_with_the_wrong_learning_rate_is_told_apart(monkeypatch):
    # Negative control for the comparison above: a jax step at twice the reference's lr must fail it.
    pytest.importorskip("jax", reason=JAX_MISSING)
    from mlp_ref.bench import workloads
    size = JAX_SIZES[0]
    n = numpy_step(size, "float64")
    n()
    monkeypatch.setattr(workloads, "LR", 2 * workloads.LR)
    j = jax_step(size, "float64")
    j()  # traced here, with the doubled lr
    assert max(np.abs(j.params()[k] - n.net.params[k]).max() for k in n.net.params) > 1e-6
