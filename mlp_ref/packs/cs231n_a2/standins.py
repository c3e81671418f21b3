"""Stand-ins for the course's helper modules a submission imports but does not ship, and for the
Python 2 and numpy 1 names the course's years wrote.

The course's files import each other and a few third-party packages (fast_layers needs a Cython build,
data_utils imageio, ...). A package that lacks one of them would fail to import as a whole; a stand-in
lets every unit that never calls it still grade, and raises where it is called. `past.builtins` (the
`future` package, which the course's files import for xrange) is stood in by its Python 3 meanings,
and the numpy names numpy 2 removed get their old meaning back, so a submission runs as it ran for
its author.
"""
import functools
import importlib
import importlib.abc
import importlib.machinery
import os
import sys
import types
import warnings

import numpy as np

PACKAGE = "cs231n"
# Third-party modules the course's helper files import that a grader need not have.
STAND_IN_TOP = ("past", "future", "imageio", "matplotlib", "pyximport", "IPython", "PIL", "h5py", "google",
                "sklearn", "scipy", "six", "cython", "Cython")


# What a Python 2 name means in Python 3, for the modules that carried them across.
PY2_NAMES = {"xrange": range, "range": range, "raw_input": input, "basestring": str, "unicode": str, "long": int,
             "unichr": chr, "reduce": functools.reduce, "intern": __import__("sys").intern}
COMPAT = {"past.builtins": PY2_NAMES, "future.builtins": PY2_NAMES,
          "six.moves": {"xrange": range, "range": range, "zip": zip, "map": map, "filter": filter,
                        "input": input, "reduce": functools.reduce}}

# Names numpy 2 (or 1.24) removed, with the meaning they had when the course's years used them.
NUMPY_REMOVED = {
    "float": float, "int": int, "object": object, "str": str, "complex": complex, "unicode": str,
    "float_": np.float64, "complex_": np.complex128, "string_": np.bytes_, "unicode_": np.str_,
    "int0": np.intp, "uint0": np.uintp, "product": np.prod, "cumproduct": np.cumprod, "sometrue": np.any,
    "alltrue": np.all, "round_": np.round, "asscalar": lambda a: np.asarray(a).item(),
    "NaN": np.nan, "NAN": np.nan, "Inf": np.inf, "Infinity": np.inf, "infty": np.inf, "PINF": np.inf,
    "NINF": -np.inf, "in1d": lambda a, b, **kw: np.isin(np.ravel(a), b, **kw), "trapz": np.trapezoid,
}


def restore_numpy_names():
    """Give numpy back the removed names it lacks; the names this numpy still has stay its own."""
    for name, value in NUMPY_REMOVED.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                getattr(np, name)
            except AttributeError:
                setattr(np, name, value)


class HelperNotIncluded(Exception):
    """A call into a course helper the submission does not ship (the grader's empty stand-in)."""


def _unavailable(module, attr):
    where = ("the submission does not include" if module.split(".")[0] == PACKAGE
             else "is not installed where the grader runs")

    def call(*args, **kwargs):
        raise HelperNotIncluded(f"{attr} comes from {module}, which {where} (the grader stands in an empty "
                                "module for it)")
    return call


STOOD_IN = "stood in for by the grader"


def stood_in():
    """The package's modules the grader stood in for so far, by name."""
    return sorted(n for n, m in sys.modules.items() if n.startswith(PACKAGE + ".") and getattr(m, "__doc__", None) == STOOD_IN)


def _importer():
    """The file of the code running the import statement (the first frame outside importlib)."""
    frame = sys._getframe(2)
    while frame is not None and (frame.f_code.co_filename.startswith("<frozen importlib")
                                 or frame.f_code.co_filename == importlib.__file__):
        frame = frame.f_back
    return frame.f_code.co_filename if frame is not None else ""


class StandIn(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Last on sys.meta_path: a module no other finder found, under the package, or among the helpers'
    third-party imports when the submission's own file imports it, becomes an empty module whose every
    name is a function that raises. An installed library probing for an optional one (scipy for Cython)
    gets its ImportError as usual."""

    def __init__(self, root=None):
        self.root = None if root is None else os.path.join(os.path.abspath(root), "")

    def find_spec(self, name, path=None, target=None):
        if name.startswith(PACKAGE + "."):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        if name.split(".")[0] in STAND_IN_TOP and (self.root is None or
                                                   os.path.abspath(_importer()).startswith(self.root)):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        module = types.ModuleType(spec.name, STOOD_IN)
        module.__path__ = []
        vars(module).update(COMPAT.get(spec.name, {}))

        def missing(attr):
            if attr.startswith("__"):
                raise AttributeError(attr)
            return _unavailable(spec.name, attr)
        module.__getattr__ = missing
        return module

    def exec_module(self, module):
        if module.__name__ == PACKAGE + ".layer_utils":
            # The course ships the affine_relu pair; fc_net files call it. Built from the package's own
            # layers module (the reference's, when the reference stands in).
            layers = importlib.import_module(PACKAGE + ".layers")

            def affine_relu_forward(x, w, b):
                a, fc_cache = layers.affine_forward(x, w, b)
                out, relu_cache = layers.relu_forward(a)
                return out, (fc_cache, relu_cache)

            def affine_relu_backward(dout, cache):
                fc_cache, relu_cache = cache
                return layers.affine_backward(layers.relu_backward(dout, relu_cache), fc_cache)
            module.affine_relu_forward, module.affine_relu_backward = affine_relu_forward, affine_relu_backward


