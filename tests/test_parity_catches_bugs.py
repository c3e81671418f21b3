"""The oracle can fail: handed a deliberately wrong reference, the parity engine fails at the right
step and quantity, and its report says where and by how much."""
import numpy as np
import pytest

from mlp_ref import MLP
from mlp_ref.parity import ParityConfig, run_parity


class WrongSigmoidDerivative(MLP):
    """f' taken as s instead of s (1 - s)."""
    def f_backward(self, dh, cache):
        return dh * cache.out


class ReluDerivativeOneAtZero(MLP):
    """ReLU'(0) taken as 1: wrong only where a pre-activation is exactly 0."""
    def f_backward(self, dh, cache):
        return dh * (cache.z >= 0)


class BiasGradientNotSummed(MLP):
    """db2 from the first sample only, not summed over the batch."""
    def backward(self):
        inter = super().backward()
        self.grads["b2"] += inter["dz2"][0] - inter["dz2"].sum(axis=0)
        return inter


class TransposedWeightGradient(MLP):
    """dW1 stored as x^T dz1, the transpose of dz1^T x (the model then refuses to step with it)."""
    def backward(self):
        inter = super().backward()
        self.grads["W1"] = self.grads["W1"].T.copy()
        return inter


class NeverZeroed(MLP):
    """zero_grad does nothing: gradients of earlier batches leak into later steps."""
    def zero_grad(self):
        pass


class SignFlippedUpdate(MLP):
    """step climbs the gradient: W <- W + lr dW."""
    def step(self, lr):
        for name, W in self.params.items():
            W += lr * self.grads[name]


def first_failure(report):
    assert not report.ok, "the parity engine passed a wrong reference"
    step, comparison, before = report.first_failure()
    return step, comparison.name, before


def test_a_wrong_activation_derivative_fails_at_step_1_in_dz1():
    config = ParityConfig(f="sigmoid", g="sigmoid", steps=3)
    net = WrongSigmoidDerivative(5, 7, 3, f="sigmoid", g="sigmoid")
    step, name, before = first_failure(run_parity(config, reference=net))
    assert (step, name) == (1, "dz1")
    assert before == ["z1", "h", "z2", "y_hat", "loss", "dy_hat", "dz2", "dh"]


def test_relu_derivative_wrong_only_at_zero_is_caught_on_an_exact_zero():
    config = ParityConfig(steps=2)
    net = ReluDerivativeOneAtZero(5, 7, 3)
    params = {k: v.copy() for k, v in net.params.items()}
    params["W1"][2], params["b1"][2] = 0, 0
    step, name, _ = first_failure(run_parity(config, reference=net.set_params(params)))
    assert (step, name) == (1, "dz1")


def test_relu_derivative_wrong_only_at_zero_passes_on_random_data():
    """Why the exact-zero case exists: random inputs never hit the kink, so this bug hides."""
    assert run_parity(ParityConfig(steps=5), reference=ReluDerivativeOneAtZero(5, 7, 3)).ok


def test_a_bias_gradient_not_summed_over_the_batch_fails_at_step_1_in_db2():
    step, name, _ = first_failure(run_parity(ParityConfig(steps=3), reference=BiasGradientNotSummed(5, 7, 3)))
    assert (step, name) == (1, "db2")


def test_a_bias_gradient_not_summed_is_invisible_with_a_batch_of_one():
    """Why batch > 1 matters: with one sample the first row is the sum."""
    assert run_parity(ParityConfig(steps=3, batch=1), reference=BiasGradientNotSummed(5, 7, 3)).ok


def test_a_transposed_weight_gradient_fails_on_shape_and_says_transpose():
    report = run_parity(ParityConfig(steps=2), reference=TransposedWeightGradient(5, 7, 3))
    step, name, _ = first_failure(report)
    assert (step, name) == (1, "dW1")
    assert "shape mismatch: got (5, 7), expected (7, 5) (the transpose)" in report.failure_message()
    # The model cannot step with a gradient of the wrong shape: the run ends where it departed.
    assert len(report.steps) == 1


