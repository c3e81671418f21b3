"""Correct: helper tensors in torch's default dtype (torch.ones, torch.zeros), as float32 coursework does.

The bias gradient is a product with torch.ones(n), the per-sample loss terms go into torch.zeros(n, k)
and the grads are reset to torch.zeros(...): right in float32, the assignment's dtype. In float64 the
ones-vector product raises (Float vs Double), which the float64 probe reports without costing points.
Shapes: x (N, D), W1 (H, D), b1 (H,), W2 (K, H), b2 (K,), y_hat (N, K).
"""
import torch


def activate(name, z):
    if name == "relu":
        return torch.relu(z)
    if name == "sigmoid":
        return torch.sigmoid(z)
    return z


def activation_derivative(name, z):
    if name == "relu":
        return (z > 0) * 1.0
    if name == "sigmoid":
        s = torch.sigmoid(z)
        return s * (1 - s)
    return torch.ones_like(z)


class MLP:
    def __init__(self, linear_1_in_features, linear_1_out_features, f_function,
                 linear_2_in_features, linear_2_out_features, g_function):
        self.f_function, self.g_function = f_function, g_function
        self.parameters = dict(W1=torch.randn(linear_1_out_features, linear_1_in_features),
                               b1=torch.randn(linear_1_out_features),
                               W2=torch.randn(linear_2_out_features, linear_2_in_features),
                               b2=torch.randn(linear_2_out_features))
        self.shapes = {k: tuple(v.shape) for k, v in self.parameters.items()}
        self.clear_grad_and_cache()

    def forward(self, x):
        p = self.parameters
        z1 = x @ p["W1"].T + p["b1"]
        h = activate(self.f_function, z1)
        z2 = h @ p["W2"].T + p["b2"]
        self.cache = dict(x=x, z1=z1, h=h, z2=z2)
        return activate(self.g_function, z2)

    def backward(self, dJdy_hat):
        c, p = self.cache, self.parameters
        n = c["x"].shape[0]
        ones = torch.ones(n)
        dJdz2 = dJdy_hat * activation_derivative(self.g_function, c["z2"])
        dJdz1 = (dJdz2 @ p["W2"]) * activation_derivative(self.f_function, c["z1"])
        self.grads["dJdW2"] = dJdz2.T @ c["h"]
        self.grads["dJdb2"] = ones @ dJdz2
        self.grads["dJdW1"] = dJdz1.T @ c["x"]
        self.grads["dJdb1"] = ones @ dJdz1

    def clear_grad_and_cache(self):
        self.grads = {f"dJd{k}": torch.zeros(shape) for k, shape in self.shapes.items()}
        self.cache = {}


def mse_loss(y, y_hat):
    n, k = y_hat.shape
    per_sample = torch.zeros(n, k)
    for i in range(n):
        per_sample[i] = (y_hat[i] - y[i]) ** 2
    J = per_sample.sum() / (n * k)
    return J, 2 * (y_hat - y) / (n * k)


def bce_loss(y, y_hat):
    J = -(y * torch.log(y_hat).clamp(min=-100) + (1 - y) * torch.log(1 - y_hat).clamp(min=-100)).mean()
    dJdy_hat = (y_hat - y) / (y_hat * (1 - y_hat)).clamp(min=1e-12) / y_hat.numel()
    return J, dJdy_hat
