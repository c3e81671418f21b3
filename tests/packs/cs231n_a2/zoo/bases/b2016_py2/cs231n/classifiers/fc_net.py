import numpy as np

from cs231n.layers import *
from cs231n.layer_utils import *


class FullyConnectedNet(object):
  """{affine - [batch norm] - relu - [dropout]} x (L - 1) - affine - softmax"""

  def __init__(self, hidden_dims, input_dim=3*32*32, num_classes=10,
               dropout=0, use_batchnorm=False, reg=0.0,
               weight_scale=1e-2, dtype=np.float32, seed=None):
    self.use_batchnorm = use_batchnorm
    self.use_dropout = dropout > 0
    self.reg = reg
    self.num_layers = 1 + len(hidden_dims)
    self.dtype = dtype
    self.params = {}

    dims = [input_dim] + hidden_dims + [num_classes]
    for l in xrange(1, self.num_layers + 1):
      self.params['W%d' % l] = weight_scale * np.random.randn(dims[l - 1], dims[l])
      self.params['b%d' % l] = np.zeros(dims[l])
      if self.use_batchnorm and l < self.num_layers:
        self.params['gamma%d' % l] = np.ones(dims[l])
        self.params['beta%d' % l] = np.zeros(dims[l])

    self.dropout_param = {}
    if self.use_dropout:
      self.dropout_param = {'mode': 'train', 'p': dropout}
      if seed is not None:
        print 'dropout seeded with', seed
        self.dropout_param['seed'] = seed

    self.bn_params = []
    if self.use_batchnorm:
      self.bn_params = [{'mode': 'train'} for i in xrange(self.num_layers - 1)]

    # Cast all parameters to the correct datatype
    for k, v in self.params.iteritems():
      self.params[k] = v.astype(dtype)

  def loss(self, X, y=None):
    X = X.astype(self.dtype)
    mode = 'test' if y is None else 'train'

    if self.dropout_param is not None:
      self.dropout_param['mode'] = mode
    if self.use_batchnorm:
      for bn_param in self.bn_params:
        bn_param[mode] = mode

    scores = None
    caches = {}
    h = X
    for l in xrange(1, self.num_layers):
      h, caches[l] = affine_batchnorm_relu_forward(
        h, self.params['W%d' % l], self.params['b%d' % l], self.params.get('gamma%d' % l),
        self.params.get('beta%d' % l), self.bn_params[l - 1] if self.use_batchnorm else None, self.use_batchnorm)
      if self.use_dropout:
        h, caches['drop%d' % l] = dropout_forward(h, self.dropout_param)
    L = self.num_layers
    scores, caches[L] = affine_forward(h, self.params['W%d' % L], self.params['b%d' % L])

    if mode == 'test':
      return scores

    loss, grads = 0.0, {}
    loss, dh = softmax_loss(scores, y)
    dh, dw, db = affine_backward(dh, caches[L])
    grads['W%d' % L] = dw + self.reg * self.params['W%d' % L]
    grads['b%d' % L] = db
    for l in xrange(L - 1, 0, -1):
      if self.use_dropout:
        dh = dropout_backward(dh, caches['drop%d' % l])
      dh, dw, db, dgamma, dbeta = affine_batchnorm_relu_backward(dh, caches[l], self.use_batchnorm)
      grads['W%d' % l] = dw + self.reg * self.params['W%d' % l]
      grads['b%d' % l] = db
      if self.use_batchnorm:
        grads['gamma%d' % l], grads['beta%d' % l] = dgamma, dbeta
    for l in xrange(1, L + 1):
      W = self.params['W%d' % l]
      loss += 0.5 * self.reg * np.sum(W * W)

    return loss, grads
