"""Correct: J from torch.nn.functional (F.mse_loss, F.binary_cross_entropy), dJdy_hat written by hand.

F.* only evaluates J here; no autograd runs (nothing requires grad). Shapes: x (N, D), W1 (H, D),
b1 (H,), W2 (K, H), b2 (K,), y_hat (N, K).
"""
import torch
import torch.nn.functional as F

ACT = {"relu": F.relu, "sigmoid": torch.sigmoid, "identity": lambda z: z}


def slope(name, z, out):
    if name == "relu":
        return (z > 0).to(z.dtype)
    if name == "sigmoid":
        return out * (1 - out)
    return torch.ones_like(z)


class MLP:
    def __init__(self, linear_1_in_features, linear_1_out_features, f_function,
                 linear_2_in_features, linear_2_out_features, g_function):
        self.f_function, self.g_function = f_function, g_function
        self.parameters = dict(W1=torch.randn(linear_1_out_features, linear_1_in_features),
                               b1=torch.randn(linear_1_out_features),
                               W2=torch.randn(linear_2_out_features, linear_2_in_features),
                               b2=torch.randn(linear_2_out_features))
        self.grads, self.cache = {}, {}

    def forward(self, x):
        p = self.parameters
        z1 = F.linear(x, p["W1"], p["b1"])
        h = ACT[self.f_function](z1)
        z2 = F.linear(h, p["W2"], p["b2"])
        y_hat = ACT[self.g_function](z2)
        self.cache = dict(x=x, z1=z1, h=h, z2=z2, y_hat=y_hat)
        return y_hat

    def backward(self, dJdy_hat):
        c, p = self.cache, self.parameters
        dJdz2 = dJdy_hat * slope(self.g_function, c["z2"], c["y_hat"])
        dJdz1 = (dJdz2 @ p["W2"]) * slope(self.f_function, c["z1"], c["h"])
        self.grads = dict(dJdW2=dJdz2.T @ c["h"], dJdb2=dJdz2.sum(0), dJdW1=dJdz1.T @ c["x"], dJdb1=dJdz1.sum(0))

    def clear_grad_and_cache(self):
        self.grads = {f"dJd{k}": torch.zeros_like(v) for k, v in self.parameters.items()}
        self.cache = {}


def mse_loss(y, y_hat):
    return F.mse_loss(y_hat, y), 2 * (y_hat - y) / y_hat.numel()


def bce_loss(y, y_hat):
    J = F.binary_cross_entropy(y_hat, y)
    dJdy_hat = (y_hat - y) / torch.clamp(y_hat * (1 - y_hat), min=1e-12) / y_hat.numel()
    return J, dJdy_hat
