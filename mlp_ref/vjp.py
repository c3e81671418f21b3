"""out.backward(dout) without torch's first-call import.

The gradient of sum(out * dout) with respect to out is 1 * dout, which is dout exactly, so every
gradient below it is the one torch's own out.backward(dout) gives, bit for bit. torch's version checks
dout's shape through torch.fx's symbolic shapes, whose first import loads sympy: 0.4 s in every process
that computes torch's answers to an upstream gradient (a grading, a parity check from dout).
"""


def _weighted(out, dout):
    """sum(out * dout), a scalar whose gradient with respect to out is dout; out and dout must agree."""
    if dout.shape != out.shape or dout.dtype != out.dtype:
        raise ValueError(f"dout: expected shape {tuple(out.shape)} and dtype {out.dtype} (out's), "
                         f"got shape {tuple(dout.shape)} and dtype {dout.dtype}")
    return (out * dout).sum()


def backward(out, dout):
    """out.backward(dout): dout's gradient added into .grad of every leaf below out."""
    _weighted(out, dout).backward()


def grad(out, inputs, dout):
    """torch.autograd.grad(out, inputs, grad_outputs=dout): the gradients with respect to inputs, as a tuple."""
    import torch

    return torch.autograd.grad(_weighted(out, dout), inputs)
