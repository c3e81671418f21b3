"""What every mlp_ref.optim optimizer shares: the parameters it updates, the step count, the state
buffers, state_dict and load_state_dict. The update rules themselves live in mlp_ref.optim.

The parameters are an MLP or a dict name -> ndarray. An MLP is updated as one flat array (its packed
parameters) and each state buffer is one flat array of the same layout. A dict's arrays (float32 or
float64, any shapes, dtypes may differ) are updated one by one, in place, each with buffers of its
own shape and dtype, as torch keeps state per tensor. The rule sees flat arrays either way.
"""
import numbers

import numpy as np

from mlp_ref.validate import DTYPES


def _is_mlp(params):
    return all(hasattr(params, a) for a in ("packed", "unpack", "param_names"))


def _names(got):
    return ", ".join(repr(k) for k in sorted(got, key=str))


class _Model:
    """An MLP: one slot (None), its packed parameters, stepped on its own grads."""

    def __init__(self, net):
        self.net, self.names = net, tuple(net.param_names)

    def slots(self, grads):
        if grads is not None:
            raise TypeError("grads: an optimizer over an MLP steps on the model's own net.grads; "
                            f"call step() without grads, got {type(grads).__name__}")
        params, g = self.net.packed()
        return ((None, params, g),)

    def views(self, buffers):
        """{name: {buffer: view}} of the one slot's flat buffers."""
        flat = buffers.get(None, {})
        views = {key: self.net.unpack(b) for key, b in flat.items()}
        return {name: {key: views[key][name] for key in views} for name in self.names}

    def load(self, arg, state, keys):
        """The flat buffers from per-name values (every name must have every buffer)."""
        params, _ = self.net.packed()
        buffers = {}
        for key in keys:
            flat = np.empty_like(params)
            for name, view in self.net.unpack(flat).items():
                view[...] = _loaded(f"{arg}[{name!r}][{key!r}]", state[name].get(key), view.shape)
            buffers[key] = flat
        return {None: buffers} if buffers else {}


class _Arrays:
    """A dict name -> ndarray: one slot per array, stepped on a grads dict with the same keys."""

    def __init__(self, params):
        if not params:
            raise ValueError("params: expected a dict name -> ndarray with at least one array, got an empty dict")
        for name, p in params.items():
            _parameter(name, p)
        for i, (a, p) in enumerate(params.items()):
            for b, q in list(params.items())[i + 1:]:
                if np.may_share_memory(p, q):
                    raise ValueError(f"params[{b!r}]: shares memory with params[{a!r}]; an update of one "
                                     "would move the other: give each parameter its own array")
        self.params, self.arrays, self.names = params, dict(params), tuple(params)

    def slots(self, grads):
        if set(self.params) != set(self.names) or any(self.params[k] is not a for k, a in self.arrays.items()):
            raise ValueError("params: the dict was changed after the optimizer was built (a key or an array "
                             "replaced); update the arrays in place (params[k][...] = A) or build a new optimizer")
        if grads is None:
            raise TypeError("grads: expected a dict name -> ndarray keyed like params (a dict of arrays has no "
                            "gradients of its own), got None")
        if not isinstance(grads, dict):
            raise TypeError(f"grads: expected a dict name -> ndarray keyed like params, got {type(grads).__name__}")
        missing, extra = set(self.names) - set(grads), set(grads) - set(self.names)
        if missing or extra:
            raise ValueError("grads: expected the keys of params " + f"[{_names(self.names)}]"
                             + (f"; missing {_names(missing)}" if missing else "")
                             + (f"; extra {_names(extra)}" if extra else ""))
        slots = []
        for name, p in self.arrays.items():
            _parameter(name, p)
            g = grads[name]
            if not isinstance(g, np.ndarray):
                raise TypeError(f"grads[{name!r}]: expected a numpy.ndarray, got {type(g).__name__}")
            if g.shape != p.shape or g.dtype != p.dtype:
                raise ValueError(f"grads[{name!r}]: expected shape {p.shape} and dtype {p.dtype} (its parameter's), "
                                 f"got shape {g.shape} and dtype {g.dtype}")
            slots.append((name, p.reshape(-1), g.reshape(-1)))
        return slots

    def views(self, buffers):
        return {name: {key: b.reshape(self.arrays[name].shape) for key, b in buffers.get(name, {}).items()}
                for name in self.names}

    def load(self, arg, state, keys):
        buffers = {}
        for name, p in self.arrays.items() if state else ():
            buffers[name] = {key: np.array(_loaded(f"{arg}[{name!r}][{key!r}]", value, p.shape),
                                           dtype=p.dtype).reshape(-1)
                             for key, value in state[name].items() if key != "step"}
        return buffers


