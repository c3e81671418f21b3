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
    """z = x W^T + b.   x: (N, D), W: (H, D), b: (H,) or (1, H) -> z: (N, H)"""
    # ndarray.dot: the same BLAS GEMM as np.dot and @, without np.dot's __array_function__ dispatch or
    # matmul's ufunc set-up (0.6 against 1.1 and 1 us on a tiny layer; the same call on a large one).
    # The bias goes into the GEMM's own fresh output: one pass and no second (N, H) array.
    z = x.dot(W.T)
    z += b
    return z, LinearCache(x, W)


def linear_backward(dout, cache, out=(None, None)):
    """dx = dout W, dW = dout^T x, db = sum_n dout.   dout: (N, H) -> (N, D), (H, D), (H,)

    out: optional (dW, db) arrays to write the parameter gradients into (see linear_backward_params).
    """
    return (dout.dot(cache.W), *linear_backward_params(dout, cache, out))


def linear_backward_params(dout, cache, out=(None, None)):
    """dW = dout^T x, db = sum_n dout (the first layer needs no dx).   dout: (N, H) -> (H, D), (H,)

    out: optional (dW, db) arrays of those shapes to write into, as NumPy's out=; the inputs are
    never written.
    """
    # np.add.reduce is what ndarray.sum calls, minus a Python wrapper that costs ~1 us per call.
    return dout.T.dot(cache.x, out=out[0]), np.add.reduce(dout, axis=0, out=out[1])


class ActCache(NamedTuple):
    z: np.ndarray
    out: np.ndarray


def identity_forward(z):
    """out = z"""
    return z, ActCache(z, z)


def identity_backward(dout, cache):
    """dz = dout"""
    return dout


# 0 as a 0-d array of each float dtype: a Python 0 makes every call resolve a scalar's type first,
# which costs more than the whole maximum on a small array (0.7 against 1.2 us for a (1, 3) float32 z).
ZERO = {np.dtype(t): np.zeros((), t) for t in (np.float32, np.float64)}


def relu_forward(z):
    """out = max(z, 0)"""
    return np.maximum(z, ZERO.get(z.dtype, 0)), ActCache(z, None)


def relu_backward(dout, cache):
    """dz = dout * [z > 0].   ReLU'(0) = 0, as in torch."""
    # A float mask multiplied in place: NumPy's float-by-bool product takes a slow casting loop.
    mask = np.greater(cache.z, ZERO.get(cache.z.dtype, 0)).astype(dout.dtype)
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


class NormCache(NamedTuple):
    z_hat: np.ndarray     # (N, H) the normalized input
    inv_std: np.ndarray   # 1 / sqrt(var + eps): (H,) for batch norm, (N, 1) for layer norm
    gamma: np.ndarray     # (H,)
    mean: np.ndarray      # the statistics used: batch norm's (H,) for the running update
    var: np.ndarray       # biased (divided by the count, as the normalization uses it)


def _normalize(z, gamma, beta, eps, axis):
    mean = z.mean(axis=axis, keepdims=axis == 1)
    z_hat = z - mean
    var = np.mean(np.square(z_hat), axis=axis, keepdims=axis == 1)
    inv_std = 1 / np.sqrt(var + eps)  # eps inside the square root, as torch
    z_hat *= inv_std  # the centered values, normalized in place: one (N, H) array fewer
    out = z_hat * gamma
    out += beta
    return out, NormCache(z_hat, inv_std, gamma, mean, var)


def batchnorm_forward(z, gamma, beta, eps=1e-5):
    """Training mode: out = gamma z_hat + beta, z_hat = (z - mu) / sqrt(var + eps), with mu and the biased
    var taken over the batch, per feature.   z: (N, H), gamma, beta: (H,) -> (N, H)"""
    return _normalize(z, gamma, beta, eps, axis=0)


