"""Correct: BCE on y_hat clamped to [1e-7, 1 - 1e-7], Keras's epsilon, then the plain formulas.

The clamp changes nothing unless y_hat is within 1e-7 of 0 or 1 (saturated outputs, reported in
robustness only). Shapes: x (N, D), W1 (H, D), b1 (H,), W2 (K, H), b2 (K,), y_hat (N, K).
"""
import torch

KERAS_EPSILON = 1e-7


class MLP:
    def __init__(self, linear_1_in_features, linear_1_out_features, f_function,
                 linear_2_in_features, linear_2_out_features, g_function):
        self.f_function, self.g_function = f_function, g_function
        self.parameters = dict(W1=torch.randn(linear_1_out_features, linear_1_in_features),
                               b1=torch.randn(linear_1_out_features),
                               W2=torch.randn(linear_2_out_features, linear_2_in_features),
                               b2=torch.randn(linear_2_out_features))
        self.grads, self.cache = {}, {}

    @staticmethod
    def _f(name, z):
        if name == "relu":
            return z.clamp(min=0)
        if name == "sigmoid":
            return 1 / (1 + torch.exp(-z))
        return z

    @staticmethod
    def _df(name, z, out):
        if name == "relu":
            return torch.where(z > 0, torch.ones_like(z), torch.zeros_like(z))
        if name == "sigmoid":
            return out * (1 - out)
        return torch.ones_like(z)

    def forward(self, x):
        p = self.parameters
        z1 = torch.addmm(p["b1"], x, p["W1"].T)
        h = self._f(self.f_function, z1)
        z2 = torch.addmm(p["b2"], h, p["W2"].T)
        y_hat = self._f(self.g_function, z2)
        self.cache = dict(x=x, z1=z1, h=h, z2=z2, y_hat=y_hat)
        return y_hat

    def backward(self, dJdy_hat):
        c, p = self.cache, self.parameters
        dJdz2 = dJdy_hat * self._df(self.g_function, c["z2"], c["y_hat"])
        dJdz1 = (dJdz2 @ p["W2"]) * self._df(self.f_function, c["z1"], c["h"])
        self.grads = dict(dJdW2=dJdz2.T @ c["h"], dJdb2=dJdz2.sum(0), dJdW1=dJdz1.T @ c["x"], dJdb1=dJdz1.sum(0))

    def clear_grad_and_cache(self):
        self.grads, self.cache = {}, {}


def mse_loss(y, y_hat):
    diff = y_hat - y
    return diff.pow(2).mean(), 2 * diff / diff.numel()


def bce_loss(y, y_hat):
    p = y_hat.clamp(KERAS_EPSILON, 1 - KERAS_EPSILON)
    J = -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()
    dJdy_hat = (p - y) / (p * (1 - p)) / p.numel()
    return J, dJdy_hat
