"""The README's five-stage example runs as written, and does what its comments say."""
import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_five_stage_example_runs_and_trains():
    text = README.read_text()
    block = re.search(r"## The five stages\n\n```python\n(.*?)```", text, re.S).group(1)
    scope = {}
    exec(compile(block, "README.md", "exec"), scope)
    net, x, y = scope["net"], scope["x"], scope["y"]
    assert isinstance(scope["value"], float)
    assert all(np.abs(g).sum() > 0 for g in net.grads.values())
    before = scope["value"]
    for _ in range(20):
        value = net.loss(net.forward(x), y)
        net.zero_grad()
        net.backward()
        net.step(lr=0.01)
    assert value < before
