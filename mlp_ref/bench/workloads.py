"""What is timed: one SGD step of the reference and of torch eager, on the sizes the ratio goals are set for.

One step = forward, loss, zero grads, backward, SGD update; Linear -> ReLU -> Linear, MSE mean.
The torch step is the twin's own modules (nn.Sequential, nn.MSELoss, optim.SGD) run the way a
torch user writes it, on tensors made once: no retain_grad and no numpy conversion, which are the
parity engine's instrumentation, not torch's cost.
"""
from typing import NamedTuple

import numpy as np

LR = 1e-3


class Size(NamedTuple):
    name: str
    N: int
    D: int
    H: int
    K: int

    @property
    def label(self):
        return f"{self.name} ({self.N}, {self.D}->{self.H}->{self.K})"


SIZES = {s.name: s for s in (
    Size("tiny", 1, 2, 3, 2),
    Size("small", 64, 784, 128, 10),
    Size("medium", 256, 784, 512, 10),
    Size("large", 1024, 1024, 1024, 1024),
)}
DTYPES = ("float32", "float64")


def step_flops(size):
    """GEMM flops of one step: z1, z2 forward; dh, dW2, dW1 backward (no dx: x is data)."""
    N, D, H, K = size.N, size.D, size.H, size.K
    return 2 * N * D * H + 2 * N * H * K + 2 * N * K * H + 2 * K * N * H + 2 * H * N * D


def data(size, dtype, seed=0):
    """x (N, D) and y (N, K) of the given dtype, drawn in float64 and cast."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((size.N, size.D)).astype(dtype),
            rng.standard_normal((size.N, size.K)).astype(dtype))


def numpy_model(size, dtype):
    from mlp_ref import MLP
    return MLP(size.D, size.H, size.K, f="relu", g="identity", loss="mse", reduction="mean", dtype=dtype)


def numpy_step(size, dtype):
    """A zero-argument function running one full step of the reference."""
    net, (x, y) = numpy_model(size, dtype), data(size, dtype)

    def step():
        y_hat = net.forward(x)
        net.loss(y_hat, y)
        net.zero_grad()
        net.backward()
        net.step(LR)
    step.net = net  # for a test to check what the timed steps did
    return step


def numpy_stages(size, dtype):
    """(net, {stage: zero-argument function}) for the five stages, each timed alone on net mid-step.

    backward consumes the loss's gradient (once, as in torch); its function re-arms the model's
    cached dL/dy_hat (a copy of the model's own) so that backward alone is timed, not the loss.
    """
    net, (x, y) = numpy_model(size, dtype), data(size, dtype)
    net.loss(net.forward(x), y)
    dloss = net._dloss.copy()

    def backward():
        net._dloss = dloss
        net.backward()

    return net, {"forward": lambda: net.forward(x), "loss": lambda: net.loss(net.cache.y_hat, y),
            "zero_grad": net.zero_grad, "backward": backward, "step": lambda: net.step(LR)}


def torch_step(size, dtype, device="cpu"):
    """A zero-argument function running one full torch eager step; synchronises on CUDA."""
    import torch

    from mlp_ref.twin import TorchTwin

    twin = TorchTwin(numpy_model(size, dtype), device=device)
    model, loss_fn, opt = twin.model, twin.loss_fn, twin.optimizer
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
    """The step's five GEMMs alone, same shapes, transposes and call (np.dot) as the step, into preallocated outputs."""
    N, D, H, K = size.N, size.D, size.H, size.K
    rng = np.random.default_rng(0)
    x, W1, W2 = (rng.standard_normal(s).astype(dtype) for s in ((N, D), (H, D), (K, H)))
    h, dz2, dz1 = (rng.standard_normal(s).astype(dtype) for s in ((N, H), (N, K), (N, H)))
    z1, z2, dh, dW2, dW1 = (np.empty(s, dtype) for s in ((N, H), (N, K), (N, H), (K, H), (H, D)))

    def gemms():
        np.dot(x, W1.T, out=z1)
        np.dot(h, W2.T, out=z2)
        np.dot(dz2, W2, out=dh)
        np.dot(dz2.T, h, out=dW2)
        np.dot(dz1.T, x, out=dW1)
    return gemms


SIDES = {"numpy": numpy_step, "torch": torch_step, "gemm": gemm_only}
