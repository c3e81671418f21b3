"""The assignment's years differ in a few conventions; a variant names one set of them.

Detected from the submission's own source (read with ast in the grader, never run): the keywords of
FullyConnectedNet.__init__ tell the years apart, and which functions layers.py defines; `--variant`
overrides. The report says which variant it assumed and why.
"""
import ast
from dataclasses import dataclass
from pathlib import Path

from mlp_ref.grader import source as source_text
from mlp_ref.packs.cs231n_a2 import py2


@dataclass(frozen=True)
class Variant:
    name: str
    years: str
    p_is_keep: bool        # dropout_param['p']: the keep probability (2018 on) or the drop probability
    dropout_kw: str        # FullyConnectedNet's dropout keyword
    norm_kw: str           # 'normalization' (None | 'batchnorm' | 'layernorm') or 'use_batchnorm' (bool)
    layernorm: bool        # layer norm is part of the assignment
    adam_t: object = 0     # Adam's default t; None where the years' files differ (0 in some, 1 in others)

    def keep(self, p):
        """The keep probability dropout_param['p'] = p means."""
        return p if self.p_is_keep else 1 - p

    def model_kwargs(self, config, keep):
        """FullyConnectedNet's keywords for one model configuration with keep probability `keep`."""
        dropout_off = 1 if self.p_is_keep else 0
        kw = {self.dropout_kw: (keep if self.p_is_keep else 1 - keep) if config == "dropout" else dropout_off}
        norm = {"batchnorm": "batchnorm", "layernorm": "layernorm"}.get(config)
        kw[self.norm_kw] = (norm is not None) if self.norm_kw == "use_batchnorm" else norm
        return kw


VARIANTS = {
    "2017": Variant("2017", "2016-2017", False, "dropout", "use_batchnorm", False, None),
    "2019": Variant("2019", "2018-2020", True, "dropout", "normalization", True),
    "2021": Variant("2021", "2021 on", True, "dropout_keep_ratio", "normalization", True),
}
DESCRIBE = {v.name: f"the {v.years} assignment: dropout p is the {'keep' if v.p_is_keep else 'drop'} probability, "
            f"FullyConnectedNet({v.dropout_kw}=, {v.norm_kw}=)" + ("" if v.layernorm else ", no layer norm")
            for v in VARIANTS.values()}
DEFAULT = "2021"


def _init_args(source):
    """The argument names of FullyConnectedNet.__init__ in a file's source, or None."""
    try:
        tree = source_text.parse(py2.modernize(source))  # a 2016 file's print statements parse too
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == "FullyConnectedNet":
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                    a = item.args
                    return [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs]
    return None


def _read(path, limit=1 << 20):
    try:
        with open(path, "rb") as f:
            return f.read(limit).decode("utf-8", "replace")
    except OSError:
        return None


def detect(package_root):
    """(variant name, why in words) for the folder holding `cs231n/`."""
    root = Path(package_root) / "cs231n"
    args = _init_args(_read(root / "classifiers" / "fc_net.py") or "")
    if args is not None:
        if "dropout_keep_ratio" in args:
            return "2021", "FullyConnectedNet takes dropout_keep_ratio="
        if "use_batchnorm" in args:
            return "2017", "FullyConnectedNet takes use_batchnorm= (and dropout= as the drop probability)"
        if "normalization" in args and "dropout" in args:
            return "2019", "FullyConnectedNet takes dropout= and normalization="
    layers = _read(root / "layers.py") or ""
    if "def layernorm_forward" in layers:
        return DEFAULT, "FullyConnectedNet's keywords not found; layers.py defines layernorm_forward"
    if "def dropout_forward" in layers and "keep" not in layers.split("def dropout_forward", 1)[1][:1500]:
        return "2017", "FullyConnectedNet's keywords not found; layers.py has no layer norm and its dropout speaks of no keep probability"
    return DEFAULT, f"FullyConnectedNet's keywords not found; assumed the latest ({DESCRIBE[DEFAULT]})"


def get(name):
    """The Variant called `name`; ValueError naming the valid ones."""
    if name not in VARIANTS:
        raise ValueError(f"--variant: expected one of {', '.join(VARIANTS)}, got {name!r}")
    return VARIANTS[name]
