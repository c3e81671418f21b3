"""Bug: the sigmoid slope out (1 - out) is applied to the pre-activation z2, not the output y_hat (sigmoid g only).

Copied from correct_loops.py with this one bug.
"""
import torch


def sigmoid(z):
    return 1 / (1 + torch.exp(-z))


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

    def _apply(self, name, z):
        if name == "relu":
            return torch.where(z > 0, z, torch.zeros_like(z))
        elif name == "sigmoid":
            return sigmoid(z)
        elif name == "identity":
            return z.clone()
        raise ValueError(f"unknown activation {name!r}")

    def _slope(self, name, out):
        """The activation's derivative written in terms of its output (valid for these three)."""
        if name == "relu":
            return (out > 0).to(out.dtype)
        elif name == "sigmoid":
            return out * (1 - out)
        elif name == "identity":
            return torch.ones_like(out)
        raise ValueError(f"unknown activation {name!r}")

    def forward(self, x):
        W1, b1 = self.parameters["W1"], self.parameters["b1"]
        W2, b2 = self.parameters["W2"], self.parameters["b2"]
        h = self._apply(self.f_function, torch.matmul(x, W1.t()) + b1)
        y_hat = self._apply(self.g_function, torch.matmul(h, W2.t()) + b2)
        self.cache["x"], self.cache["h"], self.cache["y_hat"] = x, h, y_hat
        self.cache["z2"] = torch.matmul(h, W2.t()) + b2
        return y_hat

    def backward(self, dJdy_hat):
        x, h, y_hat = self.cache["x"], self.cache["h"], self.cache["y_hat"]
        W2 = self.parameters["W2"]
        fprime = self._slope(self.f_function, h)
        gprime = self._slope(self.g_function, self.cache["z2"])
        dW1 = torch.zeros_like(self.parameters["W1"])
        db1 = torch.zeros_like(self.parameters["b1"])
        dW2 = torch.zeros_like(self.parameters["W2"])
        db2 = torch.zeros_like(self.parameters["b2"])
        for n in range(x.shape[0]):
            dz2_n = dJdy_hat[n] * gprime[n]          # (K,)
            dW2 += torch.outer(dz2_n, h[n])
            db2 += dz2_n
            dz1_n = torch.mv(W2.t(), dz2_n) * fprime[n]   # (H,)
            dW1 += torch.outer(dz1_n, x[n])
            db1 += dz1_n
        self.grads["dJdW1"], self.grads["dJdb1"] = dW1, db1
        self.grads["dJdW2"], self.grads["dJdb2"] = dW2, db2

    def clear_grad_and_cache(self):
        for name in list(self.grads):
            self.grads[name] = torch.zeros_like(self.parameters[name[3:]])
        self.cache = dict()


def mse_loss(y, y_hat):
    n_elements = y_hat.shape[0] * y_hat.shape[1]
    err = y_hat - y
    loss = torch.sum(err * err) / n_elements
    dJdy_hat = 2 * err / n_elements
    return loss, dJdy_hat


def bce_loss(y, y_hat):
    n_elements = y_hat.shape[0] * y_hat.shape[1]
    loss = -torch.sum(y * torch.log(y_hat) + (1 - y) * torch.log(1 - y_hat)) / n_elements
    dJdy_hat = (-y / y_hat + (1 - y) / (1 - y_hat)) / n_elements
    return loss, dJdy_hat
