"""The torch twin: the same MLP as nn.Sequential(Linear, f, ..., Linear, g), trained by torch.optim.

With norm and dropout each hidden layer is Linear, nn.BatchNorm1d or nn.LayerNorm (the reference's
eps, momentum, gamma, beta and running statistics), f, and a dropout that applies the reference's own
mask (torch's dropout arithmetic, input * (mask / (1 - p)), on a mask it is handed, not drawn).

Built from a reference MLP's parameters (and, optionally, from an mlp_ref.optim optimizer, whose
class and hyperparameters pick the matching torch.optim one), on any device and dtype. Parameters
cross between the two only through copies (to_twin / from_twin), never shared memory: the reference
updates its arrays in place and must not move the twin's weights behind its back.
"""
import numpy as np
import torch
from torch import nn

from mlp_ref import vjp
from mlp_ref.functional import ACTIVATIONS
from mlp_ref.validate import choice

LOSS_MODULES = {"mse": nn.MSELoss, "bce": nn.BCELoss, "ce": nn.CrossEntropyLoss}
TORCH_DTYPES = {"float64": torch.float64, "float32": torch.float32}
TORCH_OPTIMIZERS = {"SGD": torch.optim.SGD, "Adam": torch.optim.Adam, "AdamW": torch.optim.AdamW,
                    "RMSprop": torch.optim.RMSprop}


def activation_module(name, negative_slope=0.01):
    """torch's own module for an activation name of the reference (functional.ACTIVATIONS names it)."""
    module = getattr(nn, ACTIVATIONS[choice("activation", name, tuple(ACTIVATIONS))].torch_module)
    # The two modules with a setting: the slope as the reference's, softmax along each row.
    kwargs = {"LeakyReLU": {"negative_slope": negative_slope}, "Softmax": {"dim": 1}}.get(module.__name__, {})
    return module(**kwargs)


class MaskDropout(nn.Module):
    """Inverted dropout on a given keep mask (set .mask before each training forward); identity in eval."""

    def __init__(self, p):
        super().__init__()
        self.p, self.mask = p, None

    def forward(self, x):
        if not self.training:
            return x
        if self.mask is None:
            raise ValueError("mask: the twin's dropout applies the reference's mask; none was given")
        return x * (self.mask / (1 - self.p))


def norm_module(net, width):
    """nn.BatchNorm1d or nn.LayerNorm with the reference's eps (and momentum)."""
    if net.norm == "batch":
        return nn.BatchNorm1d(width, eps=net.norm_eps, momentum=net.norm_momentum)
    return nn.LayerNorm(width, eps=net.norm_eps)


def resolve_device(device):
    """A torch.device, with a clear error when CUDA is asked for and absent."""
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device: {device} requested, but torch.cuda.is_available() is False")
    return device


def torch_optimizer(optimizer):
    """The torch.optim class an mlp_ref.optim optimizer (or a subclass of one) mirrors."""
    for cls in type(optimizer).__mro__:
        if cls.__name__ in TORCH_OPTIMIZERS:
            return TORCH_OPTIMIZERS[cls.__name__]
    raise TypeError(f"optimizer: expected an mlp_ref.optim optimizer, got {type(optimizer).__name__}")


