import numpy as np


def affine_forward(x, w, b):
  """One sample at a time.   x: (N, d1, ..., dk), w: (D, M), b: (M,) -> out (N, M)"""
  N = x.shape[0]
  rows = np.reshape(x, (N, int(np.prod(x.shape[1:]))))
  out = np.zeros((N, w.shape[1]), dtype=np.result_type(x, w))
  for i in range(N):
    out[i] = rows[i].dot(w) + b
  cache = (x, w, b)
  return out, cache


def affine_backward(dout, cache):
  """dout: (N, M) -> dx (N, d1, ..., dk), dw (D, M), db (M,)"""
  x, w, b = cache
  N = x.shape[0]
  rows = np.reshape(x, (N, -1))
  dx = np.zeros(rows.shape, dtype=np.result_type(dout, w))
  dw = np.zeros_like(w)
  db = np.zeros_like(b)
  for i in range(N):
    dx[i] = w.dot(dout[i])
    dw += np.outer(rows[i], dout[i])
    db += dout[i]
  dx = dx.reshape(x.shape)
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
    mu = 1.0 / N * np.sum(x, axis=0)
    xmu = x - mu
    sq = xmu ** 2
    var = 1.0 / N * np.sum(sq, axis=0)
    sqrtvar = np.sqrt(var + eps)
    ivar = 1.0 / sqrtvar
    xhat = xmu * ivar
    gammax = gamma * xhat
    out = gammax + beta
    cache = (xhat, gamma, xmu, ivar, sqrtvar, var, eps)
    running_mean = momentum * running_mean + (1 - momentum) * mu
    running_var = momentum * running_var + (1 - momentum) * var
  elif mode == 'test':
    xhat = (x - running_mean) / np.sqrt(running_var + eps)
    out = gamma * xhat + beta
  else:
    raise ValueError('Invalid forward batchnorm mode "%s"' % mode)

  bn_param['running_mean'] = running_mean
  bn_param['running_var'] = running_var

  return out, cache


def batchnorm_backward(dout, cache):
  """Node by node back through the forward's nine steps."""
  xhat, gamma, xmu, ivar, sqrtvar, var, eps = cache
  N, D = dout.shape
  dbeta = np.sum(dout, axis=0)
  dgammax = dout
  dgamma = np.sum(dgammax * xhat, axis=0)
  dxhat = dgammax * gamma
  divar = np.sum(dxhat * xmu, axis=0)
  dxmu1 = dxhat * ivar
  dsqrtvar = -1.0 / (sqrtvar ** 2) * divar
  dvar = 0.5 * 1.0 / np.sqrt(var + eps) * dsqrtvar
  dsq = 1.0 / N * np.ones((N, D)) * dvar
  dxmu2 = 2 * xmu * dsq
  dx1 = dxmu1 + dxmu2
  dmu = -1 * np.sum(dx1, axis=0)
  dx2 = 1.0 / N * np.ones((N, D)) * dmu
  dx = dx1 + dx2
  return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
  xhat, gamma, xmu, ivar, sqrtvar, var, eps = cache
  N = dout.shape[0]
  dbeta = np.sum(dout, axis=0)
  dgamma = np.sum(dout * xhat, axis=0)
  dx = (gamma * ivar / N) * (N * dout - dbeta - xhat * dgamma)
  return dx, dgamma, dbeta


def dropout_forward(x, dropout_param):
  """Inverted dropout: drop each unit with probability p, scale the kept ones by 1 / (1 - p).
  dropout_param: p (drop probability), mode, seed"""
  p, mode = dropout_param['p'], dropout_param['mode']
  if 'seed' in dropout_param:
    np.random.seed(dropout_param['seed'])

  mask = None
  out = None

  if mode == 'train':
    mask = (np.random.rand(*x.shape) >= p) / (1 - p)
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
  """x: (N, C), y: (N,) -> loss, dx (N, C), one row at a time"""
  N, C = x.shape
  loss = 0.0
  dx = np.zeros_like(x)
  for i in range(N):
    s = x[i] - np.max(x[i])
    p = np.exp(s) / np.sum(np.exp(s))
    loss += -np.log(p[y[i]])
    p[y[i]] -= 1
    dx[i] = p
  loss /= N
  dx /= N
  return loss, dx
