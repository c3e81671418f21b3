"""Neither interface: a torch-style class Net with forward/backward, no class MLP and no loss functions."""
import torch


class Net:
    def __init__(self, sizes):
        self.weights = [torch.randn(n_out, n_in) for n_in, n_out in zip(sizes[:-1], sizes[1:])]

    def forward(self, x):
        for W in self.weights:
            x = torch.relu(x @ W.T)
        return x

    def backward(self, dout):
        raise NotImplementedError


def loss(y, y_hat):
    return ((y_hat - y) ** 2).mean()
