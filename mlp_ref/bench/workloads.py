"""What is timed: one SGD step of the reference and of torch eager, on the sizes the ratio goals are set for.

One step = forward, loss, zero grads, backward, SGD update; Linear -> ReLU -> Linear, MSE mean (the
-bn sizes: Linear -> batch norm -> ReLU -> dropout 0.2 -> Linear, torch's own nn.Dropout drawing its mask).
The torch step is the twin's own modules (nn.Sequential, nn.MSELoss, optim.SGD) run the way a
torch user writes it, on tensors made once: no retain_grad and no numpy conversion, which are the
parity engine's instrumentation, not torch's cost.
"""
from typing import NamedTuple

import numpy as np

LR = 1e-3


class Size(NamedTuple):
    """depth hidden layers of width H; optim "sgd" or "adam"; norm None or "batch", dropout p."""
    name: str
    N: int
    D: int
    H: int
    K: int
    depth: int = 1
    optim: str = "sgd"
    norm: str = None
    dropout: float = 0.0

    @property
    def label(self):
        widths = "->".join([str(self.D)] + [str(self.H)] * self.depth + [str(self.K)])
        layers = (f", {self.norm} norm" if self.norm else "") + (f", dropout {self.dropout:g}" if self.dropout else "")
        return f"{self.name} ({self.N}, {widths}{', Adam' if self.optim == 'adam' else ''}{layers})"

    @property
    def hidden(self):
        return self.H if self.depth == 1 else [self.H] * self.depth


SIZES = {s.name: s for s in (
    Size("tiny", 1, 2, 3, 2),
    Size("small", 64, 784, 128, 10),
    Size("medium", 256, 784, 512, 10),
    Size("large", 1024, 1024, 1024, 1024),
    Size("deep", 256, 784, 512, 10, depth=3),
    Size("medium-adam", 256, 784, 512, 10, optim="adam"),
    Size("small-bn", 64, 784, 128, 10, norm="batch", dropout=0.2),
    Size("medium-bn", 256, 784, 512, 10, norm="batch", dropout=0.2),
)}
DTYPES = ("float32", "float64")


def widths(size):
    return [size.D] + [size.H] * size.depth + [size.K]


def step_flops(size):
    """GEMM flops of one step: each layer's z forward and dW backward, and dh of every layer but
    the first (no dx: x is data)."""
    layers = list(zip(widths(size), widths(size)[1:]))
    return sum(2 * size.N * a * b for a, b in layers) * 3 - 2 * size.N * size.D * size.H


def data(size, dtype, seed=0):
    """x (N, D) and y (N, K) of the given dtype, drawn in float64 and cast."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((size.N, size.D)).astype(dtype),
            rng.standard_normal((size.N, size.K)).astype(dtype))


def numpy_model(size, dtype):
    from mlp_ref import MLP
    return MLP(size.D, size.hidden, size.K, f="relu", g="identity", loss="mse", reduction="mean", dtype=dtype,
               norm=size.norm, dropout=size.dropout)


def numpy_optimizer(size, net):
    """mlp_ref.optim.Adam for an "adam" size; None: the model's own net.step(LR)."""
    from mlp_ref import optim
    return optim.Adam(net, lr=LR) if size.optim == "adam" else None


def numpy_step(size, dtype):
    """A zero-argument function running one full step of the reference."""
    net, (x, y) = numpy_model(size, dtype), data(size, dtype)
    opt = numpy_optimizer(size, net)
    update = opt.step if opt is not None else (lambda: net.step(LR))

    def step():
        y_hat = net.forward(x)
        net.loss(y_hat, y)
        net.zero_grad()
        net.backward()
        update()
    step.net = net  # for a test to check what the timed steps did
    return step


def numpy_stages(size, dtype):
    """(net, {stage: zero-argument function}) for the five stages, each timed alone on net mid-step.

    backward consumes the loss's gradient (once, as in torch); its function re-arms the model's
    cached dL/dy_hat (a copy of the model's own) so that backward alone is timed, not the loss.
    """
    net, (x, y) = numpy_model(size, dtype), data(size, dtype)
    opt = numpy_optimizer(size, net)
    net.loss(net.forward(x), y)
    dloss = net._dloss.copy()

    def backward():
        net._dloss = dloss
        net.backward()

    return net, {"forward": lambda: net.forward(x), "loss": lambda: net.loss(net.cache.y_hat, y),
            "zero_grad": net.zero_grad, "backward": backward,
            "step": opt.step if opt is not None else (lambda: net.step(LR))}


