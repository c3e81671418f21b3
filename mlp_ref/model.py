"""The reference MLP: Linear -> f -> ... -> Linear -> g, trained in five explicit stages.

Layers l = 1..L, with L = (number of hidden layers) + 1, in torch's nn.Linear layout (out, in):

    z_l = h_{l-1} W_l^T + b_l    (N, n_l)      W_l: (n_l, n_{l-1})  b_l: (n_l,)   h_0 = x
    h_l = f(z_l)                 (N, n_l)      for l < L
    y_hat = g(z_L)               (N, K)

Names: one hidden layer (n_hidden an int, today's two-layer model) gives z1, h, z2, y_hat; several
(n_hidden = [h1, ..., hk]) give z1, h1, z2, h2, ..., z_{k+1}, y_hat. A gradient is `d` + the forward
name: dW1, dz2, dh1; backward() returns dy_hat, dz_L, dh_{L-1}, dz_{L-1}, ..., dz1.

    y_hat = net.forward(x); value = net.loss(y_hat, y); net.zero_grad(); net.backward(); net.step(lr)
"""
import math
from functools import partial

import numpy as np

from mlp_ref import functional as fn
from mlp_ref import init as init_mod
from mlp_ref import hidden as hidden_mod
from mlp_ref import names as names_mod
from mlp_ref.names import forward_cache, names
from mlp_ref import losses, memory, validate
from mlp_ref.seen import SeenShapes
from mlp_ref._packed import BLOCK, Packed, blocks

# The two-layer model's parameters (n_hidden an int); a deep model's are net.param_names.
PARAM_NAMES = ("W1", "b1", "W2", "b2")


