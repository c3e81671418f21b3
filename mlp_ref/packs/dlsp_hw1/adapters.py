"""Recognise which interface a submission implements and drive it through one case (runs in the child).

homework: class MLP(linear_1_in_features, linear_1_out_features, f_function, linear_2_in_features,
          linear_2_out_features, g_function) with parameters/grads dicts, forward(x), backward(dJdy_hat),
          clear_grad_and_cache(); module functions mse_loss(y, y_hat), bce_loss(y, y_hat) -> (J, dJdy_hat).
numpy:    class MLP(n_in, n_hidden, n_out, f=, g=, loss=, reduction=, dtype=, seed=) with params/grads
          dicts and the five stages forward(x), loss(y_hat, y), zero_grad(), backward(), step(lr).

Every value read back is turned into a numpy array at once (a copy), so nothing the submission does
later can change what was recorded. `record` notes tensors that carry autograd state.
"""
import inspect

import numpy as np

HOMEWORK_ARGS = ("linear_1_in_features", "linear_1_out_features", "f_function",
                 "linear_2_in_features", "linear_2_out_features", "g_function")
HOMEWORK_METHODS = ("forward", "backward", "clear_grad_and_cache")
HOMEWORK_FUNCTIONS = ("mse_loss", "bce_loss")
NUMPY_ARGS = ("n_in", "n_hidden", "n_out")
NUMPY_METHODS = ("forward", "loss", "zero_grad", "backward", "step")
PARAMS = ("W1", "b1", "W2", "b2")


class NotWritten(NotImplementedError):
    """A submission function that returned None where a value is due: a body still `pass`, not a crash."""

    def __init__(self, function, what):
        super().__init__(f"{function} returned None: expected {what}")
        self.function = function


def _written(out, function, what):
    if out is None:
        raise NotWritten(function, what)
    return out


def _init_args(cls):
    """The constructor's argument names (self dropped), and whether it takes **kwargs."""
    try:
        params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    except (TypeError, ValueError):
        return (), False
    return tuple(p.name for p in params), any(p.kind is p.VAR_KEYWORD for p in params)


def detect(module):
    """("homework" | "numpy", None), or (None, a message saying what each interface lacks).

    A missing loss function does not stop the homework interface: it costs only the cases that call it.
    """
    cls = getattr(module, "MLP", None)
    if not inspect.isclass(cls):
        return None, ("no class MLP found. homework interface: class MLP(" + ", ".join(HOMEWORK_ARGS)
                      + ") with forward, backward, clear_grad_and_cache, and functions mse_loss, bce_loss; "
                      "NumPy interface: class MLP(n_in, n_hidden, n_out, f, g, loss, reduction, dtype, seed) "
                      "with forward, loss, zero_grad, backward, step")
    args, any_keyword = _init_args(cls)
    wanted = {"homework": (HOMEWORK_ARGS, HOMEWORK_METHODS), "numpy": (NUMPY_ARGS, NUMPY_METHODS)}
    lacks_args = {k: [] if any_keyword else [a for a in a_m[0] if a not in args] for k, a_m in wanted.items()}
    lacks_methods = {k: [m for m in a_m[1] if not callable(getattr(cls, m, None))] for k, a_m in wanted.items()}
    for name in wanted:
        if not lacks_args[name] and not lacks_methods[name]:
            return name, None
    functions = {"homework": [f for f in HOMEWORK_FUNCTIONS if not callable(getattr(module, f, None))], "numpy": []}
    # Methods say which interface was meant better than argument names do: a class with all of one
    # interface's methods is that interface with a different constructor.
    closest = min(wanted, key=lambda k: (bool(lacks_methods[k]),
                                         len(lacks_args[k]) + len(lacks_methods[k]) + len(functions[k])))
    if not lacks_methods[closest]:
        calls = ", ".join(f"{a}=..." for a in wanted[closest][0])
        return None, (f"constructor mismatch: MLP.__init__ takes ({', '.join(args)}), but the {closest} interface "
                      f"constructs MLP({calls}); it lacks the argument(s) {', '.join(lacks_args[closest])}")
    lacks = ([f"MLP argument {a}" for a in lacks_args[closest]] + [f"method MLP.{m}" for m in lacks_methods[closest]]
             + [f"function {f}" for f in functions[closest]])
    return None, (f"MLP implements neither interface; closest is the {closest} interface, which lacks: "
                  + ", ".join(lacks))


# The battery's largest array has 30 elements; anything far larger is refused before it is written back.
MAX_ELEMENTS = 100_000


