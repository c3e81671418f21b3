"""Forward/backward pairs in NumPy. Pure functions: no input is mutated, each cache is a NamedTuple.

Shapes: N batch, D in, H out (of a linear layer); activations are elementwise on (N, H), softmax
acts along axis 1. Every backward takes `dout`, the gradient of the loss w.r.t. the forward's output,
and returns the gradient w.r.t. its inputs. Diagonal Jacobians are applied as elementwise products.
"""
from typing import Callable, NamedTuple

import numpy as np


class LinearCache(NamedTuple):
    x: np.ndarray
    W: np.ndarray


def linear_forward(x, W, b):
    """z = x W^T + b.   x: (N, D), W: (H, D), b: (H,) -> z: (N, H)"""
    # np.dot: the same BLAS GEMM as @, at half of matmul's ~3 us call overhead on small arrays.
    # The bias goes into the GEMM's own fresh output: one pass and no second (N, H) array.
    z = np.dot(x, W.T)
    z += b
    return z, LinearCache(x, W)


def linear_backward(dout, cache, out=(None, None)):
    """dx = dout W, dW = dout^T x, db = sum_n dout.   dout: (N, H) -> (N, D), (H, D), (H,)

    out: optional (dW, db) arrays to write the parameter gradients into (see linear_backward_params).
    """
    return (np.dot(dout, cache.W), *linear_backward_params(dout, cache, out))


def linear_backward_params(dout, cache, out=(None, None)):
    """dW = dout^T x, db = sum_n dout (the first layer needs no dx).   dout: (N, H) -> (H, D), (H,)

    out: optional (dW, db) arrays of those shapes to write into, as NumPy's out=; the inputs are
    never written.
    """
    # np.add.reduce is what ndarray.sum calls, minus a Python wrapper that costs ~1 us per call.
    return np.dot(dout.T, cache.x, out=out[0]), np.add.reduce(dout, axis=0, out=out[1])


class ActCache(NamedTuple):
    z: np.ndarray
    out: np.ndarray


def identity_forward(z):
    """out = z"""
    return z, ActCache(z, z)


def identity_backward(dout, cache):
    """dz = dout"""
    return dout


def relu_forward(z):
    """out = max(z, 0)"""
    return np.maximum(z, 0), ActCache(z, None)


def relu_backward(dout, cache):
    """dz = dout * [z > 0].   ReLU'(0) = 0, as in torch."""
    # A float mask multiplied in place: NumPy's float-by-bool product takes a slow casting loop.
    mask = np.greater(cache.z, 0).astype(dout.dtype)
    mask *= dout
    return mask


def leaky_relu_forward(z, slope=0.01):
    """out = z where z > 0, slope * z elsewhere"""
    return np.where(z > 0, z, z * slope), ActCache(z, None)


def leaky_relu_backward(dout, cache, slope=0.01):
    """dz = dout where z > 0, slope * dout elsewhere.   LeakyReLU'(0) = slope, as in torch."""
    return np.where(cache.z > 0, dout, dout * slope)


def sigmoid(z):
    """s = 1 / (1 + exp(-z)), evaluated through exp(-|z|) so it never overflows."""
    e = np.exp(-np.abs(z))
    s = 1 / (1 + e)
    return np.where(z >= 0, s, e * s)


def sigmoid_forward(z):
    """out = sigmoid(z)"""
    s = sigmoid(z)
    return s, ActCache(z, s)


def sigmoid_backward(dout, cache):
    """dz = dout * s (1 - s), with s the forward output"""
    s = cache.out
    return dout * (1 - s) * s


def tanh_forward(z):
    """out = tanh(z)"""
    t = np.tanh(z)
    return t, ActCache(z, t)


def tanh_backward(dout, cache):
    """dz = dout * (1 - t^2), with t the forward output"""
    t = cache.out
    return dout * (1 - t * t)


def softmax(z):
    """s_k = exp(z_k - max z) / sum_j exp(z_j - max z) along axis 1; the shift keeps exp <= 1."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def softmax_forward(z):
    """out = softmax(z) along axis 1.   z: (N, K)"""
    s = softmax(z)
    return s, ActCache(z, s)


def softmax_backward(dout, cache):
    """dz = s * (dout - sum_k dout_k s_k): the Jacobian diag(s) - s s^T applied to dout row by row"""
    s = cache.out
    return s * (dout - (dout * s).sum(axis=1, keepdims=True))


class Activation(NamedTuple):
    forward: Callable
    backward: Callable
    torch_module: str = ""  # the torch.nn module the twin uses for this name (torch is not imported here)


# The one table of activation names: every other module (the twin, the grader's oracle, explain, the
# demos, the command line's choices) takes its names, and its torch counterparts, from here.
ACTIVATIONS = {
    "identity": Activation(identity_forward, identity_backward, "Identity"),
    "relu": Activation(relu_forward, relu_backward, "ReLU"),
    "leaky_relu": Activation(leaky_relu_forward, leaky_relu_backward, "LeakyReLU"),
    "sigmoid": Activation(sigmoid_forward, sigmoid_backward, "Sigmoid"),
    "tanh": Activation(tanh_forward, tanh_backward, "Tanh"),
    "softmax": Activation(softmax_forward, softmax_backward, "Softmax"),
}
# softmax couples the units of a row, so it is an output activation only.
HIDDEN_ACTIVATIONS = ("identity", "relu", "leaky_relu", "sigmoid", "tanh")
OUTPUT_ACTIVATIONS = tuple(ACTIVATIONS)