def batchnorm_backward(dout, cache):
    """The compact form, from dz_hat = dout gamma through z_hat = (z - mu) s, s = (var + eps)^(-1/2):

        dvar = sum_n dz_hat (z - mu) (-1/2) s^3,   dmu = -s sum_n dz_hat   (the dvar term through mu is 0)
        dz   = dz_hat s + dvar 2 (z - mu) / N + dmu / N
             = s / N (N dz_hat - sum_n dz_hat - z_hat sum_n dz_hat z_hat)
             = gamma s (dout - dbeta / N - z_hat dgamma / N)

    with dgamma = sum_n dout z_hat, dbeta = sum_n dout.   dout: (N, H) -> (N, H), (H,), (H,)
    """
    z_hat, inv_std, gamma = cache.z_hat, cache.inv_std, cache.gamma
    n = dout.shape[0]
    dbeta = np.add.reduce(dout, axis=0)
    prod = np.multiply(dout, z_hat)
    dgamma = np.add.reduce(prod, axis=0)
    # Two (N, H) arrays where the one-line formula makes four, in its order of rounding:
    # ((dout - dbeta / N) - z_hat (dgamma / N)) (gamma s), the product's array reused.
    np.multiply(z_hat, dgamma / n, out=prod)
    dz = np.subtract(dout, dbeta / n)
    dz -= prod
    dz *= gamma * inv_std
    return dz, dgamma, dbeta


def batchnorm_eval_forward(z, gamma, beta, running_mean, running_var, eps=1e-5):
    """Evaluation mode: out = gamma (z - running_mean) / sqrt(running_var + eps) + beta, an affine map
    per feature.   z: (N, H), the rest (H,) -> (N, H)"""
    inv_std = 1 / np.sqrt(running_var + eps)
    z_hat = (z - running_mean) * inv_std
    return z_hat * gamma + beta, NormCache(z_hat, inv_std, gamma, running_mean, running_var)


def batchnorm_eval_backward(dout, cache):
    """dz = dout gamma s (the statistics are constants here), dgamma = sum_n dout z_hat, dbeta = sum_n dout"""
    return dout * (cache.gamma * cache.inv_std), (dout * cache.z_hat).sum(axis=0), dout.sum(axis=0)


def layernorm_forward(z, gamma, beta, eps=1e-5):
    """out = gamma z_hat + beta, z_hat = (z - mu) / sqrt(var + eps), mu and the biased var over each row's
    H features (the same in training and evaluation).   z: (N, H), gamma, beta: (H,) -> (N, H)"""
    return _normalize(z, gamma, beta, eps, axis=1)


def layernorm_backward(dout, cache):
    """Batch norm's compact form along each row: with dz_hat = dout gamma and H features,

        dz = s (dz_hat - mean_h dz_hat - z_hat mean_h(dz_hat z_hat)),  s = (var_row + eps)^(-1/2)

    while dgamma = sum_n dout z_hat, dbeta = sum_n dout still sum over the batch.   dout: (N, H) -> (N, H), (H,), (H,)
    """
    z_hat, inv_std = cache.z_hat, cache.inv_std
    dz_hat = dout * cache.gamma
    dz = inv_std * (dz_hat - dz_hat.mean(axis=1, keepdims=True)
                    - z_hat * (dz_hat * z_hat).mean(axis=1, keepdims=True))
    return dz, (dout * z_hat).sum(axis=0), dout.sum(axis=0)


class DropoutCache(NamedTuple):
    scale: np.ndarray  # mask / (1 - p): 0 for a dropped unit, 1 / (1 - p) for a kept one


def dropout_forward(h, mask, p):
    """Inverted dropout: out = h mask / (1 - p), so evaluation needs no rescaling.
    h: (N, H), mask: (N, H) of 0 and 1 (1 = kept, drawn with probability 1 - p), p in [0, 1) -> (N, H)"""
    scale = np.multiply(mask, 1 / (1 - p), dtype=h.dtype)  # one pass; a Python float keeps h's dtype
    return h * scale, DropoutCache(scale)


def dropout_backward(dout, cache):
    """dh = dout mask / (1 - p): the same mask as the forward's"""
    return dout * cache.scale


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
