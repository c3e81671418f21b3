"""The float64 probe's static scan: it names the calls that make a float32 tensor whatever the inputs'
dtype, and nothing else (the probe runs the file too; the scan only says which line to fix)."""
import pytest

from mlp_ref.grader.probe import scan

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
    found = {line: (code, fix) for line, code, fix in scan(SOURCE)}
    assert found[10] == ("torch.ones(x.shape[0])", "pass dtype=x.dtype or use .sum(0)")
    assert found[11] == ("(x > 0).float()", "use .to(x.dtype)")
    assert 14 in found and found[15][1] == "pass dtype=x.dtype"


def test_scan_leaves_init_and_dtype_following_calls_alone():
    """Negative control: __init__'s tensors are replaced by the grader; dtype=x.dtype and *_like follow x."""
    lines = {line for line, _, _ in scan(SOURCE)}
    assert not lines & {7, 12, 13}


@pytest.mark.parametrize("source", ["def broken(:\n", "x = 1\n" * 10, ""])
def test_scan_of_unparsable_or_clean_source_finds_nothing(source):
    assert scan(source) == []
