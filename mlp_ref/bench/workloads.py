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


SIDES = {"numpy": numpy_step, "torch": torch_step, "gemm": gemm_only}
