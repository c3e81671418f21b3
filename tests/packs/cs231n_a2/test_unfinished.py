"""A half-written package is unfinished, not wrong: each blank function (the course's `out = None ... pass`
body, the same followed by the course's own line that then uses the None, a backward that computes two of
its three results, the net's `loss, grads = 0.0, {}` returned as it stands, or a NotImplementedError) is
'missing' with "not implemented yet" and its name, what waits on it says so, and a written but wrong
function still fails. A helper module the package leaves out is said to be left out."""
import re
import shutil

import pytest

from mlp_ref.packs.cs231n_a2.interface import OWN

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
# The course's dropout_forward as handed out: blank branches, then its own cast of `out`.
BLANK_DROPOUT = '''def dropout_forward(x, dropout_param):
    p, mode = dropout_param['p'], dropout_param['mode']
    if 'seed' in dropout_param:
        np.random.seed(dropout_param['seed'])

    mask = None
    out = None

    if mode == 'train':
        # TODO: Implement training phase forward pass for inverted dropout.
        pass
    elif mode == 'test':
        # TODO: Implement the test phase forward pass for inverted dropout.
        pass

    cache = (dropout_param, mask)
    out = out.astype(x.dtype, copy=False)

    return out, cache
'''
# dgamma and dbeta written, dx still the template's None.
HALF_ALT = '''def batchnorm_backward_alt(dout, cache):
    dx, dgamma, dbeta = None, None, None
    x_hat, gamma, inv_std = cache
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    return dx, dgamma, dbeta
'''
RAISES = '''def adam(w, dw, config=None):
    raise NotImplementedError("adam")
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
                       ("dropout_forward", BLANK_DROPOUT), ("batchnorm_backward_alt", HALF_ALT),
                       ("relu_forward", WRONG)):
        source = _replace(source, name, body)
    layers.write_text(source)
    optim = folder / "cs231n" / "optim.py"
    optim.write_text(_replace(optim.read_text(), "adam", RAISES))
    return pack.grade(folder, limits=LIMITS, seed=0)


def units(report):
    return {u.name: u for u in report.units}


@pytest.mark.parametrize("name, how", [
    ("batchnorm_backward", "returns None for dx"),
    ("layernorm_forward", "returns None for out"),
    ("dropout_forward", "leaves a value None ('NoneType' object has no attribute 'astype')"),
    ("batchnorm_backward_alt", "returns None for dx"),
    ("adam", "raises NotImplementedError"),
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
    for name in ("affine_forward", "affine_backward", "batchnorm_forward", "softmax_loss", "sgd"):
        assert got[name].status == "pass", (name, got[name].message)


def test_the_net_that_waits_on_a_blank_layer_names_it(report):
    """dropout_forward's blank body raises inside the net too: the net waits for it, it is not wrong."""
    u = units(report)["FullyConnectedNet[dropout] (own layers)"]
    assert u.status == "missing" and "needs dropout_forward" in u.message, u.message


@pytest.fixture(scope="module")
def blank_backward(pack, tmp_path_factory):
    """The net's forward written, its backward the course's `loss, grads = 0.0, {}` as handed out."""
    folder = tmp_path_factory.mktemp("blank_net") / "blank_net"
    shutil.copytree(BASE, folder)
    fc_net = folder / "cs231n" / "classifiers" / "fc_net.py"
    source = fc_net.read_text()
    start = source.index("        loss, grads = 0.0, {}\n") + len("        loss, grads = 0.0, {}\n")
    end = source.index("        return loss, grads")
    fc_net.write_text(source[:start] + "        pass\n\n" + source[end:])
    return pack.grade(folder, limits=LIMITS, seed=0, only=("FullyConnectedNet[batchnorm]", "FullyConnectedNet[plain]"))


def test_a_blank_backward_pass_is_not_implemented_yet_not_a_wrong_loss(blank_backward):
    for name in ("FullyConnectedNet[batchnorm]", "FullyConnectedNet[plain]"):
        u = units(blank_backward)[name]
        assert u.status == "missing", (name, u.message)
        assert "returns no gradients (loss 0.0, grads {})" in u.message, u.message


@pytest.mark.parametrize("imports, says", [
    ("from ..layer_utils import *", "NameError: name 'affine_norm_relu_forward' is not defined (cs231n.layer_utils is "
                                    "not in the submission"),
    ("from ..layer_utils import affine_relu_forward, affine_relu_backward, affine_norm_relu_forward, "
     "affine_norm_relu_backward", "affine_norm_relu_forward comes from cs231n.layer_utils, which the submission "
                                  "does not include"),
])
def test_a_call_into_a_left_out_helper_module_says_so(pack, tmp_path, imports, says):
    """fc_net calls affine_norm_relu_forward from a layer_utils.py the zip left out: the stood-in module
    cannot run it, and the report says the module is not in the submission instead of 'not implemented
    yet'. Control: the net without a norm calls the course's affine_relu pair, which the grader provides,
    and passes."""
    folder = tmp_path / "no_utils"
    shutil.copytree(BASE, folder)
    (folder / "cs231n" / "layer_utils.py").unlink()
    fc_net = folder / "cs231n" / "classifiers" / "fc_net.py"
    fc_net.write_text(fc_net.read_text().replace("from ..layer_utils import *", imports))
    got = units(pack.grade(folder, limits=LIMITS, seed=0,
                           only=("FullyConnectedNet[batchnorm]" + OWN, "FullyConnectedNet[plain]" + OWN)))
    u = got["FullyConnectedNet[batchnorm]" + OWN]
    assert u.status == "crash" and says in u.message, u.message
    assert got["FullyConnectedNet[plain]" + OWN].status == "pass"
