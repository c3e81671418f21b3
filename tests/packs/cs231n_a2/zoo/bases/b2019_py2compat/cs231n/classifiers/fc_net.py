from builtins import range
from builtins import object
from past.builtins import xrange
import numpy as np

from cs231n.layers import *


class FullyConnectedNet(object):
    """{affine - [batch/layer norm] - relu - [dropout]} x (L - 1) - affine - softmax."""

    def __init__(self, hidden_dims, input_dim=3 * 32 * 32, num_classes=10,
                 dropout=1, normalization=None, reg=0.0,
                 weight_scale=1e-2, dtype=np.float32, seed=None):
        self.normalization = normalization
        self.use_dropout = dropout != 1
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = dtype
        self.params = {}

        sizes = [input_dim] + hidden_dims + [num_classes]
        for i in xrange(self.num_layers):
            self.params['W' + str(i + 1)] = np.random.randn(sizes[i], sizes[i + 1]) * weight_scale
            self.params['b' + str(i + 1)] = np.zeros(sizes[i + 1])
        if self.normalization in ('batchnorm', 'layernorm'):
            for i in xrange(self.num_layers - 1):
                self.params['gamma' + str(i + 1)] = np.ones(sizes[i + 1])
                self.params['beta' + str(i + 1)] = np.zeros(sizes[i + 1])

        self.dropout_param = {}
        if self.use_dropout:
            self.dropout_param = {'mode': 'train', 'p': dropout}
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
        X = X.astype(self.dtype)
        mode = 'test' if y is None else 'train'

        if self.use_dropout:
            self.dropout_param['mode'] = mode
        if self.normalization == 'batchnorm':
            for bn_param in self.bn_params:
                bn_param['mode'] = mode
        scores = None

        stack = []
        h = X
        for i in xrange(1, self.num_layers):
            h, c = affine_forward(h, self.params['W' + str(i)], self.params['b' + str(i)])
            stack.append(c)
            if self.normalization == 'batchnorm':
                h, c = batchnorm_forward(h, self.params['gamma' + str(i)], self.params['beta' + str(i)],
                                         self.bn_params[i - 1])
                stack.append(c)
            elif self.normalization == 'layernorm':
                h, c = layernorm_forward(h, self.params['gamma' + str(i)], self.params['beta' + str(i)],
                                         self.bn_params[i - 1])
                stack.append(c)
            h, c = relu_forward(h)
            stack.append(c)
            if self.use_dropout:
                h, c = dropout_forward(h, self.dropout_param)
                stack.append(c)
        L = str(self.num_layers)
        scores, c = affine_forward(h, self.params['W' + L], self.params['b' + L])
        stack.append(c)

        if mode == 'test':
            return scores

        loss, grads = 0.0, {}
        loss, dh = softmax_loss(scores, y)
        for i in xrange(1, self.num_layers + 1):
            W = self.params['W' + str(i)]
            loss += 0.5 * self.reg * np.sum(W * W)

        dh, grads['W' + L], grads['b' + L] = affine_backward(dh, stack.pop())
        for i in xrange(self.num_layers - 1, 0, -1):
            if self.use_dropout:
                dh = dropout_backward(dh, stack.pop())
            dh = relu_backward(dh, stack.pop())
            if self.normalization == 'batchnorm':
                dh, grads['gamma' + str(i)], grads['beta' + str(i)] = batchnorm_backward_alt(dh, stack.pop())
            elif self.normalization == 'layernorm':
                dh, grads['gamma' + str(i)], grads['beta' + str(i)] = layernorm_backward(dh, stack.pop())
            dh, grads['W' + str(i)], grads['b' + str(i)] = affine_backward(dh, stack.pop())
        for i in xrange(1, self.num_layers + 1):
            grads['W' + str(i)] += self.reg * self.params['W' + str(i)]

        return loss, grads
