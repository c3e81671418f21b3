from builtins import range
import numpy as np

from ..layers import *
from ..layer_utils import *


class FullyConnectedNet(object):
    """{affine - [batch/layer norm] - relu - [dropout]} x (L - 1) - affine - softmax, L2 on every W."""

    def __init__(self, hidden_dims, input_dim=3 * 32 * 32, num_classes=10,
                 dropout_keep_ratio=1, normalization=None, reg=0.0, weight_scale=1e-2, dtype=np.float32, seed=None):
        self.normalization = normalization
        self.use_dropout = dropout_keep_ratio != 1
        p = dropout_keep_ratio
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = dtype
        self.params = {}

        in_dim = input_dim
        for i, h in enumerate(hidden_dims, start=1):
            self.params[f'W{i}'] = np.random.normal(0.0, weight_scale, (in_dim, h))
            self.params[f'b{i}'] = np.zeros(h)
            if self.normalization in ('batchnorm', 'layernorm'):
                self.params[f'gamma{i}'] = np.ones(h)
                self.params[f'beta{i}'] = np.zeros(h)
            in_dim = h
        L = self.num_layers
        self.params[f'W{L}'] = np.random.normal(0.0, weight_scale, (in_dim, num_classes))
        self.params[f'b{L}'] = np.zeros(num_classes)

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

        L = self.num_layers
        cache = {}
        a = X
        for l in range(1, L):
            W, b = self.params['W' + str(l)], self.params['b' + str(l)]
            if self.normalization is None:
                a, cache['ar' + str(l)] = affine_relu_forward(a, W, b)
            else:
                z, cache['fc' + str(l)] = affine_forward(a, W, b)
                g, bt = self.params['gamma' + str(l)], self.params['beta' + str(l)]
                if self.normalization == 'batchnorm':
                    z, cache['norm' + str(l)] = batchnorm_forward(z, g, bt, self.bn_params[l - 1])
                else:
                    z, cache['norm' + str(l)] = layernorm_forward(z, g, bt, self.bn_params[l - 1])
                a, cache['relu' + str(l)] = relu_forward(z)
            if self.use_dropout:
                a, cache['drop' + str(l)] = dropout_forward(a, self.dropout_param)
        scores, cache['fc' + str(L)] = affine_forward(a, self.params['W' + str(L)], self.params['b' + str(L)])

        if y is None:
            return scores

        grads = {}
        loss, dscores = softmax_loss(scores, y)
        da, grads['W' + str(L)], grads['b' + str(L)] = affine_backward(dscores, cache['fc' + str(L)])
        for l in range(L - 1, 0, -1):
            if self.use_dropout:
                da = dropout_backward(da, cache['drop' + str(l)])
            if self.normalization is None:
                da, grads['W' + str(l)], grads['b' + str(l)] = affine_relu_backward(da, cache['ar' + str(l)])
            else:
                dz = relu_backward(da, cache['relu' + str(l)])
                if self.normalization == 'batchnorm':
                    dz, dg, dbt = batchnorm_backward(dz, cache['norm' + str(l)])
                else:
                    dz, dg, dbt = layernorm_backward(dz, cache['norm' + str(l)])
                grads['gamma' + str(l)], grads['beta' + str(l)] = dg, dbt
                da, grads['W' + str(l)], grads['b' + str(l)] = affine_backward(dz, cache['fc' + str(l)])

        for l in range(1, L + 1):
            W = self.params['W' + str(l)]
            loss += 0.5 * self.reg * np.sum(W ** 2)
            grads['W' + str(l)] = grads['W' + str(l)] + self.reg * W

        return loss, grads
