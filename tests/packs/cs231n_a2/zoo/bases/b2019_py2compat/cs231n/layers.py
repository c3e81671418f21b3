from __future__ import print_function
from builtins import range
from past.builtins import xrange
import numpy as np


def affine_forward(x, w, b):
    """x: (N, d1, ..., dk), w: (D, M), b: (M,) -> out (N, M), cache (x, w, b)"""
    N = x.shape[0]
    D = np.product(x.shape[1:])
    out = np.dot(x.reshape(N, D), w) + b
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    x, w, b = cache
    N = x.shape[0]
    D = np.product(x.shape[1:])
    dx = np.dot(dout, w.T).reshape(x.shape)
    dw = np.dot(x.reshape(N, D).T, dout)
    db = dout.sum(axis=0)
    return dx, dw, db


def relu_forward(x):
    out = x * (x > 0)
    cache = x
    return out, cache


def relu_backward(dout, cache):
    x = cache
    dx = dout * (x > 0).astype(np.float)
    return dx


def batchnorm_forward(x, gamma, beta, bn_param):
    """Batch norm over axis 0; the running averages serve test mode.
    x: (N, D); gamma, beta: (D,); bn_param: mode, eps, momentum, running_mean, running_var"""
    mode = bn_param['mode']
    eps = bn_param.get('eps', 1e-5)
    momentum = bn_param.get('momentum', 0.9)

    N, D = x.shape
    running_mean = bn_param.get('running_mean', np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get('running_var', np.zeros(D, dtype=x.dtype))

    out, cache = None, None
    if mode == 'train':
        mu = np.sum(x, axis=0) / float(N)
        xc = x - mu
        var = np.sum(xc ** 2, axis=0) / float(N)
        std = np.sqrt(var + eps)
        x_hat = xc / std
        out = gamma * x_hat + beta
        cache = [x_hat, xc, std, gamma]
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
    elif mode == 'test':
        x_hat = (x - running_mean) / np.sqrt(running_var + eps)
        out = gamma * x_hat + beta
    else:
        raise ValueError('Invalid forward batchnorm mode "%s"' % mode)

    bn_param['running_mean'] = running_mean
    bn_param['running_var'] = running_var
    return out, cache


def batchnorm_backward(dout, cache):
    """Through the graph: x_hat = xc / std, std = sqrt(var + eps), var = mean(xc^2), xc = x - mu."""
    x_hat, xc, std, gamma = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    dstd = -(dx_hat * xc).sum(axis=0) / std ** 2
    dvar = dstd / (2.0 * std)
    dxc = dx_hat / std + 2.0 * xc * dvar / N
    dmu = -dxc.sum(axis=0)
    dx = dxc + dmu / N
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    x_hat, xc, std, gamma = cache
    N = float(dout.shape[0])
    dgamma = np.sum(dout * x_hat, axis=0)
    dbeta = np.sum(dout, axis=0)
    dx = gamma / std * (dout - dbeta / N - x_hat * dgamma / N)
    return dx, dgamma, dbeta


def layernorm_forward(x, gamma, beta, ln_param):
    """Layer norm as batch norm on the transpose: each sample's features become a column."""
    eps = ln_param.get('eps', 1e-5)
    xt = x.T
    D = float(xt.shape[0])
    mu = xt.sum(axis=0) / D
    xc = xt - mu
    var = (xc ** 2).sum(axis=0) / D
    std = np.sqrt(var + eps)
    x_hat = xc / std
    out = (gamma.reshape(-1, 1) * x_hat + beta.reshape(-1, 1)).T
    cache = [x_hat, std, gamma.reshape(-1, 1)]
    return out, cache


def layernorm_backward(dout, cache):
    x_hat, std, g = cache
    doutt = dout.T
    D = float(doutt.shape[0])
    dgamma = np.sum(doutt * x_hat, axis=1)
    dbeta = np.sum(doutt, axis=1)
    dx_hat = doutt * g
    dxt = (dx_hat - dx_hat.sum(axis=0) / D - x_hat * (dx_hat * x_hat).sum(axis=0) / D) / std
    return dxt.T, dgamma, dbeta


def dropout_forward(x, dropout_param):
    """Inverted dropout; p is the probability of keeping a unit."""
    p, mode = dropout_param['p'], dropout_param['mode']
    if 'seed' in dropout_param:
        np.random.seed(dropout_param['seed'])

    mask = None
    out = None
    if mode == 'train':
        mask = (np.random.rand(*x.shape) < p).astype(np.float) / p
        out = x * mask
    elif mode == 'test':
        out = x

    cache = (dropout_param, mask)
    out = out.astype(x.dtype, copy=False)
    return out, cache


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    mode = dropout_param['mode']
    dx = None
    if mode == 'train':
        dx = dout * mask
    elif mode == 'test':
        dx = dout
    return dx


def svm_loss(x, y):
    """Multiclass hinge, margin 1, one sample at a time."""
    N = x.shape[0]
    loss = 0.0
    dx = np.zeros_like(x)
    for i in xrange(N):
        margins = np.maximum(0, x[i] - x[i, y[i]] + 1.0)
        margins[y[i]] = 0
        loss += margins.sum()
        positive = (margins > 0).astype(np.float)
        dx[i] = positive
        dx[i, y[i]] = -positive.sum()
    return loss / N, dx / N


def softmax_loss(x, y):
    N = x.shape[0]
    probs = np.exp(x - np.max(x, axis=1, keepdims=True))
    probs /= np.sum(probs, axis=1, keepdims=True)
    loss = -np.sum(np.log(probs[np.arange(N), y])) / N
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    dx /= N
    return loss, dx
