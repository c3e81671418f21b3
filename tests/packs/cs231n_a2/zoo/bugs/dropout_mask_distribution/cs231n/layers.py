from builtins import range
import numpy as np


def affine_forward(x, w, b):
    """x: (N, d1, ..., dk), w: (D, M), b: (M,) -> out (N, M)"""
    x2 = x.reshape(len(x), -1)
    out = np.einsum('nd,dm->nm', x2, w) + b
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    """dout: (N, M) -> dx (N, d1, ..., dk), dw (D, M), db (M,)"""
    x, w, b = cache
    x2 = x.reshape(len(x), -1)
    dx = np.einsum('nm,dm->nd', dout, w).reshape(x.shape)
    dw = np.einsum('nd,nm->dm', x2, dout)
    db = dout.sum(axis=0)
    return dx, dw, db


def relu_forward(x):
    """out = max(0, x), any shape; cache: x"""
    out = np.maximum(0, x)
    cache = x
    return out, cache


def relu_backward(dout, cache):
    """dx = dout where x > 0, else 0"""
    x = cache
    dx = dout * (x > 0)
    return dx


def batchnorm_forward(x, gamma, beta, bn_param):
    """Normalise each feature over the batch; running averages for test mode.
    x: (N, D), gamma, beta: (D,); bn_param: mode, eps, momentum, running_mean, running_var"""
    mode = bn_param['mode']
    eps = bn_param.get('eps', 1e-5)
    momentum = bn_param.get('momentum', 0.9)

    N, D = x.shape
    running_mean = bn_param.get('running_mean', np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get('running_var', np.zeros(D, dtype=x.dtype))

    out, cache = None, None
    if mode == 'train':
        mu = x.mean(axis=0)
        var = x.var(axis=0)
        inv_std = 1.0 / np.sqrt(var + eps)
        x_hat = (x - mu) * inv_std
        out = gamma * x_hat + beta
        cache = (x_hat, gamma, inv_std)
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
    elif mode == 'test':
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
    else:
        raise ValueError('Invalid forward batchnorm mode "%s"' % mode)

    bn_param['running_mean'] = running_mean
    bn_param['running_var'] = running_var

    return out, cache


def batchnorm_backward(dout, cache):
    """Through dvar and dmu.   dout: (N, D) -> dx (N, D), dgamma (D,), dbeta (D,)"""
    x_hat, gamma, inv_std = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    dvar = np.sum(dx_hat * x_hat, axis=0) * (-0.5) * inv_std ** 2
    dmu = -np.sum(dx_hat, axis=0) * inv_std
    dx = dx_hat * inv_std + dvar * 2 * x_hat / (N * inv_std) + dmu / N
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    """dx = inv_std / N (N dx_hat - sum dx_hat - x_hat sum(dx_hat x_hat))"""
    x_hat, gamma, inv_std = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    dx = inv_std / N * (N * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0))
    return dx, dgamma, dbeta


def layernorm_forward(x, gamma, beta, ln_param):
    """x: (N, D) normalised along each row; gamma, beta: (D,)"""
    eps = ln_param.get('eps', 1e-5)
    mu = x.mean(axis=1, keepdims=True)
    xc = x - mu
    var = np.mean(xc ** 2, axis=1, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = xc * inv_std
    out = gamma * x_hat + beta
    cache = (x_hat, inv_std, gamma)
    return out, cache


def layernorm_backward(dout, cache):
    x_hat, inv_std, gamma = cache
    N, D = dout.shape
    dgamma = np.sum(dout * x_hat, axis=0)
    dbeta = np.sum(dout, axis=0)
    dx_hat = dout * gamma
    dx = inv_std / D * (D * dx_hat - np.sum(dx_hat, axis=1, keepdims=True)
                        - x_hat * np.sum(dx_hat * x_hat, axis=1, keepdims=True))
    return dx, dgamma, dbeta


def dropout_forward(x, dropout_param):
    """Inverted dropout: keep each unit with probability p, scale the kept ones by 1 / p.
    dropout_param: p (keep probability), mode, seed"""
    p, mode = dropout_param['p'], dropout_param['mode']
    if 'seed' in dropout_param:
        np.random.seed(dropout_param['seed'])

    mask = None
    out = None

    if mode == 'train':
        mask = (np.random.rand(*x.shape) > p) / p
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
    """Mean multiclass hinge loss, margin 1.   x: (N, C), y: (N,) -> loss, dx (N, C)"""
    N = x.shape[0]
    correct = x[np.arange(N), y][:, np.newaxis]
    margins = np.maximum(0, x - correct + 1.0)
    margins[np.arange(N), y] = 0
    loss = np.sum(margins) / N
    positive = (margins > 0).astype(x.dtype)
    positive[np.arange(N), y] = -np.sum(positive, axis=1)
    dx = positive / N
    return loss, dx


def softmax_loss(x, y):
    """x: (N, C), y: (N,) -> loss, dx (N, C)"""
    scores = x - x.max(axis=1, keepdims=True)
    probs = np.exp(scores)
    probs /= probs.sum(axis=1, keepdims=True)
    N = len(y)
    loss = -np.mean(np.log(probs[range(N), y]))
    dx = probs.copy()
    dx[range(N), y] -= 1
    dx /= N
    return loss, dx
