"""Batch size: the mini-batch gradient's variance falls as 1/B, and the learning rate can grow with B.

A 4 -> 16 -> 1 tanh regression MLP (mse, mean) at fixed parameters: the full-batch gradient over
N = 4096 samples, and 200 mini-batches (drawn without replacement) per batch size B. The variance is
E ||g_B - g||^2 over all parameters; sampling theory gives sigma^2 / B * (N - B) / (N - 1), so the
log-log slope is -1 (the finite-population factor is under 7% at B = 256). Then the same task is
trained for 3 epochs at several B, with the learning rate scaled linearly with B and with it fixed.
"""
import numpy as np

from mlp_ref import MLP

N, D, HIDDEN = 4096, 4, 16
BATCHES = (1, 2, 4, 8, 16, 32, 64, 128, 256)
DRAWS = 200
TRAIN_BATCHES, BASE_LR, BASE_B, EPOCHS = (8, 16, 32, 64, 128), 0.02, 8, 3
CLAIM = ("the mini-batch gradient's variance falls as 1/B (log-log slope near -1), so the learning rate can grow "
         "linearly with B: same epochs, same loss, while a fixed learning rate falls behind at large B")


def task(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, D))
    y = np.sin(x @ rng.standard_normal(D)) + 0.3 * rng.standard_normal(N)
    return x, y[:, None]


def gradient(net, x, y):
    net.loss(net.forward(x), y)
    net.zero_grad()
    net.backward()
    return np.concatenate([g.ravel() for g in net.grads.values()])


def train(x, y, batch, lr, seed=0):
    net = MLP(D, HIDDEN, 1, f="tanh", loss="mse", reduction="mean", seed=seed)
    rng = np.random.default_rng(seed + 1)
    for _ in range(EPOCHS):
        order = rng.permutation(N)
        for i in range(0, N, batch):
            gradient(net, x[order[i:i + batch]], y[order[i:i + batch]])
            net.step(lr)
    return net.loss(net.forward(x), y)


def measure(seed=0):
    x, y = task(seed)
    net = MLP(D, HIDDEN, 1, f="tanh", loss="mse", reduction="mean", seed=seed)
    full = gradient(net, x, y)
    rng = np.random.default_rng(seed + 2)
    variance = []
    for b in BATCHES:
        draws = [gradient(net, x[idx], y[idx]) for idx in (rng.choice(N, b, replace=False) for _ in range(DRAWS))]
        variance.append(float(np.mean(np.sum((np.array(draws) - full) ** 2, axis=1))))
    training = [{"B": b, "scaled_lr": BASE_LR * b / BASE_B, "scaled_loss": train(x, y, b, BASE_LR * b / BASE_B, seed),
                 "fixed_loss": train(x, y, b, BASE_LR, seed)} for b in TRAIN_BATCHES]
    return {"batches": list(BATCHES), "variance": variance, "training": training}


def loglog_slope(batches, variance):
    return float(np.polyfit(np.log(batches), np.log(variance), 1)[0])


def check(numbers):
    slope = loglog_slope(numbers["batches"], numbers["variance"])
    scaled = [t["scaled_loss"] for t in numbers["training"]]
    fixed = [t["fixed_loss"] for t in numbers["training"]]
    spread_scaled, spread_fixed = max(scaled) / min(scaled), max(fixed) / min(fixed)
    because = (f"log-log slope {slope:.3f}; loss after {EPOCHS} epochs, B {TRAIN_BATCHES[0]}..{TRAIN_BATCHES[-1]}: "
               f"scaled lr {min(scaled):.4g}..{max(scaled):.4g} (spread x{spread_scaled:.3f}), fixed lr "
               f"{min(fixed):.4g}..{max(fixed):.4g} (x{spread_fixed:.3f})")
    return -1.2 <= slope <= -0.8 and spread_scaled < spread_fixed, because


def table(numbers):
    training = {t["B"]: t for t in numbers["training"]}
    header = ("B", "E||g_B - g||^2", "B * variance", "lr = 0.02 B/8", "loss (scaled lr)", "loss (lr 0.02)")
    rows = []
    for b, v in zip(numbers["batches"], numbers["variance"]):
        t = training.get(b)
        rows.append((b, v, b * v) + ((t["scaled_lr"], t["scaled_loss"], t["fixed_loss"]) if t else ("", "", "")))
    return header, rows


def plot(numbers, ax):
    b, v = np.array(numbers["batches"]), np.array(numbers["variance"])
    ax.loglog(b, v, "o-", label="measured")
    ax.loglog(b, v[0] / b, "--", label="1/B")
    ax.set(xlabel="batch size B", ylabel="E||g_B - g||^2", title="gradient variance vs batch size")
    ax.legend()
