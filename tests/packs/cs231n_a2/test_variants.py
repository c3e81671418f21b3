"""Variant detection reads the submission's source (never runs it) and says why it chose."""
import pytest

from mlp_ref.packs.cs231n_a2 import templates, variants


@pytest.mark.parametrize("name", list(variants.VARIANTS))
def test_each_template_is_detected_as_its_variant(name, tmp_path):
    templates.write(name, tmp_path)
    assert variants.detect(tmp_path)[0] == name


def write(root, rel, text):
    path = root / "cs231n" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.mark.parametrize("init, expected", [
    ("def __init__(self, hidden_dims, dropout_keep_ratio=1, normalization=None): pass", "2021"),
    ("def __init__(self, hidden_dims, input_dim=3, dropout=1, normalization=None): pass", "2019"),
    ("def __init__(self, hidden_dims, dropout=0, use_batchnorm=False, reg=0.0): pass", "2017"),
])
def test_fc_nets_keywords_decide(init, expected, tmp_path):
    write(tmp_path, "classifiers/fc_net.py", f"class FullyConnectedNet(object):\n    {init}\n")
    name, why = variants.detect(tmp_path)
    assert name == expected and "FullyConnectedNet takes" in why


def test_without_fc_net_the_layers_decide(tmp_path):
    write(tmp_path, "layers.py", "def dropout_forward(x, dropout_param):\n    p = dropout_param['p']  # drop\n")
    assert variants.detect(tmp_path)[0] == "2017"
    write(tmp_path, "layers.py", "def layernorm_forward(x, gamma, beta, ln_param):\n    pass\n")
    assert variants.detect(tmp_path) == (variants.DEFAULT, "FullyConnectedNet's keywords not found; layers.py "
                                                           "defines layernorm_forward")


def test_an_unparsable_package_gets_the_default_and_says_so(tmp_path):
    write(tmp_path, "classifiers/fc_net.py", "class FullyConnectedNet(:\n")
    name, why = variants.detect(tmp_path)
    assert name == variants.DEFAULT and "assumed the latest" in why


def test_p_means_keep_or_drop_by_variant():
    assert variants.get("2017").keep(0.3) == pytest.approx(0.7) and variants.get("2021").keep(0.3) == 0.3
    assert variants.get("2017").model_kwargs("dropout", 0.6) == {"dropout": pytest.approx(0.4), "use_batchnorm": False}
    assert variants.get("2019").model_kwargs("layernorm", 0.6) == {"dropout": 1, "normalization": "layernorm"}
    with pytest.raises(ValueError, match="--variant: expected one of 2017, 2019, 2021, got '2018'"):
        variants.get("2018")
