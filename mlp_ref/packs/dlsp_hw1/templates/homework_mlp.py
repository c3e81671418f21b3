"""Homework template: a two-layer MLP in torch tensors, with every gradient written by hand (no autograd).

Fill in each NotImplementedError, then run:  mlp-ref check homework_mlp.py

    z1 = x W1^T + b1      (N, H)       W1: (H, D)  b1: (H,)     torch's nn.Linear layout (out, in)
    h  = f(z1)            (N, H)
    z2 = h W2^T + b2      (N, K)       W2: (K, H)  b2: (K,)
    y_hat = g(z2)         (N, K)       f, g in "relu" | "sigmoid" | "identity"

The losses are mean-reduced over all N K elements, as torch's nn.MSELoss() and nn.BCELoss() defaults.
"""
import torch


class MLP:
    def __init__(self, linear_1_in_features, linear_1_out_features, f_function,
                 linear_2_in_features, linear_2_out_features, g_function):
        """The grader overwrites parameters with known tensors (float32, the assignment's dtype; float64 in its
        probe) before each case."""
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
        """y_hat = g(f(x W1^T + b1) W2^T + b2).   x: (N, D) -> y_hat: (N, K); keep in self.cache what backward needs.

        Do not modify x in place.
        """
        raise NotImplementedError("forward")

    def backward(self, dJdy_hat):
        """Fill self.grads["dJdW1"], ["dJdb1"], ["dJdW2"], ["dJdb2"] from dJdy_hat: (N, K), by the chain rule.

        Each dJdW has W's shape (out, in); each dJdb is summed over the batch. Do not modify dJdy_hat.
        """
        raise NotImplementedError("backward")

    def clear_grad_and_cache(self):
        """Every gradient back to zero (W's shape and dtype) and the cache emptied."""
        for name in self.grads:
            self.grads[name] = torch.zeros_like(self.parameters[name[3:]])
        self.cache = dict()


def mse_loss(y, y_hat):
    """J = mean over all N K elements of (y_hat - y)^2, and dJdy_hat: (N, K).   Returns (J, dJdy_hat)."""
    raise NotImplementedError("mse_loss")


def bce_loss(y, y_hat):
    """J = -mean [y log y_hat + (1 - y) log(1 - y_hat)], and dJdy_hat: (N, K).   Returns (J, dJdy_hat).

    torch clamps each log at -100, so y_hat exactly 0 or 1 stays finite (checked in the robustness section).
    """
    raise NotImplementedError("bce_loss")