def _parameter(name, p):
    """An array the rules can update in place through a flat view."""
    arg = f"params[{name!r}]"
    if not isinstance(name, str):
        raise TypeError(f"params: expected names (str) as keys, got {type(name).__name__} {name!r}")
    if not isinstance(p, np.ndarray):
        raise TypeError(f"{arg}: expected a numpy.ndarray of float32 or float64, got {type(p).__name__}")
    if p.dtype.name not in DTYPES:
        raise TypeError(f"{arg}: expected dtype float32 or float64, got {p.dtype} (cast it explicitly)")
    if not p.flags.c_contiguous:
        raise ValueError(f"{arg}: expected a C-contiguous array (it is updated in place through a flat view), "
                         "got a non-contiguous view; pass np.ascontiguousarray(...) and keep that array")
    if not p.flags.writeable:
        raise ValueError(f"{arg}: expected a writeable array (it is updated in place), got a read-only one")


def _loaded(arg, value, shape):
    if not isinstance(value, np.ndarray) or value.shape != shape or value.dtype.kind != "f":
        got = f"{value.dtype} array of shape {value.shape}" if isinstance(value, np.ndarray) else type(value).__name__
        raise ValueError(f"{arg}: expected a float array of shape {shape}, got {got}")
    return value


class Optimizer:
    """What every optimizer shares: the parameters, the hyperparameters, the step count and the state.

    BUFFERS: the state buffers this optimizer may keep, each created at its first use (as torch),
    or loaded by load_state_dict.
    """
    BUFFERS = ()

    def __init__(self, params, **hyper):
        if _is_mlp(params):
            self._target, self.net = _Model(params), params
        elif isinstance(params, dict):
            self._target, self.net = _Arrays(params), None
        else:
            raise TypeError("params: expected an mlp_ref MLP or a dict name -> numpy.ndarray, "
                            f"got {type(params).__name__}")
        self.hyper = self._checked(hyper)
        self.steps = 0
        self._buffers = {}  # slot (None for an MLP, else the array's name) -> {buffer name: flat array}
        self._slot = None   # the buffers of the slot being updated
        self._stated = False  # torch's opt.state is empty until the first step or a load
        self._work = {}

    @property
    def params(self):
        """The parameters stepped: the model's net.params, or the dict of arrays given."""
        return self._target.params if self.net is None else self.net.params

    def _checked(self, hyper):
        """The hyperparameters, validated; errors name the argument, as torch refuses them."""
        raise NotImplementedError

    @property
    def state(self):
        """{parameter name: {"step": t, buffer name: view}}, as torch's opt.state[p] per parameter."""
        if not self._stated:
            return {}
        return {name: {"step": self.steps, **views} for name, views in self._target.views(self._buffers).items()}

    def zero_grad(self):
        """The model's zero_grad: every gradient to exactly 0 (a dict of arrays has no gradients here)."""
        if self.net is None:
            raise TypeError("zero_grad: the optimizer was given a dict of arrays, whose gradients it does not "
                            "hold; zero your grads dict yourself")
        self.net.zero_grad()

    def step(self, grads=None):
        """One update of every parameter, in place. grads: for a dict of arrays, a dict with the same
        keys, shapes and dtypes; for an MLP, None (its own net.grads)."""
        slots = self._target.slots(grads)
        self.steps += 1
        self._stated = True
        for name, params, g in slots:
            self._slot = self._buffers.setdefault(name, {})
            self.update(params, g, *self._scratch(params))

    def _scratch(self, params):
        """Two arrays of params' size and dtype for the rules' intermediate values."""
        work = self._work.get(params.dtype)
        if work is None or work[0].size < params.size:
            work = self._work[params.dtype] = (np.empty_like(params), np.empty_like(params))
        return work[0][:params.size], work[1][:params.size]

    def update(self, params, grads, work, scaled):
        """The rule itself, in place on flat arrays (net.packed(), or one array of a dict); work and
        scaled are scratch arrays of the same shape. A subclass overriding it plants a different rule."""
        raise NotImplementedError

    def buffer(self, key, like, first=None):
        """The slot's flat state buffer `key`, created at its first use as zeros or as a copy of `first`."""
        if key not in self._slot:
            self._slot[key] = np.zeros_like(like) if first is None else first.copy()
        return self._slot[key]

    def has_buffer(self, key):
        """Whether the slot being updated has the buffer `key` (from an earlier step or a load)."""
        return key in self._slot

    def _coupled_decay(self, params, grads, out):
        """g + weight_decay * theta (L2 added to the gradient, torch's weight_decay for all but AdamW)."""
        wd = self.hyper["weight_decay"]
        if wd == 0:
            return grads
        np.multiply(params, wd, out=out)
        out += grads
        return out

    def state_dict(self):
        """{"state": copies of opt.state, "hyper": the hyperparameters}; load_state_dict takes it back."""
        return {"state": {name: {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in s.items()}
                          for name, s in self.state.items()},
                "hyper": dict(self.hyper)}

    def load_state_dict(self, state_dict):
        """Restore the hyperparameters and state of state_dict() (copies: nothing is shared). A state
        loaded before the first step is kept and used by it, as torch uses a loaded state."""
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "hyper"}:
            raise ValueError("state_dict: expected a dict with keys ['hyper', 'state'] from state_dict(), "
                             f"got {sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__}")
        if not isinstance(state_dict["hyper"], dict) or set(state_dict["hyper"]) != set(self.hyper):
            raise ValueError(f"state_dict['hyper']: expected the keys {sorted(self.hyper)} of "
                             f"{type(self).__name__}, got {sorted(state_dict['hyper'])}")
        hyper = self._checked(dict(state_dict["hyper"]))
        state = state_dict["state"]
        names = self._target.names
        if not isinstance(state, dict) or (state and set(state) != set(names)):
            got = sorted(state, key=str) if isinstance(state, dict) else type(state).__name__
            raise ValueError(f"state_dict['state']: expected the parameters {list(names)} (or none), got {got}")
        if any(not isinstance(s, dict) for s in state.values()):
            raise ValueError("state_dict['state']: expected a dict {buffer name: array, 'step': t} per parameter")
        keys = {k for s in state.values() for k in s} - {"step"}
        unknown = sorted(keys - set(self.BUFFERS))
        if unknown:
            raise ValueError(f"state_dict['state']: {unknown[0]!r} is not a buffer of {type(self).__name__} "
                             f"(expected some of {self.BUFFERS})")
        steps = {s.get("step") for s in state.values()}
        if state and (len(steps) != 1 or not _step(next(iter(steps)))):
            raise ValueError(f"state_dict['state']: expected one step count t >= 0 shared by every parameter, "
                             f"got {sorted(steps, key=repr)}")
        buffers = self._target.load("state_dict['state']", state, [k for k in self.BUFFERS if k in keys])
        self.hyper, self._buffers = hyper, buffers
        self.steps = int(next(iter(steps))) if state else 0
        self._stated = bool(state)

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.hyper.items())})"


def _step(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 0
