from builtins import range
import numpy as np

from ..layers import *
from ..layer_utils import *


class FullyConnectedNet(object):
    """{affine - [batch/layer norm] - relu - [dropout]} x (L - 1) - affine - softmax, L2 on every W."""

    def __init__(self, hidden_dims, input_dim=3 * 32 * 32, num_classes=10,
                 dropout=1, normalization=None, reg=0.0, weight_scale=1e-2, dtype=np.float32, seed=None):
        self.normalization = normalization
        self.use_dropout = dropout != 1
        p = dropout
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = dtype
        self.params = {}

        dims = [input_dim] + list(hidden_dims) + [num_classes]
        for i in range(self.num_layers):
            self.params['W%d' % (i + 1)] = weight_scale * np.random.randn(dims[i], dims[i + 1])
            self.params['b%d' % (i + 1)] = np.zeros(dims[i + 1])
            if self.normalization is not None and i < self.num_layers - 1:
                self.params['gamma%d' % (i + 1)] = np.ones(dims[i + 1])
                self.params['beta%d' % (i + 1)] = np.zeros(dims[i + 1])

        self.dropout_param = {}
        if self.use_dropout:
            self.dropout_param = {'mode': 'train', 'p': p}
            if seed is not None:
                self.dropout_param['seed'] = seed

        self.bn_params = []
        if self.normalization == 'batchnorm':
            self.bn_params = [{'mode': 'train'} for i in range(self.num_layers - 1)]
        if self.normalization == 'layernorm':
            self.bn_params = [{} for i in range(self.num_layers - 1)]

        for k, v in self.params.items():
            self.params[k] = v.astype(dtype)

    def loss(self, X, y=None):
        """X: (N, d1, ..., dk); y: (N,) or None -> scores (N, C) if y is None, else (loss, grads)"""
        X = X.astype(self.dtype)
        mode = 'test' if y is None else 'train'

        if self.use_dropout:
            self.dropout_param['mode'] = mode
        if self.normalization == 'batchnorm':
            for bn_param in self.bn_params:
                bn_param['mode'] = mode

        scores = None
        caches = {}
        h = X
        L = self.num_layers
        for i in range(1, L):
            W, b = self.params['W%d' % i], self.params['b%d' % i]
            if self.normalization is not None:
                h, caches['layer%d' % i] = affine_norm_relu_forward(
                    h, W, b, self.params['gamma%d' % i], self.params['beta%d' % i],
                    self.bn_params[i - 1], self.normalization)
            else:
                h, caches['layer%d' % i] = affine_relu_forward(h, W, b)
            if self.use_dropout:
                h, caches['drop%d' % i] = dropout_forward(h, self.dropout_param)
        scores, caches['layer%d' % L] = affine_forward(h, self.params['W%d' % L], self.params['b%d' % L])

        if mode == 'test':
            return scores

        loss, grads = 0.0, {}
        loss, dscores = softmax_loss(scores, y)
        dh, grads['W%d' % L], grads['b%d' % L] = affine_backward(dscores, caches['layer%d' % L])
        for i in range(L - 1, 0, -1):
            if self.use_dropout:
                dh = dropout_backward(dh, caches['drop%d' % i])
            if self.normalization is not None:
                dh, dW, db, dgamma, dbeta = affine_norm_relu_backward(dh, caches['layer%d' % i], self.normalization)
                grads['gamma%d' % i], grads['beta%d' % i] = dgamma, dbeta
            else:
                dh, dW, db = affine_relu_backward(dh, caches['layer%d' % i])
            grads['W%d' % i], grads['b%d' % i] = dW, db

        for i in range(1, L + 1):
            W = self.params['W%d' % i]
            loss += 0.5 * self.reg * np.sum(W * W)
            grads['W%d' % i] += self.reg * W

        return loss, grads
