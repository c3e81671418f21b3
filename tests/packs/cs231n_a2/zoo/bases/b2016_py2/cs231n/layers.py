import numpy as np


def affine_forward(x, w, b):
  """x: (N, d_1, ..., d_k), w: (D, M), b: (M,) -> out (N, M)"""
  N = x.shape[0]
  out = np.dot(x.reshape(N, -1), w) + b
  cache = (x, w, b)
  return out, cache


def affine_backward(dout, cache):
  x, w, b = cache
  N = x.shape[0]
  dx = np.dot(dout, w.T).reshape(x.shape)
  dw = np.dot(x.reshape(N, -1).T, dout)
  db = np.sum(dout, 0)
  return dx, dw, db


def relu_forward(x):
  out = np.maximum(0, x)
  cache = x
  return out, cache


def relu_backward(dout, cache):
  dx, x = None, cache
  dx = np.where(x > 0, dout, 0)
  return dx


def batchnorm_forward(x, gamma, beta, bn_param):
  """Batch norm; the variance as E[x^2] - E[x]^2, the statistics kept in a dict cache."""
  mode = bn_param['mode']
  eps = bn_param.get('eps', 1e-5)
  momentum = bn_param.get('momentum', 0.9)

  N, D = x.shape
  running_mean = bn_param.get('running_mean', np.zeros(D, dtype=x.dtype))
  running_var = bn_param.get('running_var', np.zeros(D, dtype=x.dtype))

  out, cache = None, None
  if mode == 'train':
    x_mean = np.sum(x, axis=0) / N
    x_var = np.sum(x * x, axis=0) / N - x_mean ** 2
    x_std = np.sqrt(x_var + eps)
    x_nor = (x - x_mean) / x_std
    out = gamma * x_nor + beta
    running_mean = momentum * running_mean + (1 - momentum) * x_mean
    running_var = momentum * running_var + (1 - momentum) * x_var
    cache = {'x': x, 'gamma': gamma, 'x_std': x_std, 'x_nor': x_nor}
  elif mode == 'test':
    out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
  else:
    raise ValueError('Invalid forward batchnorm mode "%s"' % mode)

  bn_param['running_mean'] = running_mean
  bn_param['running_var'] = running_var
  return out, cache


def batchnorm_backward(dout, cache):
  x, gamma, x_std, x_nor = cache['x'], cache['gamma'], cache['x_std'], cache['x_nor']
  N = float(x.shape[0])
  xc = x - np.mean(x, axis=0)
  dx_nor = dout * gamma
  dinv = np.sum(dx_nor * xc, axis=0)
  dm = dx_nor / x_std - xc * dinv / (N * x_std ** 3)
  dx = dm - np.sum(dm, axis=0) / N
  dgamma = np.sum(dout * x_nor, axis=0)
  dbeta = np.sum(dout, axis=0)
  return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
  x_std, x_nor, gamma = cache['x_std'], cache['x_nor'], cache['gamma']
  N = float(dout.shape[0])
  dgamma = np.sum(dout * x_nor, axis=0)
  dbeta = np.sum(dout, axis=0)
  dx = gamma / x_std * (dout - (dbeta + x_nor * dgamma) / N)
  return dx, dgamma, dbeta


def dropout_forward(x, dropout_param):
  """Inverted dropout; p is the probability of dropping a unit."""
  p, mode = dropout_param['p'], dropout_param['mode']
  if 'seed' in dropout_param:
    np.random.seed(dropout_param['seed'])

  mask = None
  out = None
  if mode == 'train':
    mask = np.random.rand(*x.shape) > p
    out = x * mask / (1 - p)
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
    dx = dout * mask / (1 - dropout_param['p'])
  elif mode == 'test':
    dx = dout
  return dx


def svm_loss(x, y):
  N = x.shape[0]
  correct = x[np.arange(N), y]
  margins = np.maximum(0, x - correct[:, np.newaxis] + 1.0)
  margins[np.arange(N), y] = 0
  loss = np.sum(margins) / N
  num_pos = np.sum(margins > 0, axis=1)
  dx = np.zeros_like(x)
  dx[margins > 0] = 1
  dx[np.arange(N), y] -= num_pos
  dx /= N
  return loss, dx


def softmax_loss(x, y):
  probs = np.exp(x - np.max(x, axis=1, keepdims=True))
  probs /= np.sum(probs, axis=1, keepdims=True)
  N = x.shape[0]
  loss = -np.sum(np.log(probs[np.arange(N), y])) / N
  dx = probs.copy()
  dx[np.arange(N), y] -= 1
  dx /= N
  return loss, dx
