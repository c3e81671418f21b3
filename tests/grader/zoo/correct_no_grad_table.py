"""Correct: every pass under torch.no_grad(), activations from a lookup table of (f, f') pairs.

The table maps a name to f(z) and f'(z, out); no_grad only stops graph building, so the numbers are
the plain ones. Shapes: x (N, D), W1 (H, D), b1 (H,), W2 (K, H), b2 (K,), y_hat (N, K).
"""
import torch

ACTIVATIONS = {
    "relu": (torch.relu, lambda z, out: (z > 0).to(z.dtype)),
    "sigmoid": (torch.sigmoid, lambda z, out: out * (1 - out)),
    "identity": (lambda z: z, lambda z, out: torch.ones_like(z)),
}


class MLP:
    def __init__(self, linear_1_in_features, linear_1_out_features, f_function,
                 linear_2_in_features, linear_2_out_features, g_function):
        self.f, self.df = ACTIVATIONS[f_function]
        self.g, self.dg = ACTIVATIONS[g_function]
        self.parameters = dict(W1=torch.randn(linear_1_out_features, linear_1_in_features),
                               b1=torch.randn(linear_1_out_features),
                               W2=torch.randn(linear_2_out_features, linear_2_in_features),
                               b2=torch.randn(linear_2_out_features))
        self.grads, self.cache = {}, {}

    @torch.no_grad()
    def forward(self, x):
        p = self.parameters
        z1 = x @ p["W1"].T + p["b1"]
        h = self.f(z1)
        z2 = h @ p["W2"].T + p["b2"]
        y_hat = self.g(z2)
        self.cache = dict(x=x, z1=z1, h=h, z2=z2, y_hat=y_hat)
        return y_hat

    def backward(self, dJdy_hat):
        with torch.no_grad():
            c, p = self.cache, self.parameters
            dJdz2 = dJdy_hat * self.dg(c["z2"], c["y_hat"])
            dJdz1 = (dJdz2 @ p["W2"]) * self.df(c["z1"], c["h"])
            self.grads = dict(dJdW2=dJdz2.T @ c["h"], dJdb2=dJdz2.sum(0), dJdW1=dJdz1.T @ c["x"],
                              dJdb1=dJdz1.sum(0))

    def clear_grad_and_cache(self):
        self.grads, self.cache = {}, {}


@torch.no_grad()
def mse_loss(y, y_hat):
    d = y_hat - y
    return (d ** 2).mean(), 2 * d / d.numel()


@torch.no_grad()
def bce_loss(y, y_hat):
    J = -(y * torch.log(y_hat).clamp(min=-100) + (1 - y) * torch.log(1 - y_hat).clamp(min=-100)).mean()
    return J, (y_hat - y) / (y_hat * (1 - y_hat)).clamp(min=1e-12) / y_hat.numel()