def test_a_wrong_derivative_in_a_deep_model_is_named_at_its_top_hidden_layer():
    """Four layers: the backward pass meets f' first at layer 3, so dz3 is the first to depart."""
    config = ParityConfig(f="sigmoid", g="sigmoid", n_hidden=[6, 5, 4], steps=2)
    step, name, before = first_failure(run_parity(config, reference=WrongSigmoidDerivative(
        5, [6, 5, 4], 3, f="sigmoid", g="sigmoid")))
    assert (step, name) == (1, "dz3")
    assert before[-3:] == ["dy_hat", "dz4", "dh3"] and "h3" in before


def test_gradients_never_zeroed_fail_at_step_2_in_the_first_parameter_gradient():
    step, name, before = first_failure(run_parity(ParityConfig(steps=3), reference=NeverZeroed(5, 7, 3)))
    assert (step, name) == (2, "dW2")
    assert "dz1" in before


def test_gradients_never_zeroed_pass_when_torch_does_not_zero_either():
    assert run_parity(ParityConfig(steps=3, zero_grad=False), reference=NeverZeroed(5, 7, 3)).ok


def test_a_sign_flipped_update_fails_in_the_update_stage():
    step, name, _ = first_failure(run_parity(ParityConfig(steps=2), reference=SignFlippedUpdate(5, 7, 3)))
    assert (step, name) == (1, "W1")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_report_names_step_stage_tensor_and_the_worst_element(dtype):
    report = run_parity(ParityConfig(steps=3, dtype=dtype), reference=BiasGradientNotSummed(5, 7, 3, dtype=dtype))
    lines = report.failure_message().splitlines()
    assert lines[0].startswith("parity failed: relu/identity/mse-sum")
    assert lines[0].endswith(f"step 1, backward, db2  (3,) {dtype} cpu")
    assert "mismatched; worst |numpy - torch| = " in lines[1] and "allowed " in lines[1]
    assert lines[2].lstrip().startswith("numpy = ") and "torch = " in lines[2]
    assert lines[3] == "  earlier stages ok: z1, h, z2, y_hat, loss, dy_hat, dz2, dh, dz1, dW2"
    _, c, _ = report.first_failure()
    i = c.worst_index[0]
    assert abs(c.actual - c.expected) == pytest.approx(c.max_abs)
    assert c.n_mismatched >= 1 and c.n_total == 3 and 0 <= i < 3


class OverwritingBackward(MLP):
    """backward replaces grads instead of adding into them: invisible while zero_grad runs each step."""
    def backward(self):
        for name in self.grads:
            self.grads[name] = np.zeros(self.shapes[name], dtype=self.dtype)
        return super().backward()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_backward_that_overwrites_fails_without_zero_grad_even_when_resynced(dtype):
    """Resyncing float32 copies the gradients too when they accumulate; a reference that does not
    accumulate must still fail at step 2, in the first parameter gradient."""
    config = ParityConfig(steps=3, zero_grad=False, dtype=dtype, resync="always")
    step, name, _ = first_failure(run_parity(config, reference=OverwritingBackward(5, 7, 3, dtype=dtype)))
    assert (step, name) == (2, "dW2")


class OneGradientElementOff(MLP):
    """dW1's largest element off by `rel` relative, an error just above each dtype's rounding."""
    rel = 0.0

    def backward(self):
        inter = super().backward()
        i = np.unravel_index(np.argmax(np.abs(self.grads["W1"])), self.grads["W1"].shape)
        self.grads["W1"][i] *= 1 + self.rel
        return inter


@pytest.mark.parametrize("dtype, rel", [("float64", 1e-9), ("float32", 1e-4)])
def test_parity_table_catches_an_error_just_above_rounding(dtype, rel):
    """Pins the parity table: float64 rounding is ~1e-16 per op and float32's ~1e-7, so 1e-9 and 1e-4
    relative in one gradient element are real errors; loosening either entry lets this one pass."""
    net = OneGradientElementOff(5, 7, 3, dtype=dtype)
    net.rel = rel
    step, name, _ = first_failure(run_parity(ParityConfig(steps=2, dtype=dtype), reference=net))
    assert (step, name) == (1, "dW1")
    # Negative control: the same run with nothing planted passes.
    clean = OneGradientElementOff(5, 7, 3, dtype=dtype)
    assert run_parity(ParityConfig(steps=2, dtype=dtype), reference=clean).ok
