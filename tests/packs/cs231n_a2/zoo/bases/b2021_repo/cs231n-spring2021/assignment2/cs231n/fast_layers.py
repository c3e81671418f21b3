from __future__ import print_function
import numpy as np

try:
    from cs231n.im2col_cython import col2im_cython, im2col_cython
except ImportError:
    print("run `python setup.py build_ext --inplace` in cs231n/ to build im2col_cython (ConvolutionalNetworks only)")


def conv_forward_fast(x, w, b, conv_param):
    cols = im2col_cython(x, w.shape[2], w.shape[3], conv_param["pad"], conv_param["stride"])
    return cols, (x, w, b, conv_param, cols)
