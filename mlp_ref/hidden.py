"""A hidden layer's normalization and dropout, between its Linear and the next one:

    z_l = h_{l-1} W_l^T + b_l  ->  zn_l = gamma_l norm(z_l) + beta_l  ->  a_l = f(zn_l)  ->  h_l = a_l mask_l / (1 - p)

norm: "batch" (statistics over the batch, per feature; running statistics for evaluation) or "layer"
(over each row's features, the same in both modes). Dropout is inverted: a kept unit is scaled by
1 / (1 - p) in training, and evaluation is the identity. Without norm there is no zn_l; without
dropout, f's output is h_l itself. The math is functional.py's pairs; this module does the
bookkeeping: which pair a mode takes, the running statistics and the masks.
"""
import numpy as np

from mlp_ref import functional as fn
from mlp_ref._packed import Packed

NORMS = ("batch", "layer")


def layer_names(l, L, hidden, norm, dropout):
    """Layer l's forward names, in order: z_l, [zn_l], [a_l], h_l (z_L, y_hat for the output layer)."""
    if l == L:
        return (f"z{L}", "y_hat")
    return (f"z{l}",) + ((f"zn{l}",) if norm else ()) + ((f"a{l}",) if dropout else ()) + (hidden[l - 1],)


def cache_fields(l, L, norm, dropout):
    """Layer l's cache entries besides its named values: the pairs' caches and the mask."""
    fields = (f"linear{l}", f"act{l}")
    if l < L:
        fields += ((f"norm{l}",) if norm else ()) + ((f"drop{l}", f"mask{l}") if dropout else ())
    return fields


def refuse_single_sample(n):
    """Batch norm in training divides by the batch's variance: one sample has none (torch refuses too)."""
    raise ValueError(f"x: batch norm in training mode needs more than 1 sample per batch (one sample has no "
                     f"batch variance), got N={n}; net.eval() normalizes with the running statistics instead")


def forward(net, l, z, entries):
    """Layer l after its Linear, in net's mode. Returns the values named after z_l (zn_l, a_l, h_l as
    present) and writes the layer's caches into entries."""
    out = []
    if net.norm is not None:
        gamma, beta = net._norm_params[l - 1]
        if net.norm == "layer":
            z, cache = fn.layernorm_forward(z, gamma, beta, net.norm_eps)
        elif net.training:
            z, cache = fn.batchnorm_forward(z, gamma, beta, net.norm_eps)
            _update_running(net, l, cache, z.shape[0])
        else:
            rm, rv = net._running[l - 1]
            # Copies: the cache must keep the statistics this forward used, not the live buffers.
            z, cache = fn.batchnorm_eval_forward(z, gamma, beta, rm.copy(), rv.copy(), net.norm_eps)
        out.append(z)
        entries[f"norm{l}"] = cache
    a, entries[f"act{l}"] = net._f.forward(z)
    out.append(a)
    if net.dropout:
        if net.training:
            mask = net._mask(l, a.shape)
            h, entries[f"drop{l}"] = fn.dropout_forward(a, mask, net.dropout)
        else:
            mask, h, entries[f"drop{l}"] = None, a, None
        entries[f"mask{l}"] = mask
        out.append(h)
    return out


def _update_running(net, l, cache, n):
    """torch's rule: r <- (1 - momentum) r + momentum * batch statistic, with the unbiased variance
    (times n / (n - 1)) for running_var, while the normalization used the biased one."""
    m = net.norm_momentum
    rm, rv = net._running[l - 1]
    rm *= 1 - m
    rm += m * cache.mean
    rv *= 1 - m
    rv += (m * n / (n - 1)) * cache.var


def backward(net, l, dh, cache, training):
    """dh_l back to dz_l through dropout, f and the norm; gamma's and beta's gradients written into
    the model's per-batch gradients. Returns [dh_l, (da_l), (dzn_l), dz_l] in backward-name order."""
    out = [dh]
    if net.dropout:
        drop = getattr(cache, f"drop{l}")
        dh = dh if drop is None else fn.dropout_backward(dh, drop)
        out.append(dh)
    dz = net.f_backward(dh, getattr(cache, f"act{l}"))
    if net.norm is not None:
        out.append(dz)
        norm_cache = getattr(cache, f"norm{l}")
        if net.norm == "layer":
            dz, dgamma, dbeta = fn.layernorm_backward(dz, norm_cache)
        elif training:
            dz, dgamma, dbeta = fn.batchnorm_backward(dz, norm_cache)
        else:
            dz, dgamma, dbeta = fn.batchnorm_eval_backward(dz, norm_cache)
        d_gamma, d_beta = net._norm_dparams[l - 1]
        d_gamma[...] = dgamma
        d_beta[...] = dbeta
    out.append(dz)
    return out


