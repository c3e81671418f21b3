"""Bug: bce_loss's dJdy_hat is (y - y_hat) / (y_hat (1 - y_hat)) / N K, the negative of the gradient.

Copied from correct_vectorised.py with this one bug.
"""
import torch

# torch's BCELoss clamps each log at -100 and divides its gradient by max(y_hat (1 - y_hat), 1e-12).
BCE_LOG_CLAMP = -100.0
BCE_GRAD_EPS = 1e-12


def activate(name, z):
    """f(z) elementwise."""
    if name == "relu":
        return torch.relu(z)
    if name == "sigmoid":
        return torch.sigmoid(z)
    if name == "identity":
        return z
    raise ValueError(f"unknown activation {name!r}")


def activation_derivative(name, z):
    """f'(z) elementwise, evaluated at the pre-activation z.   ReLU'(0) = 0 as in torch."""
    if name == "relu":
        return (z > 0).to(z.dtype)
    if name == "sigmoid":
        s = torch.sigmoid(z)
        return s * (1 - s)
    if name == "identity":
        return torch.ones_like(z)
    raise ValueError(f"unknown activation {name!r}")


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
        """y_hat = g(f(x W1^T + b1) W2^T + b2).   x: (N, D) -> y_hat: (N, K)"""
        p = self.parameters
        z1 = x @ p["W1"].T + p["b1"]
        h = activate(self.f_function, z1)
        z2 = h @ p["W2"].T + p["b2"]
        y_hat = activate(self.g_function, z2)
        self.cache = dict(x=x, z1=z1, h=h, z2=z2)
        return y_hat

    def backward(self, dJdy_hat):
        """Fill self.grads from dJ/dy_hat (N, K)."""
        c, p = self.cache, self.parameters
        dJdz2 = dJdy_hat * activation_derivative(self.g_function, c["z2"])
        dJdh = dJdz2 @ p["W2"]
        dJdz1 = dJdh * activation_derivative(self.f_function, c["z1"])
        self.grads["dJdW2"] = dJdz2.T @ c["h"]
        self.grads["dJdb2"] = dJdz2.sum(dim=0)
        self.grads["dJdW1"] = dJdz1.T @ c["x"]
        self.grads["dJdb1"] = dJdz1.sum(dim=0)

    def clear_grad_and_cache(self):
        # New zero tensors rather than zero_(): they take the dtype the parameters have now.
        self.grads = {f"dJd{name}": torch.zeros_like(value) for name, value in self.parameters.items()}
        self.cache = dict()


def mse_loss(y, y_hat):
    """J = mean (y_hat - y)^2 over all N K elements, as nn.MSELoss().   Returns (J, dJ/dy_hat)."""
    diff = y_hat - y
    J = (diff ** 2).mean()
    dJdy_hat = 2 * diff / diff.numel()
    return J, dJdy_hat


def bce_loss(y, y_hat):
    """J = -mean [y log y_hat + (1 - y) log(1 - y_hat)], as nn.BCELoss().   Returns (J, dJ/dy_hat)."""
    log_p = torch.clamp(torch.log(y_hat), min=BCE_LOG_CLAMP)
    log_1mp = torch.clamp(torch.log(1 - y_hat), min=BCE_LOG_CLAMP)
    J = -(y * log_p + (1 - y) * log_1mp).mean()
    dJdy_hat = (y - y_hat) / torch.clamp(y_hat * (1 - y_hat), min=BCE_GRAD_EPS) / y_hat.numel()
    return J, dJdy_hat
