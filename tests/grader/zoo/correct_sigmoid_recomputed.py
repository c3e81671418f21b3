"""Correct: forward caches only pre-activations; backward recomputes sigmoid from z, written by hand.

sigmoid(z) = 1 / (1 + exp(-z)) for z >= 0 and exp(z) / (1 + exp(z)) below, so exp never overflows.
Shapes: x (N, D), W1 (H, D), b1 (H,), W2 (K, H), b2 (K,), y_hat (N, K).
"""
import torch


def sigmoid(z):
    e = torch.exp(-z.abs())
    return torch.where(z >= 0, 1 / (1 + e), e / (1 + e))


def f(name, z):
    if name == "relu":
        return torch.maximum(z, torch.zeros_like(z))
    if name == "sigmoid":
        return sigmoid(z)
    return z


def df(name, z):
    if name == "relu":
        return (z > 0).to(z.dtype)
    if name == "sigmoid":
        return sigmoid(z) * (1 - sigmoid(z))
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
        z1 = x @ p["W1"].T + p["b1"]
        z2 = f(self.f_function, z1) @ p["W2"].T + p["b2"]
        self.cache = dict(x=x, z1=z1, z2=z2)
        return f(self.g_function, z2)

    def backward(self, dJdy_hat):
        c, p = self.cache, self.parameters
        h = f(self.f_function, c["z1"])
        dJdz2 = dJdy_hat * df(self.g_function, c["z2"])
        dJdz1 = (dJdz2 @ p["W2"]) * df(self.f_function, c["z1"])
        self.grads = dict(dJdW2=dJdz2.T @ h, dJdb2=dJdz2.sum(0), dJdW1=dJdz1.T @ c["x"], dJdb1=dJdz1.sum(0))

    def clear_grad_and_cache(self):
        self.grads, self.cache = {}, {}


def mse_loss(y, y_hat):
    e = y_hat - y
    return (e ** 2).sum() / e.numel(), 2 * e / e.numel()


def bce_loss(y, y_hat):
    J = -(y * y_hat.log().clamp(min=-100) + (1 - y) * (1 - y_hat).log().clamp(min=-100)).mean()
    return J, (y_hat - y) / (y_hat * (1 - y_hat)).clamp(min=1e-12) / y_hat.numel()
