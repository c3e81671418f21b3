"""A blank `cs231n/` package per variant, written from the interface (every function raises
NotImplementedError until filled in): `mlp-ref check --assignment cs231n-a2 --template 2021 --out DIR`."""
import functools
from pathlib import Path

from mlp_ref.packs.cs231n_a2.interface import MODULE, SIGNATURES
from mlp_ref.packs.cs231n_a2.variants import VARIANTS


def _function(name):
    args, returns, doc = SIGNATURES[name]
    return (f"def {name}({args}):\n    \"\"\"{doc}\n\n    Returns {returns}.\n    \"\"\"\n"
            f"    raise NotImplementedError(\"{name}\")\n")


def _module(title, names):
    return f'"""{title}"""\nimport numpy as np\n\n\n' + "\n\n".join(_function(n) for n in names)


def _fc_net(variant):
    dropout_default = 1 if variant.p_is_keep else 0
    norm = ("normalization=None" if variant.norm_kw == "normalization" else "use_batchnorm=False")
    norm_doc = ("normalization: None, 'batchnorm' or 'layernorm'" if variant.norm_kw == "normalization"
                else "use_batchnorm: whether to batch-normalize after each hidden affine layer")
    drop_doc = (f"{variant.dropout_kw}: the keep probability (1: no dropout)" if variant.p_is_keep
                else f"{variant.dropout_kw}: the drop probability (0: no dropout)")
    return f'''"""A fully connected net: {{affine - [norm] - relu - [dropout]}} x (L - 1) - affine - softmax."""
import numpy as np

from ..layers import *  # noqa: F401,F403
from ..layer_utils import *  # noqa: F401,F403


class FullyConnectedNet(object):
    def __init__(self, hidden_dims, input_dim=3 * 32 * 32, num_classes=10, {variant.dropout_kw}={dropout_default},
                 {norm}, reg=0.0, weight_scale=1e-2, dtype=np.float32, seed=None):
        """{drop_doc}; {norm_doc}.
        params: W1, b1, ..., W{{L}}, b{{L}}; gamma{{i}}, beta{{i}} (width hidden_dims[i - 1]) with normalization.
        """
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = dtype
        self.params = {{}}
        raise NotImplementedError("FullyConnectedNet.__init__")

    def loss(self, X, y=None):
        """X: (N, d1, ..., dk). y None: scores (N, C), test mode. Else (loss, grads), grads keyed as params,
        loss with 0.5 * reg * sum W^2 per layer."""
        raise NotImplementedError("FullyConnectedNet.loss")
'''


def write(variant_name, folder):
    """Write the blank package for a variant under folder/cs231n; the paths written."""
    variant = VARIANTS[variant_name]
    root = Path(folder) / "cs231n"
    layers = [n for n, m in MODULE.items() if m == "layers" and (variant.layernorm or "layernorm" not in n)]
    files = {
        "__init__.py": "",
        "layers.py": _module("Layers as forward/backward pairs: each forward returns (out, cache), each backward "
                             "takes (dout, cache).", layers),
        "optim.py": _module("Update rules: next_w, config = rule(w, dw, config).", [n for n, m in MODULE.items()
                                                                                    if m == "optim"]),
        "layer_utils.py": '"""Helpers composing layers (affine_relu_forward, ...): yours to write."""\n'
                          "from .layers import *  # noqa: F401,F403\n",
        "classifiers/__init__.py": "",
        "classifiers/fc_net.py": _fc_net(variant),
    }
    written = []
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    return written


WRITERS = {name: functools.partial(write, name) for name in VARIANTS}
