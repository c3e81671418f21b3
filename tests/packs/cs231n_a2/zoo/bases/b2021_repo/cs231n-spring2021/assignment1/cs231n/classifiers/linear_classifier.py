from cs231n.classifiers.linear_svm import svm_loss_vectorized


class LinearSVM(object):
    def loss(self, W, X, y, reg):
        return svm_loss_vectorized(W, X, y, reg)