def to_numpy(value, name, tracked, answer=True, tensors=False, dtype=None):
    """A numpy copy of a tensor, array or number; notes in `tracked` a tensor with requires_grad/grad_fn.

    An answer must be real floating point: a complex, integer or boolean one is a TypeError naming
    its type (its real part or its rounding would otherwise be graded). tensors: the homework
    interface, whose answers are torch tensors (J may also be a Python float). answer=False: the
    grader's own inputs read back (x, y, ...), whose type is not the submission's to choose. dtype: the
    case's, which a Python float J takes (a number carries no dtype of its own to be judged by).
    """
    import torch

    if value is None:
        raise TypeError(f"{name} is None: expected a tensor")
    if isinstance(value, torch.Tensor):
        if value.requires_grad or value.grad_fn is not None:
            tracked.append(name)
        if answer and (value.is_complex() or not value.is_floating_point()):
            raise TypeError(f"{name} is a {value.dtype} tensor: expected a real floating-point tensor "
                            "(float64 or float32, the case's dtype)")
        a = value.detach().cpu().clone().numpy()
    else:
        if answer and tensors and not (name == "J" and isinstance(value, float)):
            raise TypeError(f"{name} is a {type(value).__module__}.{type(value).__qualname__}: "
                            "the homework interface returns torch tensors")
        number = dtype if dtype is not None and tensors and name == "J" and isinstance(value, float) else np.float64
        try:
            a = np.array(value, dtype=None if isinstance(value, np.ndarray) else number)
        except (TypeError, ValueError):
            raise TypeError(f"{name} is a {type(value).__name__}: expected a tensor") from None
        if answer and a.dtype.kind != "f":
            raise TypeError(f"{name} has dtype {a.dtype}: expected a real floating-point array (float64 or float32)")
    if a.size > MAX_ELEMENTS:
        raise ValueError(f"{name} has {a.size} elements, shape {a.shape}: far more than the case's sizes allow")
    return a


class Homework:
    """The homework interface, in torch tensors of the case's dtype."""
    name = "homework"

    def __init__(self, module, case):
        import torch

        self.torch, self.module, self.case = torch, module, case
        self.dtype = getattr(torch, case.dtype)
        if case.kind != "loss":
            self.net = module.MLP(linear_1_in_features=case.d, linear_1_out_features=case.h, f_function=case.f,
                                  linear_2_in_features=case.h, linear_2_out_features=case.k, g_function=case.g)

    def tensor(self, array):
        return self.torch.tensor(array, dtype=self.dtype)

    def set_params(self, params):
        for k, v in params.items():
            self.net.parameters[k] = self.tensor(v)

    def clear(self):
        self.net.clear_grad_and_cache()

    def forward(self, x):
        return _written(self.net.forward(x), "forward", "y_hat")

    def loss(self, y, y_hat):
        fn = getattr(self.module, f"{self.case.loss}_loss", None)
        if not callable(fn):
            raise AttributeError(f"the submission defines no function {self.case.loss}_loss(y, y_hat): "
                                 f"only the cases with {self.case.loss} loss fail for it")
        out = _written(fn(y, y_hat), f"{self.case.loss}_loss", "a pair (J, dJdy_hat)")
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise TypeError(f"{self.case.loss}_loss returned {type(out).__name__}: expected a pair (J, dJdy_hat)")
        return out

    def backward(self, dJdy_hat):
        self.net.backward(dJdy_hat)

    def grads(self):
        g = self.net.grads
        return {f"d{k}": g[f"dJd{k}"] for k in PARAMS}

    def sgd(self, lr, grads):
        # W <- W - lr dW, new tensors put into the parameters dict, as the grader set them at the start.
        for k in PARAMS:
            W, dW = self.net.parameters[k], grads[f"d{k}"]
            if tuple(dW.shape) != tuple(W.shape):
                raise ValueError(f"cannot apply SGD: dJd{k} has shape {tuple(dW.shape)}, {k} has {tuple(W.shape)}")
            self.net.parameters[k] = W - lr * self.tensor(dW)


class NumpyFiveStage:
    """The NumPy five-stage interface (mlp_ref.MLP's), in numpy arrays of the case's dtype."""
    name = "numpy"

    def __init__(self, module, case):
        self.case = case
        self.dy_hat = None
        self.net = module.MLP(case.d, case.h, case.k, f=case.f, g=case.g, loss=case.loss, reduction="mean",
                              dtype=case.dtype, seed=0)

    def tensor(self, array):
        return np.array(array, dtype=self.case.dtype)

    def set_params(self, params):
        if callable(getattr(self.net, "set_params", None)):
            self.net.set_params({k: self.tensor(v) for k, v in params.items()})
        else:
            for k, v in params.items():
                self.net.params[k] = self.tensor(v)

    def clear(self):
        self.net.zero_grad()

    def forward(self, x):
        return _written(self.net.forward(x), "forward", "y_hat")

    def loss(self, y, y_hat):
        return _written(self.net.loss(y_hat, y), "loss", "J"), None

    def backward(self, dJdy_hat):
        self.net.zero_grad()
        inter = self.net.backward()
        # mlp_ref.MLP.backward returns its intermediate gradients; dy_hat among them is checked when present.
        self.dy_hat = inter.get("dy_hat") if isinstance(inter, dict) else None

    def grads(self):
        return {f"d{k}": self.net.grads[k] for k in PARAMS}

    def sgd(self, lr, grads):
        self.net.step(lr)


DRIVERS = {"homework": Homework, "numpy": NumpyFiveStage}
# The NumPy interface has no loss function of its own and no backward(dJdy_hat): those cases are skipped.
SUPPORTED_KINDS = {"homework": ("loss", "backward", "train", "twice"), "numpy": ("train", "twice")}
