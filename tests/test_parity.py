"""The reference and its torch twin agree step for step, for every combination that makes sense,
at the kinks and saturations random data never hits, with and without zero_grad; and the parity
engine fails, at the right step and quantity, when handed a wrong reference."""
import numpy as np
import pytest
import torch

from mlp_ref import MLP
from mlp_ref.functional import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from mlp_ref.parity import ParityConfig, batches, run_parity

CUDA = pytest.mark.skipif(not torch.cuda.is_available(),
                          reason="CUDA not available: torch.cuda.is_available() is False")
STEPS = 50


def task_combos():
    """(f, g, loss, reduction): every f with every g under mse, and the losses tied to an output."""
    out = [(f, g, "mse", "sum") for f in HIDDEN_ACTIVATIONS for g in OUTPUT_ACTIVATIONS]
    for f in HIDDEN_ACTIVATIONS:
        out += [(f, "identity", "mse", "mean"), (f, "sigmoid", "bce", "sum"), (f, "sigmoid", "bce", "mean"),
                (f, "softmax", "ce", "mean"), (f, "softmax", "ce", "sum")]
    return out


def assert_parity(report):
    assert report.ok, report.failure_message()
    assert len(report.steps) == report.config.steps


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("f, g, loss, reduction", task_combos())
def test_every_combination_matches_torch_for_50_steps(f, g, loss, reduction, dtype):
    config = ParityConfig(n_in=5, n_hidden=7, n_out=3, batch=8, f=f, g=g, loss=loss, reduction=reduction,
                          dtype=dtype, steps=STEPS, lr=0.02, negative_slope=0.1)
    assert_parity(run_parity(config))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("f, g, loss, reduction", [("relu", "identity", "mse", "sum"), ("sigmoid", "sigmoid", "mse", "sum"),
                                                   ("sigmoid", "sigmoid", "bce", "sum"), ("tanh", "softmax", "ce", "mean"),
                                                   ("leaky_relu", "tanh", "mse", "mean")])
def test_a_batch_of_one_matches_torch(f, g, loss, reduction, dtype):
    config = ParityConfig(n_in=4, n_hidden=9, n_out=2, batch=1, f=f, g=g, loss=loss, reduction=reduction,
                          dtype=dtype, steps=STEPS, lr=0.02)
    assert_parity(run_parity(config))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_anchor_tasks_match_for_100_steps_and_learn(dtype):
    for f, g, loss in (("relu", "identity", "mse"), ("sigmoid", "sigmoid", "mse"), ("sigmoid", "sigmoid", "bce")):
        report = run_parity(ParityConfig(f=f, g=g, loss=loss, dtype=dtype, steps=100))
        assert_parity(report)
        assert np.mean(report.losses[-10:]) < np.mean(report.losses[:10]), f"{f}/{g}/{loss} did not learn"


@pytest.mark.parametrize("f, g, loss, reduction", [("relu", "identity", "mse", "sum"), ("tanh", "softmax", "ce", "mean"),
                                                   ("sigmoid", "sigmoid", "bce", "mean")])
def test_without_zero_grad_both_sides_accumulate_alike(f, g, loss, reduction):
    config = ParityConfig(f=f, g=g, loss=loss, reduction=reduction, steps=STEPS, lr=0.002, zero_grad=False)
    report = run_parity(config)
    assert_parity(report)
    # The accumulated gradient really is the sum over steps: it moves away from one step's gradient.
    db2 = [next(c for c in s.comparisons if c.name == "db2") for s in report.steps]
    assert abs(db2[-1].expected) != abs(db2[0].expected)


# --- inputs that random data never produces -----------------------------------------------------

def zero_pre_activation_net(f="relu", dtype="float64"):
    """Hidden unit 0 has W1 row 0 = 0 and b1[0] = 0, so z1[:, 0] is exactly 0 for every input."""
    net = MLP(5, 7, 3, f=f, dtype=dtype)
    params = {k: v.copy() for k, v in net.params.items()}
    params["W1"][0] = 0
    params["b1"][0] = 0
    return net.set_params(params)


@pytest.mark.parametrize("f", ["relu", "leaky_relu"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_pre_activations_exactly_zero_match_torch(f, dtype):
    config = ParityConfig(f=f, dtype=dtype, steps=1)
    net = zero_pre_activation_net(f, dtype)
    report = run_parity(config, reference=net)
    assert (net.cache.z1[:, 0] == 0).all()
    assert_parity(report)


def with_output_bias(config, b2):
    """The config's model with b2 replaced: a large bias saturates g without the cancellation
    (large terms summing to a small z) that would make an elementwise relative comparison unfair."""
    net = config.model()
    params = {k: v.copy() for k, v in net.params.items()}
    params["b2"] = np.array(b2, dtype=config.dtype)
    return net.set_params(params)


@pytest.mark.parametrize("loss", ["bce", "mse"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_saturated_sigmoid_outputs_match_torch(loss, dtype):
    """sigmoid(+-800) is exactly 1.0 and 0.0 in both dtypes; with targets of both values the BCE
    logs hit torch's clamp at -100 and its gradient floor."""
    config = ParityConfig(f="tanh", g="sigmoid", loss=loss, dtype=dtype, n_out=4, steps=5, lr=1e-3)
    net = with_output_bias(config, [800.0, -800.0, 60.0, -60.0])
    report = run_parity(config, reference=net)
    y_hat = net.cache.y_hat
    assert (y_hat[:, 0] == 1).all() and (y_hat[:, 1] == 0).all(), "the case must really saturate"
    assert_parity(report)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_large_logits_through_softmax_match_torch(dtype):
    config = ParityConfig(f="relu", g="softmax", loss="ce", reduction="mean", dtype=dtype, steps=5)
    net = with_output_bias(config, [1000.0, -1000.0, 999.0])
    report = run_parity(config, reference=net)
    assert np.abs(net.cache.z2).max() > 900, "the case must produce logits far past exp's range"
    assert_parity(report)


def test_float32_drift_is_rounding_not_a_bug():
    """At lr 0.05 the SGD dynamics amplify float32 rounding: the free runs leave torch.testing's
    float32 tolerance after some tens of steps. Resynchronising the twin each step shows every
    single step is still within it, so what grew was drift."""
    config = ParityConfig(n_in=5, n_hidden=7, n_out=3, batch=8, f="leaky_relu", g="leaky_relu", loss="mse",
                          dtype="float32", steps=60, lr=0.05, negative_slope=0.1, resync="never")
    free = run_parity(config)
    step, comparison, _ = free.first_failure()
    assert step > 10 and comparison.max_abs < 1e-4
    float64 = run_parity(ParityConfig(**{**config.__dict__, "dtype": "float64"}))
    assert_parity(float64)
    assert_parity(run_parity(ParityConfig(**{**config.__dict__, "resync": "always"})))


# --- CUDA -------------------------------------------------------------------------------------------

@CUDA
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("f, g, loss, reduction", [("relu", "identity", "mse", "sum"), ("sigmoid", "sigmoid", "mse", "sum"),
                                                   ("sigmoid", "sigmoid", "bce", "sum"), ("tanh", "softmax", "ce", "mean")])
def test_the_cuda_twin_matches(f, g, loss, reduction, dtype):
    config = ParityConfig(f=f, g=g, loss=loss, reduction=reduction, dtype=dtype, device="cuda", steps=STEPS)
    assert_parity(run_parity(config))


@CUDA
def test_the_cuda_twin_matches_at_relu_zero():
    report = run_parity(ParityConfig(device="cuda", steps=1), reference=zero_pre_activation_net())
    assert_parity(report)
