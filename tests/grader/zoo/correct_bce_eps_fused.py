"""Correct: eps = 1e-8 in BCE's logs and in the fused gradient's denominator y_hat (1 - y_hat) + eps.

F.linear forward; the eps moves dJdy_hat by eps / (y_hat (1 - y_hat)) relative, inside the policy's 1e-7.
"""
import torch
import torch.nn.functional as F

EPS = 1e-8


class MLP:
    def __init__(self, linear_1_in_features, linear_1_out_features, f_function,
                 linear_2_in_features, linear_2_out_features, g_function):
        self.f_function = f_function
        self.g_function = g_function
        self.parameters = dict(
            W1=torch.randn(linear_1_out_features, linear_1_in_features),
            b1=torch.randn(linear_1_out_features),
            W2=torch.randn(linear_2_out_features, linear_2_in_features),
            b2=torch.randn(linear_2_out_features),
        )
        self.grads = dict(
            dJdW1=torch.zeros(linear_1_out_features, linear_1_in_features),
            dJdb1=torch.zeros(linear_1_out_features),
            dJdW2=torch.zeros(linear_2_out_features, linear_2_in_features),
            dJdb2=torch.zeros(linear_2_out_features),
        )
        self.cache = dict()

    def forward(self, x):
        W1, b1, W2, b2 = (self.parameters[k] for k in ("W1", "b1", "W2", "b2"))
        z1 = F.linear(x, W1, b1)          # x W1^T + b1 (no autograd needed here)
        a1 = {"relu": F.relu, "sigmoid": torch.sigmoid, "identity": lambda t: t}[self.f_function](z1)
        z2 = F.linear(a1, W2, b2)
        a2 = {"relu": F.relu, "sigmoid": torch.sigmoid, "identity": lambda t: t}[self.g_function](z2)
        self.cache = {"x": x, "z1": z1, "a1": a1, "z2": z2, "a2": a2}
        return a2

    @staticmethod
    def _grad(name, z, a):
        if name == "relu":
            return torch.gt(z, 0).to(z.dtype)
        if name == "sigmoid":
            return a * (1.0 - a)
        return torch.ones_like(z)

    def backward(self, dJdy_hat):
        c = self.cache
        delta2 = dJdy_hat * self._grad(self.g_function, c["z2"], c["a2"])
        delta1 = (delta2 @ self.parameters["W2"]) * self._grad(self.f_function, c["z1"], c["a1"])
        self.grads["dJdW2"] = delta2.T @ c["a1"]
        self.grads["dJdb2"] = delta2.sum(axis=0)
        self.grads["dJdW1"] = delta1.T @ c["x"]
        self.grads["dJdb1"] = delta1.sum(axis=0)

    def clear_grad_and_cache(self):
        for name in self.grads:
            self.grads[name] = torch.zeros_like(self.parameters[name[3:]])
        self.cache = dict()


def mse_loss(y, y_hat):
    J = F.mse_loss(y_hat, y)  # forward value only, gradient by hand below
    dJdy_hat = 2 * (y_hat - y) / y.numel()
    return J, dJdy_hat


def bce_loss(y, y_hat):
    n = y.numel()
    J = -(y * torch.log(y_hat + EPS) + (1 - y) * torch.log(1 - y_hat + EPS)).sum() / n
    dJdy_hat = (y_hat - y) / (y_hat * (1 - y_hat) + EPS) / n
    return J, dJdy_hat
