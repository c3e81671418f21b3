"""Correct: the fused BCE gradient (y_hat - y) / (y_hat (1 - y_hat)), and J from log1p.

The same derivative as -y / y_hat + (1 - y) / (1 - y_hat), in one division. Shapes: x (N, D),
W1 (H, D), b1 (H,), W2 (K, H), b2 (K,), y_hat (N, K).
"""
import torch


class MLP:
    def __init__(self, linear_1_in_features, linear_1_out_features, f_function,
                 linear_2_in_features, linear_2_out_features, g_function):
        self.f_function, self.g_function = f_function, g_function
        self.parameters = dict(W1=torch.randn(linear_1_out_features, linear_1_in_features),
                               b1=torch.randn(linear_1_out_features),
                               W2=torch.randn(linear_2_out_features, linear_2_in_features),
                               b2=torch.randn(linear_2_out_features))
        self.grads, self.cache = {}, {}

    def _act(self, name, z):
        if name == "relu":
            out = torch.relu(z)
            return out, (z > 0).type_as(z)
        if name == "sigmoid":
            out = torch.sigmoid(z)
            return out, out * (1 - out)
        return z, torch.ones_like(z)

    def forward(self, x):
        p = self.parameters
        h, dh = self._act(self.f_function, x @ p["W1"].T + p["b1"])
        y_hat, dy = self._act(self.g_function, h @ p["W2"].T + p["b2"])
        self.cache = dict(x=x, h=h, dh=dh, dy=dy)
        return y_hat

    def backward(self, dJdy_hat):
        c = self.cache
        dJdz2 = dJdy_hat * c["dy"]
        dJdz1 = dJdz2 @ self.parameters["W2"] * c["dh"]
        self.grads = dict(dJdW2=dJdz2.T @ c["h"], dJdb2=dJdz2.sum(0), dJdW1=dJdz1.T @ c["x"], dJdb1=dJdz1.sum(0))

    def clear_grad_and_cache(self):
        self.grads, self.cache = {}, {}


def mse_loss(y, y_hat):
    r = y_hat - y
    return r.square().mean(), 2 * r / r.numel()


def bce_loss(y, y_hat):
    J = -(y * torch.log(y_hat).clamp(min=-100) + (1 - y) * torch.log1p(-y_hat).clamp(min=-100)).mean()
    dJdy_hat = (y_hat - y) / (y_hat * (1 - y_hat)) / y_hat.numel()
    return J, dJdy_hat
