from builtins import range
import numpy as np
from past.builtins import xrange


def svm_loss_vectorized(W, X, y, reg):
    """Multiclass SVM on scores X W; (loss, dW)."""
    N = X.shape[0]
    scores = X.dot(W)
    margins = np.maximum(0, scores - scores[np.arange(N), y][:, None] + 1)
    margins[np.arange(N), y] = 0
    loss = margins.sum() / N + reg * np.sum(W * W)
    coeff = (margins > 0).astype(float)
    coeff[np.arange(N), y] = -coeff.sum(axis=1)
    dW = X.T.dot(coeff) / N + 2 * reg * W
    return loss, dW
