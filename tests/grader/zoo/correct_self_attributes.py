"""Correct: intermediates kept on self (self.z1, self.h, ...) and extra keys in grads and cache.

grads also holds dJdz1 and dJdz2, cache holds the batch size; the grader reads only dJdW1, dJdb1,
dJdW2, dJdb2. Shapes: x (N, D), W1 (H, D), b1 (H,), W2 (K, H), b2 (K,), y_hat (N, K).
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

    def act(self, name, z):
        if name == "relu":
            return torch.clamp(z, min=0)
        if name == "sigmoid":
            return torch.sigmoid(z)
        return z

    def act_grad(self, name, z, out):
        if name == "relu":
            return torch.gt(z, 0).to(z.dtype)
        if name == "sigmoid":
            return out * (1 - out)
        return torch.ones_like(z)

    def forward(self, x):
        self.x = x
        self.z1 = x @ self.parameters["W1"].T + self.parameters["b1"]
        self.h = self.act(self.f_function, self.z1)
        self.z2 = self.h @ self.parameters["W2"].T + self.parameters["b2"]
        self.y_hat = self.act(self.g_function, self.z2)
        self.cache["batch_size"] = x.shape[0]
        self.cache["y_hat"] = self.y_hat
        return self.y_hat

    def backward(self, dJdy_hat):
        self.grads["dJdz2"] = dJdy_hat * self.act_grad(self.g_function, self.z2, self.y_hat)
        self.grads["dJdz1"] = (self.grads["dJdz2"] @ self.parameters["W2"]) * \
            self.act_grad(self.f_function, self.z1, self.h)
        self.grads["dJdW2"] = self.grads["dJdz2"].T @ self.h
        self.grads["dJdb2"] = self.grads["dJdz2"].sum(0)
        self.grads["dJdW1"] = self.grads["dJdz1"].T @ self.x
        self.grads["dJdb1"] = self.grads["dJdz1"].sum(0)

    def clear_grad_and_cache(self):
        self.grads, self.cache = {}, {}


def mse_loss(y, y_hat):
    diff = y_hat - y
    return (diff ** 2).mean(), 2 * diff / diff.numel()


def bce_loss(y, y_hat):
    J = -(y * torch.log(y_hat).clamp(min=-100) + (1 - y) * torch.log(1 - y_hat).clamp(min=-100)).mean()
    return J, (y_hat - y) / (y_hat * (1 - y_hat)).clamp(min=1e-12) / y_hat.numel()
