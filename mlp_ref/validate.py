"""Bad-input errors: each names the argument, what was expected and what came.

Shape errors are ValueError, type and dtype errors TypeError, as NumPy and torch do.
"""
import math
import numbers
import sys

import numpy as np

DTYPES = ("float64", "float32")
_FLOAT_MAX = sys.float_info.max


def dtype_name(dtype):
    """'float64' or 'float32' from a name or numpy dtype, else a TypeError naming 'dtype'."""
    try:
        # np.dtype(None) is float64: None is refused rather than read as a choice the caller made.
        name = None if dtype is None else np.dtype(dtype).name
    except TypeError:
        name = None
    if name not in DTYPES:
        raise TypeError(f"dtype: expected one of {DTYPES}, got {dtype!r}")
    return name


def choice(arg, value, choices):
    """value if it is one of choices, else a ValueError listing them."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{arg}: expected one of {tuple(choices)}, got {value!r}")
    return value


def positive_int(arg, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{arg}: expected a positive integer, got {value!r}")
    return int(value)


def seed(arg, value):
    """A non-negative integer, as numpy.random.default_rng takes."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{arg}: expected an integer >= 0, got {type(value).__name__} {value!r}")
    return int(value)


def finite_real(arg, value):
    """A finite real number (not a bool, not a string)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{arg}: expected a finite real number, got {type(value).__name__} {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{arg}: expected a finite real number, got {value!r}")
    return float(value)


class FixedKeys(dict):
    """A dict whose keys are set at construction: assigning a new key or deleting one is refused,
    so `params['W9'] = A` cannot be silently ignored and `del params['W1']` cannot surface later
    as a bare KeyError."""

    def __init__(self, arg, entries):
        super().__init__(entries)
        self._arg = arg
        self.version = 0  # counts assignments, so an owner sees at a glance whether any came

    def _known(self, key):
        if key not in self:
            raise KeyError(f"{self._arg}: expected one of the keys {list(self)}, got {key!r} (the keys are fixed)")

    def __setitem__(self, key, value):
        self._known(key)
        super().__setitem__(key, value)
        self.version += 1

    def __ior__(self, other):  # dict's |= would store past __setitem__
        self.update(other)
        return self

    def _fixed(self, *args, **kwargs):
        raise TypeError(f"{self._arg}: its keys {list(self)} are fixed; assign an array to a key instead of "
                        "deleting or adding one")

    __delitem__ = pop = popitem = clear = setdefault = _fixed

    def __reduce__(self):  # copy and pickle rebuild it whole, not key by key into an empty dict
        return FixedKeys, (self._arg, dict(self))

    def update(self, *args, **kwargs):
        for key, value in dict(*args, **kwargs).items():
            self[key] = value


def number(arg, value, low=0.0, high=None):
    """A finite real number in [low, high) (high None: no upper bound), as torch.optim's arguments."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{arg}: expected a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < low or (high is not None and value >= high):
        span = f" in [{low:g}, {high:g})" if high is not None else (f" >= {low:g}" if low > -math.inf else "")
        raise ValueError(f"{arg}: expected a finite number{span}, got {value!r}")
    return value


def flag(arg, value):
    """True or False (a numpy bool too), not 1 or 'yes'."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{arg}: expected True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def learning_rate(value, arg="lr"):
    """A finite real number >= 0 (torch's SGD rejects a negative lr too)."""
    if type(value) is float and 0.0 <= value <= _FLOAT_MAX:  # the common case, without the ABC checks
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{arg}: expected a finite real number, got {type(value).__name__} {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{arg}: expected a finite number >= 0, got {value!r}")
    return float(value)


def _shape_text(shape, names):
    if names is None:
        return str(tuple(shape))
    return "(" + ", ".join(f"{n}={s}" if s is not None else n for s, n in zip(shape, names)) + ")"


def array(arg, value, *, shape, dtype, names=None):
    """Check an ndarray's type, ndim, shape (None = any size) and dtype, then that it is finite.

    shape: tuple of ints or None, one per dimension; names: the letters to print for each dimension.
    """
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{arg}: expected a numpy.ndarray of {np.dtype(dtype).name}, "
                        f"got {type(value).__module__}.{type(value).__qualname__}")
    if value.ndim != len(shape):
        raise ValueError(f"{arg}: expected {len(shape)}-d array of shape {_shape_text(shape, names)}, "
                         f"got {value.ndim}-d array of shape {value.shape}")
    for s, v in zip(shape, value.shape):
        if s is not None and s != v:
            raise ValueError(f"{arg}: expected shape {_shape_text(shape, names)}, got {value.shape}")
    if value.dtype != np.dtype(dtype):
        raise TypeError(f"{arg}: expected dtype {np.dtype(dtype).name}, got {value.dtype}"
                        + ("" if value.dtype.kind == "f" else " (cast it explicitly)"))
    finite(arg, value)
    return value


def surely_finite(value):
    """True when value is certainly all finite; False when it may not be (NaN, inf or overflow)."""
    # A finite sum of squares proves every element finite (NaN or inf would propagate). vdot is
    # one BLAS call that raises no floating-point warning, so it needs no np.errstate, whose
    # enter and exit cost more than the sum itself on a small array.
    return math.isfinite(np.vdot(value, value))


def finite(arg, value):
    """A ValueError naming the first NaN or inf, if any."""
    # Only when the quick test fails, which overflow alone can do, is the elementwise test paid.
    if surely_finite(value):
        return value
    bad = ~np.isfinite(value)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{arg}: expected finite values, got {value[index]} at index {index} "
                         f"({int(bad.sum())} non-finite of {value.size})")
    return value


def class_targets(arg, value, *, n, n_classes):
    """Integer class indices, shape (N,), each in [0, K)."""
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{arg}: expected a numpy.ndarray of integer class indices, "
                        f"got {type(value).__module__}.{type(value).__qualname__}")
    if value.dtype.kind not in "iu":
        raise TypeError(f"{arg}: expected integer class indices for cross-entropy, got dtype {value.dtype}")
    if value.shape != (n,):
        raise ValueError(f"{arg}: expected shape (N={n},) of class indices, got {value.shape}")
    if n and (value.min() < 0 or value.max() >= n_classes):
        bad = value[(value < 0) | (value >= n_classes)][0]
        raise ValueError(f"{arg}: expected class indices in [0, {n_classes}), got {bad}")
    return value


def probabilities(arg, value):
    """Values in [0, 1], as BCE requires of its target."""
    if value.size and (value.min() < 0 or value.max() > 1):
        bad = value[(value < 0) | (value > 1)][0]
        raise ValueError(f"{arg}: expected values in [0, 1] for bce, got {bad}")
    return value
