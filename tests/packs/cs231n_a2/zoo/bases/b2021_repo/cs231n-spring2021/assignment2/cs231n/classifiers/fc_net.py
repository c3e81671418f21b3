from builtins import range
from builtins import object
import numpy as np

from ..layers import *
from ..layer_utils import *


class FullyConnectedNet(object):
    """{affine - [batch/layer norm] - relu - [dropout]} x (L - 1) - affine - softmax"""

    def __init__(
        self,
        hidden_dims,
        input_dim=3 * 32 * 32,
        num_classes=10,
        dropout_keep_ratio=1,
        normalization=None,
        reg=0.0,
        weight_scale=1e-2,
        dtype=np.float32,
        seed=None,
    ):
        self.normalization = normalization
        self.use_dropout = dropout_keep_ratio != 1
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = dtype
        self.params = {}

        self.params["W1"] = weight_scale * np.random.randn(input_dim, hidden_dims[0])
        self.params["b1"] = np.zeros(hidden_dims[0])
        for i in range(1, self.num_layers - 1):
            self.params["W%d" % (i + 1)] = weight_scale * np.random.randn(hidden_dims[i - 1], hidden_dims[i])
            self.params["b%d" % (i + 1)] = np.zeros(hidden_dims[i])
        self.params["W%d" % self.num_layers] = weight_scale * np.random.randn(hidden_dims[-1], num_classes)
        self.params["b%d" % self.num_layers] = np.zeros(num_classes)
        if self.normalization in ["batchnorm", "layernorm"]:
            for i in range(self.num_layers - 1):
                self.params["gamma%d" % (i + 1)] = np.ones(hidden_dims[i])
                self.params["beta%d" % (i + 1)] = np.zeros(hidden_dims[i])

        self.dropout_param = {}
        if self.use_dropout:
            self.dropout_param = {"mode": "train", "p": dropout_keep_ratio}
            if seed is not None:
                self.dropout_param["seed"] = seed

        self.bn_params = []
        if self.normalization == "batchnorm":
            self.bn_params = [{"mode": "train"} for i in range(self.num_layers - 1)]
        if self.normalization == "layernorm":
            self.bn_params = [{} for i in range(self.num_layers - 1)]

        for k, v in self.params.items():
            self.params[k] = v.astype(dtype)

    def loss(self, X, y=None):
        X = X.astype(self.dtype)
        mode = "test" if y is None else "train"

        if self.use_dropout:
            self.dropout_param["mode"] = mode
        if self.normalization == "batchnorm":
            for bn_param in self.bn_params:
                bn_param["mode"] = mode
        scores = None

        hist = []
        out = X.copy()
        layer_forward = {"batchnorm": affine_bn_relu_forward, "layernorm": affine_ln_relu_forward}.get(self.normalization)
        layer_backward = {"batchnorm": affine_bn_relu_backward, "layernorm": affine_ln_relu_backward}.get(self.normalization)
        for i in range(1, self.num_layers):
            if layer_forward is None:
                out, cache = affine_relu_forward(x=out, w=self.params["W%d" % i], b=self.params["b%d" % i])
            else:
                out, cache = layer_forward(x=out, w=self.params["W%d" % i], b=self.params["b%d" % i],
                                           gamma=self.params["gamma%d" % i], beta=self.params["beta%d" % i],
                                           n_param=self.bn_params[i - 1])
            if self.use_dropout:
                out, dropout_cache = dropout_forward(out, self.dropout_param)
                cache = (cache, dropout_cache)
            hist.append(cache)
        scores, fc_cache = affine_forward(x=out, w=self.params["W%d" % self.num_layers],
                                          b=self.params["b%d" % self.num_layers])

        if mode == "test":
            return scores

        loss, grads = 0.0, {}
        L = self.num_layers
        loss, dout = softmax_loss(scores, y)
        dout, grads["W%d" % L], grads["b%d" % L] = affine_backward(dout, fc_cache)
        for i in range(L - 1, 0, -1):
            cache = hist[i - 1]
            if self.use_dropout:
                cache, dropout_cache = cache
                dout = dropout_backward(dout, dropout_cache)
            if layer_backward is None:
                dout, grads["W%d" % i], grads["b%d" % i] = affine_relu_backward(dout, cache)
            else:
                dout, grads["W%d" % i], grads["b%d" % i], grads["gamma%d" % i], grads["beta%d" % i] = \
                    layer_backward(dout, cache)

        for k in range(1, L + 1):
            loss += 0.5 * self.reg * np.sum(self.params["W%d" % k] ** 2)
            grads["W%d" % k] += self.reg * self.params["W%d" % k]

        return loss, grads
