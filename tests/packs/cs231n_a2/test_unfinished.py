"""A half-written package is unfinished, not wrong: each blank function (the course's `out = None ... pass`
body, or a NotImplementedError) is 'missing' with "not implemented yet" and its name, what waits on it
says so, and a written but wrong function still fails."""
import re
import shutil

import pytest

from .conftest import LIMITS, ZOO

BASE = ZOO / "bases" / "b2021_vectorized"


def _replace(source, name, body):
    """source with the function `name` replaced by `body` (a whole def)."""
    start = source.index(f"def {name}(")
    end = source.find("\ndef ", start + 4)
    return source[:start] + body + (source[end:] if end >= 0 else "\n")


BLANK_BACKWARD = '''def batchnorm_backward(dout, cache):
    dx, dgamma, dbeta = None, None, None
    # TODO: Implement the backward pass for batch normalization.
    pass
    return dx, dgamma, dbeta
'''
BLANK_FORWARD = '''def layernorm_forward(x, gamma, beta, ln_param):
    out, cache = None, None
    # TODO: Implement the forward pass for layer normalization.
    pass
    return out, cache
'''
RAISES = '''def dropout_forward(x, dropout_param):
    raise NotImplementedError("dropout_forward")
'''
WRONG = '''def relu_forward(x):
    out = x.copy()
    return out, x
'''


@pytest.fixture(scope="module")
def report(pack, tmp_path_factory):
    folder = tmp_path_factory.mktemp("half") / "half"
    shutil.copytree(BASE, folder)
    layers = folder / "cs231n" / "layers.py"
    source = layers.read_text()
    for name, body in (("batchnorm_backward", BLANK_BACKWARD), ("layernorm_forward", BLANK_FORWARD),
                       ("dropout_forward", RAISES), ("relu_forward", WRONG)):
        source = _replace(source, name, body)
    layers.write_text(source)
    return pack.grade(folder, limits=LIMITS, seed=0)


def units(report):
    return {u.name: u for u in report.units}


@pytest.mark.parametrize("name, how", [
    ("batchnorm_backward", "returns None for dx"),
    ("layernorm_forward", "returns None for out"),
    ("dropout_forward", "raises NotImplementedError"),
])
def test_a_blank_function_is_not_implemented_yet_by_name(report, name, how):
    u = units(report)[name]
    assert u.status == "missing" and u.diagnosis is None
    assert u.message.startswith(f"not implemented yet: {name} {how}"), u.message


@pytest.mark.parametrize("name, waits_on", [("layernorm_backward", "layernorm_forward"),
                                            ("dropout_backward", "dropout_forward")])
def test_a_backward_whose_forward_is_blank_waits_for_it(report, name, waits_on):
    u = units(report)[name]
    assert u.status == "missing", u.message
    assert f"not run: {waits_on} is not implemented yet" in u.message


def test_the_model_with_its_own_layers_names_the_layers_it_waits_for(report):
    u = units(report)["FullyConnectedNet[layernorm] (own layers)"]
    assert u.status == "missing"
    assert re.search(r"needs .*layernorm_forward.*, not implemented yet", u.message), u.message


def test_control_a_written_but_wrong_function_still_fails_and_the_rest_pass(report):
    """The missing status is for None and NotImplementedError alone: a wrong relu is a failure."""
    got = units(report)
    assert got["relu_forward"].status == "fail"
    for name in ("affine_forward", "affine_backward", "batchnorm_forward", "softmax_loss", "adam"):
        assert got[name].status == "pass", (name, got[name].message)