def init_state(net, seed):
    """The model's views of gamma and beta (and their gradients), batch norm's running statistics
    (net.buffers, 0 and 1 at start as torch's: packed like the params, never trained) and the
    dropout masks' own generator, apart from the init's: its draws never shift the weights."""
    L, P, d = net.n_layers, net._params.views, net._dparams.views
    net._norm_params = [(P[f"gamma{l}"], P[f"beta{l}"]) for l in range(1, L)] if net.norm else []
    net._norm_dparams = [(d[f"gamma{l}"], d[f"beta{l}"]) for l in range(1, L)] if net.norm else []
    start = {name: np.full(n, float(name.startswith("running_var")), net.dtype)
             for n, l in zip(net.hidden, range(1, L)) for name in (f"running_mean{l}", f"running_var{l}")}
    net._buffers = Packed("buffers", start if net.norm == "batch" else {}, net.dtype)
    net.buffers = net._buffers.entries
    V = net._buffers.views
    net._running = [(V[f"running_mean{l}"], V[f"running_var{l}"]) for l in range(1, L)] if V else []
    net._mask_rng = np.random.default_rng([seed, 1])
    net._frozen_masks = None


def layer_mask(net, l, shape):
    """Layer l's keep mask for this forward: drawn from the model's generator, or the frozen one."""
    if net._frozen_masks is None:
        return draw_mask(net._mask_rng, net.dropout, shape, net.dtype)
    frozen = net._frozen_masks[f"mask{l}"]
    if frozen.shape != shape:
        raise ValueError(f"x: the frozen mask{l} has shape {frozen.shape}, this forward needs {shape}; "
                         "unfreeze_masks() draws new ones")
    return frozen


def frozen_masks(net, masks=None):
    """The masks net.freeze_masks(masks) keeps: checked, or the last training forward's."""
    if not net.dropout:
        raise ValueError(f"freeze_masks: the model has no dropout (dropout={net.dropout})")
    widths = {f"mask{l}": n for l, n in enumerate(net.hidden, start=1)}
    if masks is None:
        if net.cache is None or not net.cache.training:
            raise ValueError("freeze_masks: no masks to freeze: run a forward in training mode first, or pass masks")
        masks = {name: net.cache[name] for name in widths}
    return check_masks(masks, widths, net.dtype)


def draw_mask(rng, p, shape, dtype):
    """A 0/1 keep mask: each unit kept with probability 1 - p."""
    # float32 uniforms (24 random bits, plenty for a keep probability) at half the cost of float64's.
    keep = rng.random(shape, dtype=np.float32) >= np.float32(p)
    return keep.astype(dtype)


def check_masks(masks, shapes, dtype):
    """masks given to freeze_masks: one 0/1 array per dropout layer, of the layer's width."""
    if not isinstance(masks, dict) or set(masks) != set(shapes):
        got = sorted(masks) if isinstance(masks, dict) else type(masks).__name__
        raise ValueError(f"masks: expected a dict with keys {sorted(shapes)}, got {got}")
    out = {}
    for name, width in shapes.items():
        m = masks[name]
        if not isinstance(m, np.ndarray) or m.ndim != 2 or m.shape[1] != width:
            raise ValueError(f"masks[{name!r}]: expected an array of shape (N, {width}), got "
                             f"{getattr(m, 'shape', type(m).__name__)}")
        if not np.isin(m, (0, 1)).all():
            raise ValueError(f"masks[{name!r}]: expected 0/1 values only (1 = kept)")
        out[name] = m.astype(dtype)
    return out


def model_forward(net, x):
    """MLP.forward with norm or dropout: Linear, then each hidden layer through forward() above."""
    if net.norm == "batch" and net.training and x.shape[0] < 2:
        refuse_single_sample(x.shape[0])
    if net._running:
        net._buffers.owned()
    L, h, entries = net.n_layers, x, {"x": x, "training": net.training}
    names_iter = iter(net.forward_names)
    for l, (W, b) in enumerate(net._layer_params, start=1):
        z, entries[f"linear{l}"] = fn.linear_forward(h, W, b)
        if l < L:
            values = [z, *forward(net, l, z, entries)]
        else:
            h, entries[f"act{l}"] = net._g.forward(z)
            values = [z, h]
        for value in values:
            entries[next(names_iter)] = value
        h = values[-1]
    net.cache = net._Cache(**entries)
    net._dloss = None
    return h


def model_backward(net):
    """MLP.backward with norm or dropout: each hidden layer back through backward() above."""
    L, d, c = net.n_layers, net._layer_dparams, net.cache
    dy_hat = None if net.loss_name == "ce" else net._dloss
    dz = net._dloss if dy_hat is None else net._g.backward(dy_hat, getattr(c, f"act{L}"))
    inter = [dy_hat, dz]
    for l in range(L, 1, -1):
        dh, _, _ = fn.linear_backward(dz, getattr(c, f"linear{l}"), out=d[l - 1])
        layer = backward(net, l - 1, dh, c, c.training)
        inter += layer
        dz = layer[-1]
    fn.linear_backward_params(dz, c.linear1, out=d[0])
    grads = net._grads.owned()
    grads += net._dparams.flat
    net._dloss = None
    return dict(zip(net.backward_names, inter))
