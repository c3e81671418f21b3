"""A submission's own imports of third-party libraries: an installed one is the real one (and its own
probes for optional libraries fail as they would anywhere), a missing one is stood in and says so when
called. Students' layers.py files import scipy, torch and the course's helpers' imageio beside numpy."""
import importlib.util
import shutil

import pytest

from .conftest import LIMITS, ZOO

BASE = ZOO / "bases" / "b2021_vectorized"
UNITS = ("softmax_loss", "relu_forward", "affine_forward")


@pytest.fixture(scope="module")
def report(pack, tmp_path_factory):
    pytest.importorskip("scipy.special")
    folder = tmp_path_factory.mktemp("third_party") / "third_party"
    shutil.copytree(BASE, folder)
    layers = folder / "cs231n" / "layers.py"
    source = layers.read_text()
    # scipy probes for Cython (which the grader stands in for a submission that imports it) at import.
    source = "from scipy.special import logsumexp\nfrom imageio import imread\nimport torch\n" + source
    start = source.index("def softmax_loss(")
    end = source.find("\ndef ", start + 4) % (len(source) + 1)
    source = source[:start] + '''def softmax_loss(x, y):
    N = x.shape[0]
    log_probs = x - logsumexp(x, axis=1, keepdims=True)
    loss = -np.mean(log_probs[np.arange(N), y])
    dx = np.exp(log_probs)
    dx[np.arange(N), y] -= 1
    return loss, dx / N

''' + source[end:]
    source = source.replace("def relu_forward(x):\n", "def relu_forward(x):\n    imread(str(x.shape))\n", 1)
    layers.write_text(source)
    # A fresh child (not forked from a process that may have imported scipy already).
    return {u.name: u for u in pack.grade(folder, limits=LIMITS, seed=0, only=UNITS, from_parent=False).units}


def test_an_installed_library_the_submission_imports_is_the_real_one(report):
    assert report["softmax_loss"].status == "pass", report["softmax_loss"].message
    assert report["affine_forward"].status == "pass", report["affine_forward"].message


@pytest.mark.skipif(importlib.util.find_spec("imageio") is not None, reason="imageio is installed here")
def test_a_call_into_a_library_the_grader_lacks_says_it_is_not_installed(report):
    """Control: imageio (which the course's data_utils imports) is stood in, and relu_forward calls it."""
    u = report["relu_forward"]
    assert u.status == "crash", u.message
    assert "imread comes from imageio, which is not installed where the grader runs" in u.message
