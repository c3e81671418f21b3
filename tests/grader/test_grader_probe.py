"""The float64 probe's static scan: it names the calls that make a float32 tensor whatever the inputs'
dtype, and nothing else (the probe runs the file too; the scan only says which line to fix)."""
import pytest

from mlp_ref.packs.dlsp_hw1.probe import CLEAR_FIX, scan

SOURCE = '''import numpy as np
import torch


class MLP:
    def __init__(self, n):
        self.W = torch.randn(n, n)

    def backward(self, x, dz):
        ones = torch.ones(x.shape[0])
        mask = (x > 0).float()
        fine = torch.ones(x.shape[0], dtype=x.dtype)
        also_fine = torch.zeros_like(x)
        back = torch.tensor(np.asarray(dz).astype(np.float32))
        pinned = torch.zeros(3, dtype=torch.float32)
        return ones @ dz, mask, fine, also_fine, back, pinned
'''


def test_scan_names_each_float32_maker_with_its_line_and_fix():
    found = {f.line: (f.code, f.fix) for f in scan(SOURCE)}
    assert found[10] == ("torch.ones(x.shape[0])", "pass dtype=x.dtype or use .sum(0)")
    assert found[11] == ("(x > 0).float()", "use .to(x.dtype)")
    assert 14 in found and found[15][1] == "pass dtype=x.dtype"


def test_scan_leaves_init_and_dtype_following_calls_alone():
    """Negative control: __init__'s tensors are replaced by the grader; dtype=x.dtype and *_like follow x."""
    lines = {f.line for f in scan(SOURCE)}
    assert not lines & {7, 12, 13}


@pytest.mark.parametrize("source", ["def broken(:\n", "x = 1\n" * 10, ""])
def test_scan_of_unparsable_or_clean_source_finds_nothing(source):
    assert scan(source) == []


CLEARS = '''import torch


class MLP:
    def __init__(self, n):
        self.grads = {"dJdW1": torch.zeros(n, n)}
        self.buffer = torch.zeros(n)

    def clear_grad_and_cache(self):
        for g in self.grads.values():
            g.zero_()

    def backward(self, dJdy_hat):
        self.buffer.zero_()
        self.grads["dJdW1"].fill_(0.0)


def mse_loss(y, y_hat):
    return torch.tensor([((y_hat - y) ** 2).mean().item()]), 2 * (y_hat - y) / y.numel()


def helper():
    return torch.ones(3)
'''


def test_scan_names_grads_cleared_in_place_and_not_other_buffers():
    """zero_() in clear_grad_and_cache or on a grad keeps __init__'s float32; a buffer zeroed elsewhere is no grad."""
    found = {f.line: f for f in scan(CLEARS)}
    assert found[11].fix == CLEAR_FIX
    assert found[11].said().startswith("line 11 clears the grads in place with g.zero_()")
    assert found[15].fix == CLEAR_FIX
    assert 14 not in found  # negative control: self.buffer.zero_() in backward


def test_scan_fix_names_a_tensor_in_scope_where_the_call_is():
    """mse_loss(y, y_hat) has no x: the fix takes y_hat's dtype; a function with no arguments falls back to x."""
    found = {f.line: f for f in scan(CLEARS)}
    assert found[19].fix == "pass dtype=y_hat.dtype" and "x.dtype" not in found[19].fix
    assert found[23].fix == "pass dtype=x.dtype or use .sum(0)"
