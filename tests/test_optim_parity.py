"""Every optimizer of mlp_ref.optim against torch.optim, step for step in float64: every layer's
forward and backward, every parameter and every state buffer (momentum_buffer, exp_avg, exp_avg_sq,
max_exp_avg_sq, square_avg, grad_avg), at parity's float64 tolerance, on 1, 2 and 4 hidden layers
with each hidden activation."""
import pytest

from mlp_ref.functional import HIDDEN_ACTIVATIONS
from mlp_ref.parity import ParityConfig, run_parity

STEPS = 50
DEPTHS = ([7], [7, 6], [6, 5, 7, 4])
ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu")
# Two settings per optimizer, alternated over the activations, so every flag meets every depth.
SETTINGS = {
    "sgd": [dict(lr=0.01, momentum=0.9, nesterov=True, weight_decay=0.01),
            dict(lr=0.01, momentum=0.5, dampening=0.2)],
    "adam": [dict(lr=0.005), dict(lr=0.005, amsgrad=True, weight_decay=0.1, betas=(0.8, 0.99))],
    "adamw": [dict(lr=0.005), dict(lr=0.005, amsgrad=True, weight_decay=0.1, eps=1e-6)],
    "rmsprop": [dict(lr=0.002), dict(lr=0.002, centered=True, momentum=0.9, weight_decay=0.01, alpha=0.9)],
}
# Both losses the reference trains most, all three, both reductions: alternated over depth x activation.
TASKS = [dict(g="identity", loss="mse", reduction="sum"), dict(g="identity", loss="mse", reduction="mean"),
         dict(g="sigmoid", loss="bce", reduction="sum"), dict(g="softmax", loss="ce", reduction="mean")]


def cases():
    for optim, settings in SETTINGS.items():
        for d, hidden in enumerate(DEPTHS):
            for a, f in enumerate(ACTIVATIONS):
                yield pytest.param(optim, hidden, f, settings[a % 2], TASKS[(d + a) % len(TASKS)],
                                   id=f"{optim}-{len(hidden)}x-{f}-{a % 2}")


def test_the_matrix_covers_every_activation_loss_and_reduction():
    assert set(ACTIVATIONS) == set(HIDDEN_ACTIVATIONS) - {"identity"}
    covered = {(optim, t["loss"], t["reduction"]) for optim, _, _, _, t in (c.values for c in cases())}
    assert {(o, "mse", r) for o in SETTINGS for r in ("sum", "mean")} <= covered
    assert {(o, loss) for o in SETTINGS for loss in ("bce", "ce")} <= {(o, loss) for o, loss, _ in covered}


@pytest.mark.parametrize("optim, hidden, f, setting, task", list(cases()))
def test_the_optimizer_matches_torch_for_50_steps(optim, hidden, f, setting, task):
    config = ParityConfig(n_in=5, n_hidden=hidden, n_out=3, batch=8, f=f, dtype="float64", steps=STEPS,
                          optim=optim, negative_slope=0.1, **task, **setting)
    report = run_parity(config)
    assert report.ok, report.failure_message()
    assert len(report.steps) == STEPS
    names = {c.name for c in report.steps[-1].comparisons}
    buffers = {"sgd": ["momentum_buffer"], "adam": ["exp_avg", "exp_avg_sq"], "adamw": ["exp_avg", "exp_avg_sq"],
               "rmsprop": ["square_avg"]}[optim]
    buffers += ["max_exp_avg_sq"] if setting.get("amsgrad") else []
    buffers += ["grad_avg", "momentum_buffer"] if setting.get("centered") else []
    layers = len(hidden) + 1
    assert {f"{b}[{p}{l}]" for b in buffers for p in "Wb" for l in range(1, layers + 1)} <= names
    assert {f"z{l}" for l in range(1, layers + 1)} | {f"dW{layers}", "dW1", "y_hat"} <= names


@pytest.mark.parametrize("optim", list(SETTINGS))
def test_float32_resynced_each_step_matches_at_torch_testings_tolerance(optim):
    """float32 trajectories drift apart as rounding compounds (see tolerances.py); resynced, the
    twin gets the reference's parameters and state buffers each step, and each step is judged alone."""
    config = ParityConfig(n_in=5, n_hidden=[7, 6, 5], n_out=3, batch=8, f="tanh", dtype="float32", steps=30,
                          optim=optim, **SETTINGS[optim][1])
    assert config.resyncs
    report = run_parity(config)
    assert report.ok, report.failure_message()


@pytest.mark.parametrize("optim, setting", [("adam", SETTINGS["adam"][1]), ("adamw", SETTINGS["adamw"][1]),
                                            ("rmsprop", SETTINGS["rmsprop"][0]), ("rmsprop", SETTINGS["rmsprop"][1]),
                                            (None, {})])
def test_the_blocked_update_matches_torch_across_block_edges(optim, setting, monkeypatch):
    """Adam, RMSprop and plain SGD (net.step) update block by block; blocks of 7 elements split every
    parameter and cut across the edges between them (the model has 5*6 + 6 + 6*4 + 4 + 4*3 + 3 = 79
    parameters)."""
    from mlp_ref import _packed
    monkeypatch.setattr(_packed, "BLOCK", 7)
    assert len(list(_packed.blocks(79))) == 12
    config = ParityConfig(n_in=5, n_hidden=[6, 4], n_out=3, batch=8, f="tanh", dtype="float64", steps=20,
                          **({"optim": optim} if optim else {}), **setting)
    report = run_parity(config)
    assert report.ok, report.failure_message()
