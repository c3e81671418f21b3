"""Dropout's properties, checked on outputs built here (no child): a correct mask passes, and each way a
mask can be wrong is named (the binomial bound, sharing, the seed, inversion, test mode, the backward)."""
import numpy as np
import pytest

from mlp_ref.packs.cs231n_a2 import cases, dropout
from mlp_ref.packs.cs231n_a2.variants import VARIANTS

CASE = next(c for c in cases.build(0, VARIANTS["2021"]) if c.group == "dropout")
X, KEEP, DOUT = CASE.inputs["x"], CASE.inputs["keep"], CASE.inputs["dout"]


def outputs(mask_a, mask_b=None, mask_c=None, test=None, scale=None):
    """The child's arrays for a dropout_forward that drew these keep masks."""
    scale = 1 / KEEP if scale is None else scale
    mask_b = mask_a if mask_b is None else mask_b
    mask_c = ~mask_a if mask_c is None else mask_c
    return {"out.a@dropout_forward": X * mask_a * scale, "out.b@dropout_forward": X * mask_b * scale,
            "out.c@dropout_forward": X * mask_c * scale, "out.test@dropout_forward": X if test is None else test,
            "out.u@dropout_forward": X * draw(9) * scale, "x@dropout_forward": X.copy()}


def draw(seed, shape=X.shape):
    return np.random.default_rng(seed).random(shape) < KEEP


def test_a_correct_mask_passes_forward_and_backward():
    arrays = outputs(draw(1), mask_c=draw(2))
    assert dropout.forward(arrays, CASE) == (None, "")
    arrays["dx@dropout_backward"] = DOUT * draw(1) / KEEP
    arrays["dx.u@dropout_backward"] = DOUT * draw(9) / KEEP
    arrays["dout@dropout_backward"] = DOUT.copy()
    assert dropout.backward(arrays, CASE) == (None, "")


@pytest.mark.parametrize("arrays, bug", [
    (outputs(draw(1), mask_c=draw(2), scale=1.0), "dropout_not_inverted"),
    (outputs(draw(1), mask_c=draw(2), test=X * KEEP), "dropout_scaled_in_test"),
    (outputs(np.random.default_rng(1).random(X.shape) < 1 - KEEP, mask_c=draw(2)), "dropout_mask_distribution"),
    (outputs(np.broadcast_to(draw(1, X.shape[1:]), X.shape), mask_c=draw(2)), "dropout_mask_shared"),
    (outputs(np.broadcast_to(draw(1, (X.shape[0], 1)), X.shape), mask_c=draw(2)), "dropout_mask_shared"),
    (outputs(draw(1), mask_b=draw(3), mask_c=draw(2)), "dropout_seed_ignored"),
])
def test_each_wrong_mask_is_named(arrays, bug):
    assert dropout.forward(arrays, CASE)[0] == bug


def test_a_backward_with_another_mask_fails():
    arrays = outputs(draw(1), mask_c=draw(2))
    arrays["dx@dropout_backward"] = DOUT * draw(5) / KEEP
    arrays["dx.u@dropout_backward"] = DOUT * draw(9) / KEEP
    found, message = dropout.backward(arrays, CASE)
    assert found is None and message.startswith("dx differs from dout * mask / keep")


def test_a_backward_that_draws_its_mask_again_fails_without_a_seed():
    """Right after the seeded forward (the same seed redraws the same mask), wrong after the unseeded one."""
    arrays = outputs(draw(1), mask_c=draw(2))
    arrays["dx@dropout_backward"] = DOUT * draw(1) / KEEP
    arrays["dx.u@dropout_backward"] = DOUT * draw(11) / KEEP
    found, message = dropout.backward(arrays, CASE)
    assert found == "dropout_mask_regenerated" and "without a seed" in message


def test_the_models_masks_are_read_past_relus_zeros():
    """In the net, x is 0 wherever ReLU cut it; those bits are unreadable and must not count as dropped."""
    rng = np.random.default_rng(0)
    x = np.maximum(rng.standard_normal((40, 60)), 0)
    good = x * (rng.random(x.shape) < 0.6) / 0.6
    masks, bug, problem = dropout.model_masks({"drop0.x": x, "drop0.out": good}, 1, 0.6)
    assert problem == "" and masks[0].shape == x.shape
    shared = x * (rng.random(x.shape[1]) < 0.6) / 0.6
    assert dropout.model_masks({"drop0.x": x, "drop0.out": shared}, 1, 0.6)[1] == "dropout_mask_shared"
    assert "expected 2" in dropout.model_masks({"drop0.x": x, "drop0.out": good}, 2, 0.6)[2]
