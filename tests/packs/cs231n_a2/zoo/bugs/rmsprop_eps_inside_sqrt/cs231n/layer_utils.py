from .layers import *
from .fast_layers import *


def affine_relu_forward(x, w, b):
    """affine then ReLU; the cache holds both layers' caches"""
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    cache = (fc_cache, relu_cache)
    return out, cache


def affine_relu_backward(dout, cache):
    fc_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    dx, dw, db = affine_backward(da, fc_cache)
    return dx, dw, db


def affine_norm_relu_forward(x, w, b, gamma, beta, norm_param, normalization):
    """affine, batch or layer norm, ReLU"""
    a, fc_cache = affine_forward(x, w, b)
    if normalization == 'batchnorm':
        an, norm_cache = batchnorm_forward(a, gamma, beta, norm_param)
    else:
        an, norm_cache = layernorm_forward(a, gamma, beta, norm_param)
    out, relu_cache = relu_forward(an)
    return out, (fc_cache, norm_cache, relu_cache)


def affine_norm_relu_backward(dout, cache, normalization):
    fc_cache, norm_cache, relu_cache = cache
    dan = relu_backward(dout, relu_cache)
    if normalization == 'batchnorm':
        da, dgamma, dbeta = batchnorm_backward_alt(dan, norm_cache)
    else:
        da, dgamma, dbeta = layernorm_backward(dan, norm_cache)
    dx, dw, db = affine_backward(da, fc_cache)
    return dx, dw, db, dgamma, dbeta