def torch_step(size, dtype, device="cpu"):
    """A zero-argument function running one full torch eager step; synchronises on CUDA."""
    import torch
    from torch import nn

    from mlp_ref.twin import MaskDropout, TorchTwin

    net = numpy_model(size, dtype)
    twin = TorchTwin(net, device=device, optimizer=numpy_optimizer(size, net))
    model, loss_fn, opt = twin.model, twin.loss_fn, twin.optimizer
    for i, module in enumerate(model):
        if isinstance(module, MaskDropout):  # a torch user's dropout draws its own mask
            model[i] = nn.Dropout(module.p)
    for group in opt.param_groups:
        group["lr"] = LR
    x, y = (torch.tensor(a, device=twin.device) for a in data(size, dtype))
    sync = torch.cuda.synchronize if twin.device.type == "cuda" else (lambda: None)

    def step():
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sync()
    step.twin = twin
    return step


JAX_MISSING = "jax not installed: pip install -e '.[bench]' (the optional extra) adds jax.jit as the third side"


def jax_available():
    """True when jax can be imported (the optional extra `bench`); its rows skip with JAX_MISSING otherwise."""
    from importlib.util import find_spec
    return find_spec("jax") is not None


def jax_step(size, dtype):
    """A zero-argument function running one full jax.jit step (CPU): forward, loss, gradients by
    jax.grad and the update, compiled whole, as a jax user writes it; waits for the result.

    The same model, initial parameters and data as the numpy step (taken from the reference's own
    model); the -bn sizes normalize with the batch's statistics, keep torch's running statistics and
    draw their dropout mask from jax.random inside the compiled step.
    """
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_platforms", "cpu")
    if dtype == "float64":
        jax.config.update("jax_enable_x64", True)
    net, (x_np, y_np) = numpy_model(size, dtype), data(size, dtype)
    L, eps, momentum, p = net.n_layers, net.norm_eps, net.norm_momentum, size.dropout
    params = {k: jnp.asarray(v) for k, v in net.params.items()}
    buffers = {k: jnp.asarray(v) for k, v in net.buffers.items()}
    x, y = jnp.asarray(x_np), jnp.asarray(y_np)

    def loss(params, buffers, key):
        h, new = x, {}
        for l in range(1, L + 1):
            z = h @ params[f"W{l}"].T + params[f"b{l}"]
            if l == L:
                return jnp.mean((z - y) ** 2), new
            if size.norm == "batch":
                mean, var = z.mean(axis=0), z.var(axis=0)
                n = z.shape[0]
                new[f"running_mean{l}"] = (1 - momentum) * buffers[f"running_mean{l}"] + momentum * mean
                new[f"running_var{l}"] = (1 - momentum) * buffers[f"running_var{l}"] + momentum * var * n / (n - 1)
                z = params[f"gamma{l}"] * (z - mean) / jnp.sqrt(var + eps) + params[f"beta{l}"]
            h = jnp.maximum(z, 0)
            if p:
                key, sub = jax.random.split(key)
                h = jnp.where(jax.random.bernoulli(sub, 1 - p, h.shape), h / (1 - p), 0)

    grad = jax.grad(loss, has_aux=True)

    if size.optim == "adam":
        b1, b2, adam_eps = 0.9, 0.999, 1e-8

        @jax.jit
        def step(state, buffers, key):
            params, m, v, t = state
            g, new = grad(params, buffers, key)
            t = t + 1
            m = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, m, g)
            v = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * g * g, v, g)
            params = jax.tree.map(
                lambda w, m, v: w - LR * (m / (1 - b1 ** t)) / (jnp.sqrt(v / (1 - b2 ** t)) + adam_eps), params, m, v)
            return (params, m, v, t), new
        zeros = jax.tree.map(jnp.zeros_like, params)
        state = [(params, zeros, zeros, jnp.asarray(0, dtype))]
    else:
        @jax.jit
        def step(params, buffers, key):
            g, new = grad(params, buffers, key)
            return jax.tree.map(lambda w, g: w - LR * g, params, g), new
        state = [params]
    keys = [jax.random.key(0), buffers]

    def run():
        keys[0], sub = jax.random.split(keys[0]) if p else (keys[0], keys[0])
        state[0], new = step(state[0], keys[1], sub)
        keys[1] = {**keys[1], **new}
        jax.block_until_ready(state[0])
    run.params = lambda: {k: np.asarray(v) for k, v in (state[0][0] if size.optim == "adam" else state[0]).items()}
    return run


