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
    """out = x where x > 0; the cache is the boolean mask"""
    mask = x > 0
    out = x * mask
    cache = mask
    return out, cache


def relu_backward(dout, cache):
    mask = cache
    dx = dout * mask
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
        sample_mean = np.mean(x, axis=0)
        sample_var = np.var(x, axis=0)
        x_centered = x - sample_mean
        std = np.sqrt(sample_var + eps)
        x_hat = x_centered / std
        out = gamma * x_hat + beta
        cache = {'x_hat': x_hat, 'x_centered': x_centered, 'std': std, 'gamma': gamma}
        running_mean = momentum * running_mean + (1 - momentum) * sample_mean
        running_var = momentum * running_var + (1 - momentum) * sample_var
    elif mode == 'test':
        x_hat = (x - running_mean) / np.sqrt(running_var + eps)
        out = gamma * x_hat + beta
    else:
        raise ValueError('Invalid forward batchnorm mode "%s"' % mode)

    bn_param['running_mean'] = running_mean
    bn_param['running_var'] = running_var

    return out, cache


def batchnorm_backward(dout, cache):
    """The paper's chain: dx_hat, dvar, dmean, then dx."""
    N = dout.shape[0]
    x_hat, xc, std, gamma = cache['x_hat'], cache['x_centered'], cache['std'], cache['gamma']
    dx_hat = dout * gamma
    dvar = np.sum(dx_hat * xc, axis=0) * -0.5 * std ** -3
    dmean = np.sum(-dx_hat / std, axis=0) + dvar * np.mean(-2.0 * xc, axis=0)
    dx = dx_hat / std + dvar * 2.0 * xc / N + dmean / N
    dgamma = np.sum(dout * x_hat, axis=0)
    dbeta = np.sum(dout, axis=0)
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    N = dout.shape[0]
    x_hat, std, gamma = cache['x_hat'], cache['std'], cache['gamma']
    dx_hat = dout * gamma
    dx = (1.0 / N) / std * (N * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0))
    dgamma = np.sum(dout * x_hat, axis=0)
    dbeta = np.sum(dout, axis=0)
    return dx, dgamma, dbeta


def layernorm_forward(x, gamma, beta, ln_param):
    eps = ln_param.get('eps', 1e-5)
    mean = np.mean(x, axis=1, keepdims=True)
    std = np.sqrt(np.var(x, axis=1, keepdims=True) + eps)
    x_hat = (x - mean) / std
    out = gamma * x_hat + beta
    cache = {'x_hat': x_hat, 'std': std, 'gamma': gamma}
    return out, cache


def layernorm_backward(dout, cache):
    x_hat, std, gamma = cache['x_hat'], cache['std'], cache['gamma']
    D = dout.shape[1]
    dgamma = np.sum(dout * x_hat, axis=0)
    dbeta = np.sum(dout, axis=0)
    dx_hat = dout * gamma
    dx = (D * dx_hat - dx_hat.sum(axis=1, keepdims=True)
          - x_hat * (dx_hat * x_hat).sum(axis=1, keepdims=True)) / (D * std)
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
        mask = np.random.rand(*x.shape) < p
        out = x * mask / p
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
        dx = dout * mask / dropout_param['p']
    elif mode == 'test':
        dx = dout
    return dx


def svm_loss(x, y):
    """x: (N, C), y: (N,) -> loss, dx (N, C), with loops"""
    N, C = x.shape
    loss = 0.0
    dx = np.zeros_like(x)
    for i in range(N):
        for j in range(C):
            if j == y[i]:
                continue
            margin = x[i, j] - x[i, y[i]] + 1
            if margin > 0:
                loss += margin
                dx[i, j] += 1
                dx[i, y[i]] -= 1
    loss /= N
    dx /= N
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
