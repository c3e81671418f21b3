"""mlp_ref: a NumPy MLP with hand-coded backpropagation, checked against torch and finite differences.

    Linear1 -> f -> Linear2 -> g,   z1 = x W1^T + b1,  h = f(z1),  z2 = h W2^T + b2,  y_hat = g(z2)
"""
import os as _os

# Set before numpy (and later torch) load: idle OpenBLAS/OpenMP threads otherwise keep spinning
# after each call, and alternating the two libraries on 2 cores slows both 2.5-15x.
_os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from mlp_ref.model import MLP  # noqa: E402

__all__ = ["MLP"]
__version__ = "0.1.0"
