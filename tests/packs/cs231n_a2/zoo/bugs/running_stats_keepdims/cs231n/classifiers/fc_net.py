from builtins import range
import numpy as np

from ..layers import *


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
        L = self.num_layers
        caches = []
        out = X
        for i in range(1, L):
            out, fc_cache = affine_forward(out, self.params[f'W{i}'], self.params[f'b{i}'])
            norm_cache = None
            if self.normalization == 'batchnorm':
                out, norm_cache = batchnorm_forward(out, self.params[f'gamma{i}'], self.params[f'beta{i}'], self.bn_params[i - 1])
            elif self.normalization == 'layernorm':
                out, norm_cache = layernorm_forward(out, self.params[f'gamma{i}'], self.params[f'beta{i}'], self.bn_params[i - 1])
            out, relu_cache = relu_forward(out)
            drop_cache = None
            if self.use_dropout:
                out, drop_cache = dropout_forward(out, self.dropout_param)
            caches.append((fc_cache, norm_cache, relu_cache, drop_cache))
        scores, last_cache = affine_forward(out, self.params[f'W{L}'], self.params[f'b{L}'])

        if mode == 'test':
            return scores

        loss, grads = 0.0, {}
        loss, dout = softmax_loss(scores, y)
        loss += 0.5 * self.reg * sum(np.sum(self.params[f'W{i}'] ** 2) for i in range(1, L + 1))

        dout, dW, db = affine_backward(dout, last_cache)
        grads[f'W{L}'] = dW + self.reg * self.params[f'W{L}']
        grads[f'b{L}'] = db
        for i in reversed(range(1, L)):
            fc_cache, norm_cache, relu_cache, drop_cache = caches[i - 1]
            if self.use_dropout:
                dout = dropout_backward(dout, drop_cache)
            dout = relu_backward(dout, relu_cache)
            if self.normalization == 'batchnorm':
                dout, grads[f'gamma{i}'], grads[f'beta{i}'] = batchnorm_backward(dout, norm_cache)
            elif self.normalization == 'layernorm':
                dout, grads[f'gamma{i}'], grads[f'beta{i}'] = layernorm_backward(dout, norm_cache)
            dout, dW, db = affine_backward(dout, fc_cache)
            grads[f'W{i}'] = dW + self.reg * self.params[f'W{i}']
            grads[f'b{i}'] = db

        return loss, grads
