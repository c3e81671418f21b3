from cs231n.layers import *


def affine_relu_forward(x, w, b):
  a, fc_cache = affine_forward(x, w, b)
  out, relu_cache = relu_forward(a)
  cache = (fc_cache, relu_cache)
  return out, cache


def affine_relu_backward(dout, cache):
  fc_cache, relu_cache = cache
  da = relu_backward(dout, relu_cache)
  dx, dw, db = affine_backward(da, fc_cache)
  return dx, dw, db


def affine_batchnorm_relu_forward(x, w, b, gamma, beta, bn_param, use_batchnorm):
  """affine - [batch norm] - relu; without batch norm gamma and beta are left out"""
  a, fc_cache = affine_forward(x, w, b)
  bn_cache = None
  if use_batchnorm:
    a, bn_cache = batchnorm_forward(a, gamma, beta, bn_param)
  out, relu_cache = relu_forward(a)
  return out, (fc_cache, bn_cache, relu_cache)


def affine_batchnorm_relu_backward(dout, cache, use_batchnorm):
  fc_cache, bn_cache, relu_cache = cache
  da = relu_backward(dout, relu_cache)
  dgamma = dbeta = None
  if use_batchnorm:
    da, dgamma, dbeta = batchnorm_backward_alt(da, bn_cache)
  dx, dw, db = affine_backward(da, fc_cache)
  return dx, dw, db, dgamma, dbeta
