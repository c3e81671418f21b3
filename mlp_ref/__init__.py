"""mlp_ref: a NumPy MLP with hand-coded backpropagation, checked against torch and finite differences.

    Linear1 -> f -> Linear2 -> g,   z1 = x W1^T + b1,  h = f(z1),  z2 = h W2^T + b2,  y_hat = g(z2)

Deeper with n_hidden a list (MLP(D, [64, 32], K)); torch.optim's update rules in mlp_ref.optim.
"""
from mlp_ref import env  # noqa: F401  (first: the thread variables must precede numpy)
from mlp_ref.model import MLP  # noqa: E402

__all__ = ["MLP"]
__version__ = "0.1.0"
