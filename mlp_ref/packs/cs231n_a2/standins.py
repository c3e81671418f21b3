"""Stand-ins for the course's helper modules a submission imports but does not ship.

The course's files import each other and a few third-party packages (fast_layers needs a Cython build,
data_utils imageio, ...). A package that lacks one of them would fail to import as a whole; a stand-in
lets every unit that never calls it still grade, and raises where it is called.
"""
import importlib
import importlib.abc
import importlib.machinery
import types

PACKAGE = "cs231n"
# Third-party modules the course's helper files import that a grader need not have.
STAND_IN_TOP = ("past", "future", "imageio", "matplotlib", "pyximport", "IPython", "PIL", "h5py", "google",
                "sklearn", "scipy", "six", "cython", "Cython")


def _unavailable(*args, **kwargs):
    raise NotImplementedError("a course helper the submission does not include (stood in for by the grader)")


class StandIn(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Last on sys.meta_path: a module no other finder found, under the package or among the helpers'
    third-party imports, becomes an empty module whose every name is a function that raises."""

    def find_spec(self, name, path=None, target=None):
        if name.startswith(PACKAGE + ".") or name.split(".")[0] in STAND_IN_TOP:
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        module = types.ModuleType(spec.name, "stood in for by the grader")
        module.__path__ = []

        def missing(attr):
            if attr.startswith("__"):
                raise AttributeError(attr)
            return _unavailable
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


