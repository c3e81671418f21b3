"""vjp.backward and vjp.grad give torch's own out.backward(dout) and autograd.grad bit for bit, and
refuse a dout that does not match out; in a fresh process they leave sympy unloaded."""
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mlp_ref import vjp


def graph(dtype, seed):
    """Leaves and an output through the ops the oracles use: matmul, bias, sigmoid, ReLU, batch norm."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(5, 3, dtype=dtype, generator=g, requires_grad=True)
    W = torch.randn(4, 3, dtype=dtype, generator=g, requires_grad=True)
    b = torch.randn(4, dtype=dtype, generator=g, requires_grad=True)
    gamma = torch.rand(4, dtype=dtype, generator=g, requires_grad=True)
    h = F.batch_norm(torch.relu(x @ W.T + b), None, None, gamma, None, training=True)
    return (x, W, b, gamma), torch.sigmoid(h)


def same_bits(a, b):
    return a.shape == b.shape and np.array_equal(a.numpy().view(np.uint8), b.numpy().view(np.uint8))


DOUTS = {"ordinary": lambda s: torch.randn(s), "wide range": lambda s: torch.randn(s) * 10.0 ** torch.randint(-30, 30, s),
         "inf and nan": lambda s: torch.tensor([np.inf, -np.inf, np.nan, 1.0] * 5).reshape(s)}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("kind", DOUTS)
def test_backward_and_grad_are_torchs_own_bit_for_bit(dtype, kind):
    dout = DOUTS[kind]((5, 4)).to(dtype)
    leaves, out = graph(dtype, 0)
    out.backward(dout)
    theirs = [t.grad.clone() for t in leaves]
    leaves, out = graph(dtype, 0)
    vjp.backward(out, dout)
    assert all(same_bits(t.grad, theirs_t) for t, theirs_t in zip(leaves, theirs))
    leaves, out = graph(dtype, 0)
    mine = vjp.grad(out, leaves, dout)
    leaves, out = graph(dtype, 0)
    reference = torch.autograd.grad(out, leaves, grad_outputs=dout)
    assert all(same_bits(a, b) for a, b in zip(mine, reference))


@pytest.mark.parametrize("dout, why", [(torch.ones(4, 5), r"expected shape \(5, 4\).*got shape \(4, 5\)"),
                                       (torch.ones(4), r"got shape \(4,\)"),
                                       (torch.ones(5, 4, dtype=torch.float64), "dtype torch.float32.*got.*float64")])
def test_a_dout_unlike_out_is_refused_not_broadcast(dout, why):
    _, out = graph(torch.float32, 1)
    with pytest.raises(ValueError, match="dout: .*" + why):
        vjp.backward(out, dout)


PROBE = """
import sys, torch
from mlp_ref import vjp
x = torch.ones(3, requires_grad=True)
vjp.backward(x * 2, torch.ones(3))
after_vjp = "sympy" in sys.modules
(x * 2).backward(torch.ones(3))
print(after_vjp, "sympy" in sys.modules)
"""


def test_a_fresh_process_leaves_sympy_unloaded_where_torchs_own_backward_loads_it():
    seen = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout.split()
    # The second shows the cost is real: torch's own backward with an explicit gradient loads sympy.
    assert seen == ["False", "True"]
