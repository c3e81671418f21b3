from builtins import range
import numpy as np


def affine_forward(x, w, b):
    """x: (N, d1, ..., dk), w: (D, M), b: (M,) -> out (N, M)"""
    N = x.shape[0]
    D = np.prod(x.shape[1:])
    out = x.reshape(N, D) @ w + b
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    """dout: (N, M) -> dx (N, d1, ..., dk), dw (D, M), db (M,)"""
    x, w, b = cache
    N = x.shape[0]
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(N, -1).T @ dout
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
        mu = x.mean(axis=0)
        xc = x - mu
        var = np.mean(xc * xc, axis=0)
        inv_std = 1.0 / np.sqrt(var + eps)
        x_hat = xc * inv_std
        out = x_hat * gamma
        out += beta
        cache = (xc, inv_std, x_hat, gamma)
        running_mean *= momentum
        running_mean += (1 - momentum) * mu
        running_var *= momentum
        running_var += (1 - momentum) * var
    elif mode == 'test':
        out = (x - running_mean) / np.sqrt(running_var + eps)
        out *= gamma
        out += beta
    else:
        raise ValueError('Invalid forward batchnorm mode "%s"' % mode)

    bn_param['running_mean'] = running_mean
    bn_param['running_var'] = running_var

    return out, cache


def batchnorm_backward(dout, cache):
    xc, inv_std, x_hat, gamma = cache
    N = dout.shape[0]
    dgamma = np.sum(dout * x_hat, axis=0)
    dbeta = np.sum(dout, axis=0)
    dx_hat = dout * gamma
    dinv_std = np.sum(dx_hat * xc, axis=0)
    dvar = dinv_std * -0.5 * inv_std ** 3
    dxc = dx_hat * inv_std
    dxc += dvar * 2.0 * xc / N
    dx = dxc - np.mean(dxc, axis=0)
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    xc, inv_std, x_hat, gamma = cache
    N = dout.shape[0]
    dgamma = np.sum(dout * x_hat, axis=0)
    dbeta = np.sum(dout, axis=0)
    dx = (gamma * inv_std / N) * (N * dout - dbeta - x_hat * dgamma)
    return dx, dgamma, dbeta


def layernorm_forward(x, gamma, beta, ln_param):
    """The cache holds the input; the backward computes the row statistics again."""
    eps = ln_param.get('eps', 1e-5)
    mu = np.mean(x, axis=1, keepdims=True)
    var = np.mean((x - mu) ** 2, axis=1, keepdims=True)
    x_hat = (x - mu) / np.sqrt(var + eps)
    out = gamma * x_hat + beta
    cache = (x, gamma, eps)
    return out, cache


def layernorm_backward(dout, cache):
    x, gamma, eps = cache
    D = x.shape[1]
    xc = x - np.mean(x, axis=1, keepdims=True)
    inv_std = 1.0 / np.sqrt(np.mean(xc ** 2, axis=1, keepdims=True) + eps)
    x_hat = xc * inv_std
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

    state, out = None, None
    if mode == 'train':
        # Keep the generator's state instead of the mask: the backward draws the same mask again.
        state = np.random.get_state()
        out = x * (np.random.rand(*x.shape) < p) / p
    elif mode == 'test':
        out = x

    cache = (dropout_param, state)
    return out, cache


def dropout_backward(dout, cache):
    dropout_param, state = cache
    if dropout_param['mode'] == 'test':
        return dout
    p = dropout_param['p']
    saved = np.random.get_state()
    np.random.seed(dropout_param.get('seed'))
    mask = np.random.rand(*dout.shape) < p
    np.random.set_state(saved)
    return dout * mask / p


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
    """Mean cross-entropy of softmax(x).   x: (N, C), y: (N,) -> loss, dx (N, C)"""
    shifted = x - np.max(x, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    N = x.shape[0]
    loss = -np.sum(log_probs[np.arange(N), y]) / N
    dx = np.exp(log_probs)
    dx[np.arange(N), y] -= 1
    dx /= N
    return loss, dx