def gemm_only(size, dtype):
    """The step's GEMMs alone, same shapes, transposes and call (np.dot) as the step, into preallocated outputs."""
    rng = np.random.default_rng(0)
    calls = []
    for l, (a, b) in enumerate(zip(widths(size), widths(size)[1:])):
        h, W, dz = (rng.standard_normal(s).astype(dtype) for s in ((size.N, a), (b, a), (size.N, b)))
        z, dW, dh = np.empty((size.N, b), dtype), np.empty((b, a), dtype), np.empty((size.N, a), dtype)
        calls += [(h, W.T, z), (dz.T, h, dW)] + ([(dz, W, dh)] if l > 0 else [])

    def gemms():
        for a, b, out in calls:
            np.dot(a, b, out=out)
    return gemms


def is_plain(size):
    """One hidden layer, SGD, no norm or dropout: the sizes bare_step covers."""
    return size.depth == 1 and size.optim == "sgd" and not size.norm and not size.dropout


def bare_step(size, dtype):
    """The fewest NumPy calls one plain step can make: the reference's model, data and math, every
    buffer preallocated and written with out=, and no check of any kind (17 calls, no Python layers).
    Not a model anyone should use: a floor. When this step alone misses a ratio goal, no NumPy step
    that checks its inputs can meet it. Plain sizes only (one hidden layer, SGD, no norm/dropout)."""
    if not is_plain(size):
        raise ValueError(f"bare_step: plain sizes only (one hidden layer, SGD, no norm or dropout), got {size.label}")
    net, (x, y) = numpy_model(size, dtype), data(size, dtype)
    p, g = (np.concatenate([a.ravel() for a in arrays.values()]) for arrays in (net.params, net.grads))
    u = np.empty_like(p)
    (W1, b1, W2, b2), (dW1, db1, dW2, db2) = (net.unpack(flat).values() for flat in (p, g))
    W1T, W2T = W1.T, W2.T
    N, H, K = size.N, size.H, size.K
    z1, h, dh, keep = (np.empty((N, H), dtype) for _ in range(4))
    y_hat, dz2 = np.empty((N, K), dtype), np.empty((N, K), dtype)
    dz2T, dhT, scale = dz2.T, dh.T, 2.0 / (N * K)

    def step():
        np.dot(x, W1T, out=z1)
        np.add(z1, b1, out=z1)
        np.maximum(z1, 0, out=h)
        np.dot(h, W2T, out=y_hat)
        np.add(y_hat, b2, out=y_hat)
        np.subtract(y_hat, y, out=dz2)
        loss = np.vdot(dz2, dz2) / dz2.size  # MSE mean
        np.multiply(dz2, scale, out=dz2)
        np.dot(dz2T, h, out=dW2)  # grads are written, not accumulated: zero_grad's pass is saved too
        np.add.reduce(dz2, axis=0, out=db2)
        np.dot(dz2, W2, out=dh)
        np.greater(z1, 0, out=keep)
        np.multiply(dh, keep, out=dh)
        np.dot(dhT, x, out=dW1)
        np.add.reduce(dh, axis=0, out=db1)
        np.multiply(g, LR, out=u)
        np.subtract(p, u, out=p)
        return loss
    step.params = lambda: {k: v.copy() for k, v in net.unpack(p).items()}
    return step


SIDES = {"numpy": numpy_step, "torch": torch_step, "jax": jax_step, "gemm": gemm_only, "bare": bare_step}