class TorchTwin:
    """The five stages of the reference, done by torch.nn, autograd and torch.optim.

    forward keeps every intermediate (z1, h.., y_hat, named as the reference names them) with
    retain_grad(), so backward also exposes their gradients (dz_L, dh.., dz1, dy_hat).
    optimizer: an mlp_ref.optim optimizer to mirror; None: torch.optim.SGD with the lr given to step.
    """

    def __init__(self, net, device="cpu", optimizer=None):
        self.device = resolve_device(device)
        self.dtype = TORCH_DTYPES[net.dtype]
        self.loss_name = net.loss_name
        self.forward_names, self.backward_names = net.forward_names, net.backward_names
        self.norm, self.dropout = getattr(net, "norm", None), getattr(net, "dropout", 0.0)
        self.buffer_names = getattr(net, "buffer_names", ())
        layers = []
        self._linears, self._norms, self._drops = [], [], []
        for l, (fan_in, fan_out) in enumerate(zip(net.sizes, net.sizes[1:]), start=1):
            hidden = l < net.n_layers
            layers.append(nn.Linear(fan_in, fan_out))
            self._linears.append(layers[-1])
            if hidden and self.norm:
                layers.append(norm_module(net, fan_out))
                self._norms.append(layers[-1])
            layers.append(activation_module(net.f if hidden else net.g, net.negative_slope))
            if hidden and self.dropout:
                layers.append(MaskDropout(self.dropout))
                self._drops.append(layers[-1])
        self.model = nn.Sequential(*layers).to(device=self.device, dtype=self.dtype)
        self.model.train(getattr(net, "training", True))
        self.loss_fn = LOSS_MODULES[net.loss_name](reduction=net.reduction)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.0) if optimizer is None else \
            torch_optimizer(optimizer)(self.model.parameters(), **optimizer.hyper)
        self.to_twin(net)
        self.inter = {}
        self._loss = None

    @property
    def tensors(self):
        """W1, b1, ..., WL, bL as the twin's own parameter tensors."""
        out = {}
        for l, linear in enumerate(self._linears, start=1):
            out[f"W{l}"], out[f"b{l}"] = linear.weight, linear.bias
            if l <= len(self._norms):
                out[f"gamma{l}"], out[f"beta{l}"] = self._norms[l - 1].weight, self._norms[l - 1].bias
        return out

    @property
    def buffer_tensors(self):
        """running_mean1, running_var1, .. as the twin's nn.BatchNorm1d buffers (batch norm only)."""
        out = {}
        if self.norm == "batch":
            for l, bn in enumerate(self._norms, start=1):
                out[f"running_mean{l}"], out[f"running_var{l}"] = bn.running_mean, bn.running_var
        return out

    def buffers(self):
        """The running statistics as new numpy arrays on the host."""
        return {name: b.detach().cpu().numpy().copy() for name, b in self.buffer_tensors.items()}

    def train(self, mode=True):
        self.model.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def to_twin(self, net, grads=False, names=None):
        """Copy the reference's parameters and running statistics (and with grads=True its gradients,
        into .grad) into the twin (a copy: no memory is shared). names: only these parameters."""
        with torch.no_grad():
            for name, p in self.tensors.items():
                if names is not None and name not in names:
                    continue
                p.copy_(torch.tensor(net.params[name], dtype=self.dtype, device=self.device))
                if grads:
                    p.grad = torch.tensor(net.grads[name], dtype=self.dtype, device=self.device)
            if names is None:
                for name, b in self.buffer_tensors.items():
                    b.copy_(torch.tensor(net.buffers[name], dtype=self.dtype, device=self.device))
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

    def state(self):
        """torch.optim's state per parameter name: {name: {buffer: numpy array}} (buffers only)."""
        out = {}
        for name, p in self.tensors.items():
            s = self.optimizer.state.get(p, {})
            out[name] = {k: v.detach().cpu().numpy().copy() for k, v in s.items()
                         if isinstance(v, torch.Tensor) and k != "step"}
        return out

    def load_state(self, optimizer, names=None):
        """Copy an mlp_ref.optim optimizer's state buffers into torch.optim's (a copy); names: only these."""
        state = optimizer.state  # built anew (views of the packed buffers) at every read
        with torch.no_grad():
            for name, p in self.tensors.items():
                if names is not None and name not in names:
                    continue
                for key, value in state.get(name, {}).items():
                    if isinstance(value, np.ndarray) and key in self.optimizer.state.get(p, {}):
                        self.optimizer.state[p][key].copy_(self.tensor(value))
        return self

    def tensor(self, array):
        return torch.tensor(array, device=self.device)

    def forward(self, x, masks=None):
        """y_hat, keeping z1, h.., y_hat (the reference's names) in self.inter with retain_grad().
        masks: {mask_l: 0/1 array}, the reference's dropout masks for a training forward."""
        out = self.tensor(x) if isinstance(x, np.ndarray) else x
        for l, drop in enumerate(self._drops, start=1):
            mask = None if masks is None or masks.get(f"mask{l}") is None else masks[f"mask{l}"]
            drop.mask = None if mask is None else self.tensor(mask).to(self.dtype)
        self.inter = {}
        for name, module in zip(self.forward_names, self.model):
            out = module(out)
            out.retain_grad()
            self.inter[name] = out
        return out

    def loss(self, y_hat, y):
        y = self.tensor(y) if isinstance(y, np.ndarray) else y
        # nn.CrossEntropyLoss takes logits: the twin hands it z_L, never the softmax output.
        self._loss = self.loss_fn(self.inter[self.forward_names[-2]] if self.loss_name == "ce" else y_hat, y)
        return self._loss

    def zero_grad(self):
        self.optimizer.zero_grad()

    def backward(self, dout=None):
        """Backpropagate the loss, or, given dout = dL/dy_hat (N, K), y_hat itself; gradients
        ADD into .grad, as always in torch.

        Returns the intermediate gradients (dy_hat, dz_L, ..., dz1; dy_hat None for ce from the
        loss) followed by the parameter gradients dW1, db1, ..., dWL, dbL, as tensors.
        """
        if dout is None:
            self._loss.backward()
        else:
            y_hat = self.inter["y_hat"]
            vjp.backward(y_hat, dout if isinstance(dout, torch.Tensor) else self.tensor(dout).to(y_hat.dtype))
        out = {name: self.inter[name[1:]].grad for name in self.backward_names}
        if dout is None and self.loss_name == "ce":
            out["dy_hat"] = None
        out.update({f"d{name}": p.grad for name, p in self.tensors.items()})
        return out

    def step(self, lr=None):
        """torch.optim's step; lr, when given, first replaces the learning rate (plain SGD's net.step(lr))."""
        if lr is not None:
            for group in self.optimizer.param_groups:
                group["lr"] = lr
        self.optimizer.step()
