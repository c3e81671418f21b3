"""Correct: bias gradients and the loss sums as matrix products with a ones vector of the input's dtype.

ones @ dJdz sums over the batch in BLAS's order rather than torch.sum's. Shapes: x (N, D), W1 (H, D),
b1 (H,), W2 (K, H), b2 (K,), y_hat (N, K).
"""
import torch


def act(name, z):
    if name == "relu":
        return torch.relu(z)
    if name == "sigmoid":
        return torch.sigmoid(z)
    return z


def act_grad(name, z, out):
    if name == "relu":
        return torch.where(z > 0, 1.0, 0.0).to(z.dtype)
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
        ones = torch.ones(x.shape[0], 1, dtype=x.dtype)
        z1 = x @ p["W1"].T + ones @ p["b1"][None, :]
        h = act(self.f_function, z1)
        z2 = h @ p["W2"].T + ones @ p["b2"][None, :]
        y_hat = act(self.g_function, z2)
        self.cache = dict(x=x, z1=z1, h=h, z2=z2, y_hat=y_hat)
        return y_hat

    def backward(self, dJdy_hat):
        c, p = self.cache, self.parameters
        ones = torch.ones(c["x"].shape[0], dtype=c["x"].dtype)
        dJdz2 = dJdy_hat * act_grad(self.g_function, c["z2"], c["y_hat"])
        dJdz1 = (dJdz2 @ p["W2"]) * act_grad(self.f_function, c["z1"], c["h"])
        self.grads = dict(dJdW2=dJdz2.T @ c["h"], dJdb2=ones @ dJdz2, dJdW1=dJdz1.T @ c["x"], dJdb1=ones @ dJdz1)

    def clear_grad_and_cache(self):
        self.grads, self.cache = {}, {}


def mse_loss(y, y_hat):
    d = (y_hat - y).reshape(-1)
    return (d @ d) / d.numel(), 2 * (y_hat - y) / d.numel()


def bce_loss(y, y_hat):
    terms = y * torch.log(y_hat).clamp(min=-100) + (1 - y) * torch.log(1 - y_hat).clamp(min=-100)
    ones = torch.ones(terms.numel(), dtype=terms.dtype)
    return -(terms.reshape(-1) @ ones) / terms.numel(), (y_hat - y) / (y_hat * (1 - y_hat)).clamp(min=1e-12) / y.numel()
