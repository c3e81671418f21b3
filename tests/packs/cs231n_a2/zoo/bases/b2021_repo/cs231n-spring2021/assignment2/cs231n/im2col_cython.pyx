import numpy as np
cimport numpy as np


def im2col_cython(np.ndarray x, int field_height, int field_width, int padding, int stride):
    return x
