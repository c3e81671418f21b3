"""NumPy template: the five stages of mlp_ref.MLP, every gradient by hand.

Fill in each NotImplementedError, then run:  mlp-ref check numpy_mlp.py

    y_hat = net.forward(x); J = net.loss(y_hat, y); net.zero_grad(); net.backward(); net.step(lr)

    z1 = x W1^T + b1      (N, H)       W1: (H, D)  b1: (H,)     torch's nn.Linear layout (out, in)
    h  = f(z1)            (N, H)
    z2 = h W2^T + b2      (N, K)       W2: (K, H)  b2: (K,)
    y_hat = g(z2)         (N, K)       f, g in "relu" | "sigmoid" | "identity";  loss "mse" | "bce"

params and grads are dicts keyed W1, b1, W2, b2 of the same shapes. reduction "mean" divides by N K,
"sum" does not, as torch's losses.
"""
import numpy as np


class MLP:
    def __init__(self, n_in, n_hidden, n_out, f="relu", g="identity", loss="mse", reduction="sum",
                 dtype="float64", seed=0):
        self.f, self.g, self.loss_name, self.reduction = f, g, loss, reduction
        self.dtype = np.dtype(dtype)
        rng = np.random.default_rng(seed)
        self.params = {
            "W1": rng.uniform(-1, 1, (n_hidden, n_in)).astype(self.dtype) / np.sqrt(n_in),
            "b1": np.zeros(n_hidden, dtype=self.dtype),
            "W2": rng.uniform(-1, 1, (n_out, n_hidden)).astype(self.dtype) / np.sqrt(n_hidden),
            "b2": np.zeros(n_out, dtype=self.dtype),
        }
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.cache = None

    def forward(self, x):
        """y_hat = g(f(x W1^T + b1) W2^T + b2).   x: (N, D) -> (N, K); keep in self.cache what backward needs."""
        raise NotImplementedError("forward")

    def loss(self, y_hat, y):
        """The loss as a float; keep dJ/dy_hat: (N, K) for backward."""
        raise NotImplementedError("loss")

    def zero_grad(self):
        """Every gradient buffer to exactly 0."""
        for dW in self.grads.values():
            dW.fill(0)

    def backward(self):
        """ADD this batch's gradients into self.grads (as torch adds into .grad)."""
        raise NotImplementedError("backward")

    def step(self, lr):
        """W <- W - lr dW for every parameter."""
        for name, W in self.params.items():
            W -= lr * self.grads[name]
