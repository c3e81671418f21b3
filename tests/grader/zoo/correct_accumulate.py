"""Correct: backward accumulates with += into gradient buffers, and clear_grad_and_cache zeroes them.

As torch adds into .grad, backward adds; the assignment clears between steps, so each step's grads
are that step's alone. The buffers are made like the parameters (zeros_like), so they follow the dtype.
Shapes: x (N, D), W1 (H, D), b1 (H,), W2 (K, H), b2 (K,), y_hat (N, K).
"""
import torch


def act(name, z):
    if name == "relu":
        return z * (z > 0)
    if name == "sigmoid":
        return torch.sigmoid(z)
    return z.clone()


def act_grad(name, z):
    if name == "relu":
        return (z > 0).to(z.dtype)
    if name == "sigmoid":
        s = torch.sigmoid(z)
        return s - s * s
    return torch.ones_like(z)


class MLP:
    def __init__(self, linear_1_in_features, linear_1_out_features, f_function,
                 linear_2_in_features, linear_2_out_features, g_function):
        self.f_function, self.g_function = f_function, g_function
        self.parameters = dict(W1=torch.randn(linear_1_out_features, linear_1_in_features),
                               b1=torch.randn(linear_1_out_features),
                               W2=torch.randn(linear_2_out_features, linear_2_in_features),
                               b2=torch.randn(linear_2_out_features))
        self.clear_grad_and_cache()

    def forward(self, x):
        p = self.parameters
        z1 = x @ p["W1"].T + p["b1"]
        h = act(self.f_function, z1)
        z2 = h @ p["W2"].T + p["b2"]
        self.cache = dict(x=x, z1=z1, h=h, z2=z2)
        return act(self.g_function, z2)

    def backward(self, dJdy_hat):
        c, g = self.cache, self.grads
        dJdz2 = dJdy_hat * act_grad(self.g_function, c["z2"])
        dJdz1 = (dJdz2 @ self.parameters["W2"]) * act_grad(self.f_function, c["z1"])
        g["dJdW2"] += dJdz2.T @ c["h"]
        g["dJdb2"] += dJdz2.sum(0)
        g["dJdW1"] += dJdz1.T @ c["x"]
        g["dJdb1"] += dJdz1.sum(0)

    def clear_grad_and_cache(self):
        self.grads = {f"dJd{k}": torch.zeros_like(v) for k, v in self.parameters.items()}
        self.cache = {}


def mse_loss(y, y_hat):
    diff = y_hat - y
    return torch.mean(diff ** 2), 2.0 / diff.numel() * diff


def bce_loss(y, y_hat):
    logs = y * torch.clamp(torch.log(y_hat), min=-100) + (1 - y) * torch.clamp(torch.log(1 - y_hat), min=-100)
    return -torch.mean(logs), (y_hat - y) / torch.clamp(y_hat * (1 - y_hat), min=1e-12) / y_hat.numel()
