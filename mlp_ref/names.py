"""The names of a model's quantities, and its forward cache: a NamedTuple with read-only mapping access.

One hidden layer keeps the two-layer math's h (z1, h, z2, y_hat); several number it (h1, .., h_{L-1}).
norm adds zn_l, dropout a_l to each hidden layer (mlp_ref.hidden). A gradient is `d` + the forward name.
"""
import re
from collections import namedtuple
from functools import lru_cache
from typing import NamedTuple

from mlp_ref import hidden as hidden_mod


class Names(NamedTuple):
    """The names of an L-layer model's quantities, in the order forward and backward meet them."""
    hidden: tuple    # h (L = 2) or h1 .. h_{L-1}
    forward: tuple   # z1, (zn1, a1,) h.., z_L, y_hat
    backward: tuple  # dy_hat, dz_L, dh_{L-1}, (da_{L-1}, dzn_{L-1},) dz_{L-1}, .., dz1
    params: tuple    # W1, b1, (gamma1, beta1,) .., WL, bL
    buffers: tuple = ()  # running_mean1, running_var1, .. (batch norm's)


@lru_cache(maxsize=None)
def names(L, norm=None, dropout=False):
    """Names for L Linear layers: one hidden layer keeps the two-layer math's h; several number it.
    norm adds zn_l (and gamma_l, beta_l; batch norm running_mean_l, running_var_l) to each hidden
    layer, dropout a_l (f's output, before the mask)."""
    hidden = ("h",) if L == 2 else tuple(f"h{l}" for l in range(1, L))
    per_layer = [hidden_mod.layer_names(l, L, hidden, norm, dropout) for l in range(1, L + 1)]
    forward = tuple(name for layer in per_layer for name in layer)
    backward = ("dy_hat", f"dz{L}") + tuple(f"d{name}" for layer in per_layer[-2::-1] for name in reversed(layer))
    params = tuple(name for l in range(1, L + 1) for name in
                   (f"W{l}", f"b{l}") + ((f"gamma{l}", f"beta{l}") if norm and l < L else ()))
    buffers = tuple(name for l in range(1, L) for name in (f"running_mean{l}", f"running_var{l}")) \
        if norm == "batch" else ()
    return Names(hidden, forward, backward, params, buffers)


class _CacheAccess:
    """Read-only mapping access for a forward cache, beside its attributes: cache["z1"], keys(), items()."""
    __slots__ = ()

    def __getitem__(self, key):
        if isinstance(key, str):
            if key not in self._fields:
                raise KeyError(f"cache: expected one of {list(self._fields)}, got {key!r}")
            return getattr(self, key)
        return tuple.__getitem__(self, key)

    def __contains__(self, key):
        return key in self._fields if isinstance(key, str) else tuple.__contains__(self, key)

    def keys(self):
        return self._fields

    def items(self):
        return zip(self._fields, self)

    def get(self, key, default=None):
        return getattr(self, key) if key in self._fields else default

    def __setitem__(self, key, value):
        raise TypeError(f"cache: read-only (the values of the last forward); got an assignment to {key!r}")

    def __setattr__(self, name, value):
        raise AttributeError(f"cache: read-only (the values of the last forward); got an assignment to {name!r}")


@lru_cache(maxsize=None)
def forward_cache(L, norm=None, dropout=False):
    """The forward cache of an L-layer model, a NamedTuple with read-only mapping access: x, z1, h..,
    y_hat, then per layer linear_l, act_l (norm_l; drop_l, mask_l), then training (the mode it was
    made in). Named ForwardCache<L>[_<norm>][_dropout] in this module, so a model and its cache pickle."""
    fields = ("x", *names(L, norm, dropout).forward) + tuple(
        name for l in range(1, L + 1) for name in hidden_mod.cache_fields(l, L, norm, dropout))
    if norm or dropout:
        fields += ("training",)
    name = f"ForwardCache{L}" + (f"_{norm}" if norm else "") + ("_dropout" if dropout else "")
    base = namedtuple(name, fields, module=__name__)
    cls = type(name, (_CacheAccess, base), {"__slots__": (), "__module__": __name__})
    globals()[name] = cls
    return cls


def __getattr__(name):
    # Unpickling in a fresh process looks ForwardCache<L>.. up here before any such model was built.
    match = re.fullmatch(r"ForwardCache(\d+)(?:_(batch|layer))?(_dropout)?", name)
    if match:
        return forward_cache(int(match[1]), match[2], bool(match[3]))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