def __getattr__(name):
    # Caches pickled when their classes lived here unpickle through mlp_ref.names.
    if name.startswith("ForwardCache"):
        return getattr(names_mod, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _hidden_widths(n_hidden):
    if isinstance(n_hidden, (list, tuple)):
        if not n_hidden:
            raise ValueError("n_hidden: expected a positive integer or a non-empty list of them, got []")
        return tuple(validate.positive_int(f"n_hidden[{i}]", h) for i, h in enumerate(n_hidden))
    return (validate.positive_int("n_hidden", n_hidden),)


class MLP:
    """A multi-layer perceptron whose every gradient is coded by hand.

    n_hidden: an int (one hidden layer) or a list of hidden widths. params, grads: dicts keyed
    W1, b1, ..., WL, bL (same shapes, the model's dtype), views into one contiguous array each
    (mlp_ref._packed): assigning params[k] = A copies A's values in at the next stage. Every
    batch-shaped array a stage returns (y_hat, the cache, backward's dict) is new at each call.
    loss: "mse" | "bce" | "ce", reduced by reduction "sum" | "mean" as the matching torch loss does;
    g None: the loss's own output (softmax for ce, sigmoid for bce, identity for mse; losses.OUTPUTS).
    norm None | "batch" | "layer" and dropout p in [0, 1): each hidden layer is Linear -> norm -> f
    -> dropout (mlp_ref.hidden), with params gamma_l, beta_l and, for batch norm, net.buffers
    running_mean_l, running_var_l (torch's eps and momentum: norm_eps, norm_momentum).
    net.train() / net.eval() switch the mode, as torch's modules.
    """

    def __init__(self, n_in, n_hidden, n_out, f="relu", g=None, loss="mse", reduction="sum",
                 dtype="float64", seed=0, *, init="torch", negative_slope=0.01, max_memory=None,
                 norm=None, dropout=0.0, norm_eps=1e-5, norm_momentum=0.1):
        self.n_in = validate.positive_int("n_in", n_in)
        self.hidden = _hidden_widths(n_hidden)
        self.n_hidden = self.hidden[0] if not isinstance(n_hidden, (list, tuple)) else self.hidden
        self.n_out = validate.positive_int("n_out", n_out)
        self.sizes = (self.n_in, *self.hidden, self.n_out)
        self.n_layers = len(self.sizes) - 1
        self.f = validate.choice("f", f, fn.HIDDEN_ACTIVATIONS)
        self.loss_name = validate.choice("loss", loss, losses.LOSSES)
        self.g = validate.choice("g", losses.default_output(self.loss_name) if g is None else g,
                                 fn.OUTPUT_ACTIVATIONS)
        self.reduction = validate.choice("reduction", reduction, losses.REDUCTIONS)
        self.dtype = validate.dtype_name(dtype)
        self.negative_slope = validate.finite_real("negative_slope", negative_slope)
        seed = validate.seed("seed", seed)
        losses.check_output("g", self.loss_name, self.g)
        self.norm = None if norm is None else validate.choice("norm", norm, hidden_mod.NORMS)
        self.dropout = validate.number("dropout", dropout, 0.0, 1.0)
        self.norm_eps = validate.number("norm_eps", norm_eps, 0.0)
        if self.norm_eps <= 0:
            raise ValueError(f"norm_eps: expected a finite number > 0, got {norm_eps!r}")
        self.norm_momentum = validate.number("norm_momentum", norm_momentum, 0.0)
        if self.norm_momentum > 1:
            raise ValueError(f"norm_momentum: expected a finite number in [0, 1] (torch's momentum), got {norm_momentum!r}")
        self.training = True
        # What __reduce__ rebuilds a copy from (the init and seed only draw values that a copy overwrites).
        self._init_args = dict(n_in=self.n_in, n_hidden=n_hidden, n_out=self.n_out, f=self.f, g=self.g,
                               loss=self.loss_name, reduction=self.reduction, dtype=self.dtype,
                               negative_slope=self.negative_slope, max_memory=max_memory, norm=self.norm,
                               dropout=self.dropout, norm_eps=self.norm_eps, norm_momentum=self.norm_momentum)
        # Sizes are checked against memory before any array is made; forward checks each batch.
        self._max_memory = memory.default_limit() if max_memory is None else max_memory
        memory.check(f"MLP({self.n_in}, {self.n_hidden}, {self.n_out}, dtype={self.dtype!r})",
                     memory.model_bytes(self.sizes, self.dtype, self.norm), self._max_memory,
                     "max_memory= sets the limit")
        self._seen = SeenShapes()  # batch shapes already checked (their values are checked at every call)
        self._batch_bytes = memory.batch_bytes(self.sizes, 1, self.dtype, self.norm, bool(self.dropout))
        self._f, self._g = self._activation(self.f), self._activation(self.g)
        L = self.n_layers
        self._plain = self.norm is None and not self.dropout  # the Linear -> f model, on its own fast path
        self.hidden_names, self.forward_names, self.backward_names, self.param_names, self.buffer_names = \
            names(L, self.norm, bool(self.dropout))
        self._Cache = forward_cache(L, self.norm, bool(self.dropout))
        initial = init_mod.draw(self.sizes, validate.choice("init", init, init_mod.INITS), seed, self.dtype)
        if self.norm is not None:
            # gamma 1 and beta 0, as torch's: the norm starts as the plain normalization. No draws.
            initial.update({name: np.full(n, float(name.startswith("gamma")), self.dtype)
                            for l, n in enumerate(self.hidden, start=1) for name in (f"gamma{l}", f"beta{l}")})
            initial = {name: initial[name] for name in self.param_names}
        zeros = {k: np.zeros_like(v) for k, v in initial.items()}
        self._params, self._grads = Packed("params", initial, self.dtype), Packed("grads", zeros, self.dtype)
        # This batch's gradients, before they are added into grads (torch accumulates too).
        self._dparams = Packed("dparams", zeros, self.dtype)
        self._update = np.empty(min(BLOCK, self._params.owned().size), self.dtype)  # lr * grads, a block at a time
        self._lr = (None, None)  # the last lr step() took, and it as a 0-d array of the dtype
        # Per layer, the views forward and backward use (fixed: the packed arrays never move).
        P, d = self._params.views, self._dparams.views
        self._layer_params = [(P[f"W{l}"], P[f"b{l}"]) for l in range(1, L + 1)]
        self._layer_dparams = [(d[f"W{l}"], d[f"b{l}"]) for l in range(1, L + 1)]
        self.params, self.grads = self._params.entries, self._grads.entries
        # Layer by layer, what the plain forward calls: (W_l, b_l as a (1, n_l) row, f's forward; g's for
        # the last). The row is a view of the same bias; adding it to a 1-row z skips NumPy's broadcast
        # set-up, half of the add's cost on a tiny layer, and costs the same on a large one.
        self._plain_layers = [(W, b[np.newaxis], (self._f if l < L else self._g).forward)
                              for l, (W, b) in enumerate(self._layer_params, start=1)]
        hidden_mod.init_state(self, seed)  # gamma/beta views, running statistics, the masks' generator
        self.cache = None
        self._dloss = None

    def _activation(self, name):
        act = fn.ACTIVATIONS[name]
        if name == "leaky_relu":
            return act._replace(forward=partial(act.forward, slope=self.negative_slope),
                                backward=partial(act.backward, slope=self.negative_slope))
        return act

    @property
    def shapes(self):
        """Expected shape of each parameter, in torch's (out, in) layout."""
        out = {}
        for l, (fan_in, fan_out) in enumerate(zip(self.sizes, self.sizes[1:]), start=1):
            out[f"W{l}"], out[f"b{l}"] = (fan_out, fan_in), (fan_out,)
            if self.norm is not None and l < self.n_layers:
                out[f"gamma{l}"], out[f"beta{l}"] = (fan_out,), (fan_out,)
        return {name: out[name] for name in self.param_names}

    def set_params(self, params):
        """Copy W1, b1, (gamma1, beta1,) ..., WL, bL from a dict of arrays of the right shapes and the model's dtype."""
        if not isinstance(params, dict) or set(params) != set(self.param_names):
            got = sorted(params) if isinstance(params, dict) else type(params).__name__
            raise ValueError(f"params: expected a dict with keys {list(self.param_names)}, got {got}")
        for name, shape in self.shapes.items():
            validate.array(f"params[{name!r}]", params[name], shape=shape, dtype=self.dtype)
        self._params.assign(params)
        self.cache = None
        self._dloss = None
        return self

    def packed(self):
        """(params, grads) as the model's two contiguous arrays, any assigned entry copied in first.

        The optimizers update these in place: a few passes over the whole model, not a loop per tensor.
        """
        return self._params.owned(), self._grads.owned()

    def unpack(self, flat):
        """Views of an array laid out like packed()'s, one per parameter name (optimizer state)."""
        return self._params.unpack(flat)

    # --- stage 1 -----------------------------------------------------------------------------
    def forward(self, x):
        """y_hat = g(... f(x W1^T + b1) ... W_L^T + b_L).   x: (N, D) -> y_hat: (N, K); caches what backward needs."""
        self._seen.array("x", x, shape=(None, self.n_in), dtype=self.dtype, names=("N", "n_in"),
                         on_new=self._check_batch_memory)
        if not validate.surely_finite(self._params.owned()):
            for name in self.param_names:
                validate.finite(f"params[{name!r}]", self.params[name])
        if not self._plain:
            return hidden_mod.model_forward(self, x)
        h, named, layers, linear_forward = x, [x], [], fn.linear_forward
        for W, b, act_forward in self._plain_layers:
            z, linear = linear_forward(h, W, b)
            h, act = act_forward(z)
            named += (z, h)
            layers += (linear, act)
        self.cache = self._Cache(*named, *layers)
        self._dloss = None
        return h

    def _check_batch_memory(self, x):
        if not 0 < x.shape[0] * self._batch_bytes <= self._max_memory:
            self._batch_too_large(x.shape[0])

    def _mask(self, l, shape):
        """Layer l's keep mask for this forward: drawn from the model's generator, or the frozen one."""
        return hidden_mod.layer_mask(self, l, shape)

    def freeze_masks(self, masks=None):
        """Reuse the same dropout masks at every forward (finite differences need a fixed function) until
        unfreeze_masks(). masks: {mask_l: (N, n_l) 0/1 array}; None: the last training forward's."""
        self._frozen_masks = hidden_mod.frozen_masks(self, masks)
        return self

    def unfreeze_masks(self):
        """Draw new masks from the model's generator at every forward again."""
        self._frozen_masks = None
        return self

    def train(self, mode=True):
        """Training mode (the default), as torch's module.train(): batch statistics and dropout."""
        self.training = validate.flag("mode", mode)
        return self

    def eval(self):
        """Evaluation mode: batch norm uses the running statistics, dropout is the identity."""
        return self.train(False)

    def _batch_too_large(self, n):
        if n == 0:
            raise ValueError(f"x: expected at least one sample, got shape (0, {self.n_in})")
        memory.check(f"forward on a batch of N={n}", n * self._batch_bytes, self._max_memory,
                     "max_memory= sets the limit")

    # --- stage 2 -----------------------------------------------------------------------------
    def loss(self, y_hat, y):
        """The loss as a Python float; caches dL/dy_hat (dL/dz_L for softmax + ce, the fused form).

        y: (N, K) of the model's dtype for mse and bce; (N,) integer class indices for ce.
        """
        if self.cache is None:
            raise ValueError("loss() called before forward(): run y_hat = net.forward(x) first")
        n = self.cache.x.shape[0]
        own = y_hat is self.cache.y_hat
        if own and self.loss_name == "mse" and self._seen.known("y", y, (n, self.n_out), self.dtype):
            # Every value is still checked: a NaN or inf in y_hat or y makes the sum of squares
            # non-finite, and only then are both searched below, to name the culprit.
            value, dloss = losses.mse(y_hat, y, self.reduction)
            if math.isfinite(value):
                self._dloss = dloss
                return float(value)
        if own:
            # forward's own output: its type, shape and dtype are known; only overflow can be new.
            validate.finite("y_hat", y_hat)
        else:
            self._seen.array("y_hat", y_hat, shape=(n, self.n_out), dtype=self.dtype, names=("N", "n_out"))
        if self.loss_name == "ce":
            validate.class_targets("y", y, n=n, n_classes=self.n_out)
            z_L = getattr(self.cache, self.forward_names[-2])  # the logits, the name before y_hat
            value, self._dloss = losses.cross_entropy(z_L, y, self.reduction)
        else:
            self._seen.array("y", y, shape=(n, self.n_out), dtype=self.dtype, names=("N", "n_out"))
            if self.loss_name == "bce":
                validate.probabilities("y", y)
                value, self._dloss = losses.bce(y_hat, y, self.reduction)
            else:
                value, self._dloss = losses.mse(y_hat, y, self.reduction)
        return float(value)

    # --- stage 3 -----------------------------------------------------------------------------
    def zero_grad(self):
        """Every gradient buffer to exactly 0."""
        self._grads.owned().fill(0)

    # --- stage 4 -----------------------------------------------------------------------------
    def backward(self):
        """ADD this batch's gradients into self.grads, as torch accumulates into .grad.

        Returns the intermediate gradients {dy_hat, dz_L, dh_{L-1}, dz_{L-1}, ..., dz1}
        (dy_hat is None for softmax + ce, whose loss hands back dz_L directly).
        """
        if self.cache is None:
            raise ValueError("backward() called before forward(): run forward(x), then loss(y_hat, y)")
        if self._dloss is None:
            raise ValueError("backward() called before loss(): run loss(y_hat, y) after forward(x); "
                             "as in torch, each loss can be backpropagated once")
        if not self._plain:
            return hidden_mod.model_backward(self)
        L, d = self.n_layers, self._layer_dparams
        # The cache is x, z1, .., y_hat (2L + 1 names), then linear1, act1, .., linearL, actL.
        linears, acts = self.cache[2 * L + 1::2], self.cache[2 * L + 2::2]  # layer l's at index l - 1
        dy_hat = None if self.loss_name == "ce" else self._dloss
        dz = self._dloss if dy_hat is None else self._g.backward(dy_hat, acts[L - 1])
        inter = [dy_hat, dz]
        for l in range(L, 1, -1):
            dh, _, _ = fn.linear_backward(dz, linears[l - 1], out=d[l - 1])
            dz = self.f_backward(dh, acts[l - 2])
            inter += (dh, dz)
        fn.linear_backward_params(dz, linears[0], out=d[0])  # dx is not needed: x is data
        grads = self._grads.owned()
        grads += self._dparams.flat
        self._dloss = None
        return dict(zip(self.backward_names, inter))

    def f_backward(self, dh, cache):
        """dz = f'(z) * dh for one hidden layer.   dh: (N, n_l) -> (N, n_l)"""
        return self._f.backward(dh, cache)

    # --- stage 5 -----------------------------------------------------------------------------
    def step(self, lr):
        """W <- W - lr * dW for every parameter, in place (plain SGD; mlp_ref.optim has the rest)."""
        lr = validate.learning_rate(lr)
        if lr != self._lr[0] or lr == 0:  # (0.0 and -0.0 are equal, their arrays not)
            # lr as a 0-d array of the model's dtype (the value NumPy rounds a Python float to anyway): a
            # Python float makes every multiply resolve the scalar's type first (0.7 against 0.4 us).
            self._lr = (lr, np.asarray(lr, self.dtype))
        factor = self._lr[1]
        params, grads = self.packed()
        update = self._update
        if params.size == update.size:  # one block: a model of at most BLOCK parameters, no slicing
            np.multiply(grads, factor, out=update)
            np.subtract(params, update, out=params)
            return
        for b in blocks(params.size):
            if update.size < b.stop - b.start:  # BLOCK changed since construction
                self._update = update = np.empty(b.stop - b.start, self.dtype)
            u = update[:b.stop - b.start]
            np.multiply(grads[b], factor, out=u)
            np.subtract(params[b], u, out=params[b])

    # --- copies --------------------------------------------------------------------------------
    def __reduce__(self):
        """copy.copy, copy.deepcopy and pickle give an independent model that trains: it is rebuilt
        through __init__ and every value copied in. (Stored attribute by attribute, the params, grads
        and every layer's views would come back as separate arrays, no longer views of the packed ones
        that forward, backward and the updates use.)"""
        self.packed()  # an entry assigned from outside is checked and copied in first
        self._buffers.owned()
        state = {"params": dict(self.params), "grads": dict(self.grads), "buffers": dict(self.buffers),
                 "training": self.training, "mask_rng": self._mask_rng.bit_generator.state,
                 "frozen_masks": self._frozen_masks, "cache": self.cache, "dloss": self._dloss}
        return _rebuild, (self._init_args, state)

    def __repr__(self):
        extra = (f", norm={self.norm!r}" if self.norm else "") + (f", dropout={self.dropout!r}" if self.dropout else "")
        return (f"MLP({self.n_in}, {self.n_hidden}, {self.n_out}, f={self.f!r}, g={self.g!r}, "
                f"loss={self.loss_name!r}, reduction={self.reduction!r}, dtype={self.dtype!r}{extra})")


def _rebuild(init_args, state):
    """The model MLP.__reduce__ describes: built anew, then its values copied into its own arrays."""
    net = MLP(**init_args)
    for packed, what in ((net._params, "params"), (net._grads, "grads"), (net._buffers, "buffers")):
        packed.assign(state[what])
    net.training = state["training"]
    net._mask_rng.bit_generator.state = state["mask_rng"]
    net._frozen_masks, net.cache, net._dloss = state["frozen_masks"], state["cache"], state["dloss"]
    return net
