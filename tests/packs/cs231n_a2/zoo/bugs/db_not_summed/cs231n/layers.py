from builtins import range
import numpy as np


def affine_forward(x, w, b):
    """out = x_flat w + b.   x: (N, d1, ..., dk), w: (D, M), b: (M,) -> out (N, M)"""
    out = x.reshape(x.shape[0], -1).dot(w) + b
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    """dout: (N, M) -> dx (N, d1, ..., dk), dw (D, M), db (M,)"""
    x, w, b = cache
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T.dot(dout)
    db = np.mean(dout, axis=0)
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
    """Batch norm of x.T: each sample normalised over its D features.
    x: (N, D), gamma, beta: (D,); ln_param: eps"""
    eps = ln_param.get('eps', 1e-5)
    N = x.shape[0]
    x_hat_t, bn_cache = batchnorm_forward(x.T, np.ones(N), np.zeros(N), {'mode': 'train', 'eps': eps})
    x_hat = x_hat_t.T
    out = gamma * x_hat + beta
    cache = (bn_cache, x_hat, gamma)
    return out, cache


def layernorm_backward(dout, cache):
    """dout: (N, D) -> dx (N, D), dgamma (D,), dbeta (D,)"""
    bn_cache, x_hat, gamma = cache
    dgamma = np.sum(dout * x_hat, axis=0)
    dbeta = np.sum(dout, axis=0)
    dx_t, _, _ = batchnorm_backward_alt((dout * gamma).T, bn_cache)
    dx = dx_t.T
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
        mask = (np.random.rand(*x.shape) < p) / p
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
    """Mean cross-entropy of softmax(x).   x: (N, C), y: (N,) -> loss, dx (N, C)"""
    shifted = x - np.max(x, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    N = x.shape[0]
    loss = -np.sum(log_probs[np.arange(N), y]) / N
    dx = np.exp(log_probs)
    dx[np.arange(N), y] -= 1
    dx /= N
    return loss, dx
