"""Correct: homework interface in einsum, gradients accumulated torch-style and zeroed by clear_grad_and_cache.

backward ADDS into self.grads, as torch adds into .grad; clear_grad_and_cache resets them to zeros of
the parameters' current dtype. Shapes: x (N, D), W1 (H, D), b1 (H,), W2 (K, H), b2 (K,), y_hat (N, K).
"""
import torch

ACTIVATIONS = ("relu", "sigmoid", "identity")


def forward_act(name, z):
    """(out, local slope d out / d z), both (N, units)."""
    if name == "relu":
        mask = z > 0
        return torch.where(mask, z, torch.zeros_like(z)), mask.to(z.dtype)
    if name == "sigmoid":
        s = torch.sigmoid(z)
        return s, s * (1 - s)
    if name == "identity":
        return z, torch.ones_like(z)
    raise ValueError(f"f_function/g_function: expected one of {ACTIVATIONS}, got {name!r}")


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
        p = self.parameters
        z1 = torch.einsum("nd,hd->nh", x, p["W1"]) + p["b1"]
        h, dh_dz1 = forward_act(self.f_function, z1)
        z2 = torch.einsum("nh,kh->nk", h, p["W2"]) + p["b2"]
        y_hat, dy_dz2 = forward_act(self.g_function, z2)
        self.cache = dict(x=x, h=h, dh_dz1=dh_dz1, dy_dz2=dy_dz2)
        return y_hat

    def backward(self, dJdy_hat):
        c = self.cache
        dJdz2 = dJdy_hat * c["dy_dz2"]
        dJdz1 = torch.einsum("nk,kh->nh", dJdz2, self.parameters["W2"]) * c["dh_dz1"]
        new = dict(
            dJdW2=torch.einsum("nk,nh->kh", dJdz2, c["h"]),
            dJdb2=torch.einsum("nk->k", dJdz2),
            dJdW1=torch.einsum("nh,nd->hd", dJdz1, c["x"]),
            dJdb1=torch.einsum("nh->h", dJdz1),
        )
        for name, d in new.items():
            # Out of place, so the sum takes the dtype of the new gradient rather than the old buffer's.
            self.grads[name] = self.grads[name] + d

    def clear_grad_and_cache(self):
        self.grads = {f"dJd{name}": torch.zeros_like(value) for name, value in self.parameters.items()}
        self.cache = dict()


def mse_loss(y, y_hat):
    diff = y_hat - y
    J = torch.einsum("nk,nk->", diff, diff) / diff.numel()
    return J, 2 * diff / diff.numel()


def bce_loss(y, y_hat):
    log_p = torch.log(y_hat).clamp(min=-100)
    log_1mp = torch.log1p(-y_hat).clamp(min=-100)
    J = -(y * log_p + (1 - y) * log_1mp).sum() / y.numel()
    dJdy_hat = (y_hat - y) / (y_hat * (1 - y_hat)).clamp(min=1e-12) / y.numel()
    return J, dJdy_hat
