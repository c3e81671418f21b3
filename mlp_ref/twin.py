"""The torch twin: the same MLP as nn.Sequential(Linear, f, Linear, g), trained by torch.optim.SGD.

Built from a reference MLP's parameters, on any device and dtype. Parameters cross between the two
only through copies (to_twin / from_twin), never shared memory: the reference updates its arrays in
place and must not move the twin's weights behind its back.
"""
import numpy as np
import torch
from torch import nn

from mlp_ref.model import PARAM_NAMES
from mlp_ref.validate import choice

LOSS_MODULES = {"mse": nn.MSELoss, "bce": nn.BCELoss, "ce": nn.CrossEntropyLoss}
TORCH_DTYPES = {"float64": torch.float64, "float32": torch.float32}


def activation_module(name, negative_slope=0.01):
    """torch's own module for an activation name of the reference."""
    modules = {"identity": nn.Identity, "relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh,
               "leaky_relu": lambda: nn.LeakyReLU(negative_slope), "softmax": lambda: nn.Softmax(dim=1)}
    return modules[choice("activation", name, tuple(modules))]()


def resolve_device(device):
    """A torch.device, with a clear error when CUDA is asked for and absent."""
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device: {device} requested, but torch.cuda.is_available() is False")
    return device


class TorchTwin:
    """The five stages of the reference, done by torch.nn and autograd.

    forward keeps z1, h, z2 and y_hat with retain_grad(), so backward also exposes dz1, dh, dz2, dy_hat.
    """

    def __init__(self, net, device="cpu"):
        self.device = resolve_device(device)
        self.dtype = TORCH_DTYPES[net.dtype]
        self.loss_name = net.loss_name
        self.model = nn.Sequential(
            nn.Linear(net.n_in, net.n_hidden), activation_module(net.f, net.negative_slope),
            nn.Linear(net.n_hidden, net.n_out), activation_module(net.g, net.negative_slope),
        ).to(device=self.device, dtype=self.dtype)
        self.loss_fn = LOSS_MODULES[net.loss_name](reduction=net.reduction)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.0)
        self.to_twin(net)
        self.inter = {}
        self._loss = None

    @property
    def tensors(self):
        """W1, b1, W2, b2 as the twin's own parameter tensors."""
        lin1, lin2 = self.model[0], self.model[2]
        return {"W1": lin1.weight, "b1": lin1.bias, "W2": lin2.weight, "b2": lin2.bias}

    def to_twin(self, net, grads=False):
        """Copy the reference's parameters (and with grads=True its gradients, into .grad) into the
        twin (a copy: no memory is shared)."""
        with torch.no_grad():
            for name, p in self.tensors.items():
                p.copy_(torch.tensor(net.params[name], dtype=self.dtype, device=self.device))
                if grads:
                    p.grad = torch.tensor(net.grads[name], dtype=self.dtype, device=self.device)
        return self

    def from_twin(self, net):
        """Copy the twin's parameters into the reference (a copy), through net.set_params."""
        net.set_params(self.params())
        return net

    def params(self):
        """The twin's parameters as new numpy arrays on the host."""
        return {name: p.detach().cpu().numpy().copy() for name, p in self.tensors.items()}

    def grads(self):
        """The twin's .grad as numpy arrays (zeros where torch holds None, as after zero_grad)."""
        return {name: np.zeros(tuple(p.shape), dtype=str(self.dtype).replace("torch.", ""))
                if p.grad is None else p.grad.detach().cpu().numpy().copy()
                for name, p in self.tensors.items()}

    def tensor(self, array):
        return torch.tensor(array, device=self.device)

    def forward(self, x):
        lin1, act1, lin2, act2 = self.model
        z1 = lin1(self.tensor(x) if isinstance(x, np.ndarray) else x)
        h = act1(z1)
        z2 = lin2(h)
        y_hat = act2(z2)
        for name, t in (("z1", z1), ("h", h), ("z2", z2), ("y_hat", y_hat)):
            t.retain_grad()
            self.inter[name] = t
        return y_hat

    def loss(self, y_hat, y):
        y = self.tensor(y) if isinstance(y, np.ndarray) else y
        # nn.CrossEntropyLoss takes logits: the twin hands it z2, never the softmax output.
        self._loss = self.loss_fn(self.inter["z2"] if self.loss_name == "ce" else y_hat, y)
        return self._loss

    def zero_grad(self):
        self.optimizer.zero_grad()

    def backward(self):
        self._loss.backward()
        return {"dy_hat": None if self.loss_name == "ce" else self.inter["y_hat"].grad,
                "dz2": self.inter["z2"].grad, "dh": self.inter["h"].grad, "dz1": self.inter["z1"].grad}

    def step(self, lr):
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.optimizer.step()
