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

NORMS = ("batch", "layer")


def layer_names(l, L, hidden, norm, dropout):
    """Layer l's forward names after nothing: z_l, [zn_l], [a_l], h_l (z_L, y_hat for the output)."""
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
