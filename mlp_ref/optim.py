"""torch.optim's update rules: SGD (momentum, dampening, Nesterov), Adam, AdamW and RMSprop, with
torch's arguments, defaults and order of operations, on the reference MLP or on a dict of arrays.

Each optimizer takes the parameters first, then torch.optim's keyword arguments:

    opt = optim.Adam(net, lr=1e-3)
    y_hat = net.forward(x); net.loss(y_hat, y); opt.zero_grad(); net.backward(); opt.step()

    opt = optim.Adam({"W": W, "b": b}, lr=1e-3)     # float32 or float64 arrays, updated in place
    opt.step({"W": dW, "b": db})

On an MLP every update is a few NumPy passes over the model's one contiguous parameter array
(net.packed()), never a Python loop per tensor (Adam and RMSprop take it in cache-sized blocks); the
state buffers are contiguous arrays of the same layout, and opt.state[name] hands out views of them
per parameter, keyed as torch keys its state. On a dict the same rule runs once per array
(mlp_ref.optim_state). g below is the gradient dL/dtheta; t counts steps from 1; every operation is
elementwise.
"""
import math

import numpy as np

from mlp_ref._packed import BLOCK, blocks  # noqa: F401  (BLOCK: tests shrink it to test the slicing)
from mlp_ref.optim_state import Optimizer
from mlp_ref.validate import flag, number


def _betas(value):
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"betas: expected a pair (beta1, beta2), got {value!r}")
    return tuple(number(f"betas[{i}]", b, 0.0, 1.0) for i, b in enumerate(value))


class SGD(Optimizer):
    """torch.optim.SGD.   SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False)

        g <- g + weight_decay theta                     (coupled: L2 through the gradient)
        b <- g                        at t = 1          (the buffer starts as the first gradient)
        b <- momentum b + (1 - dampening) g             at t > 1
        g <- g + momentum b  (nesterov)   or   g <- b
        theta <- theta - lr g                           (lr outside the buffer)

    CS231n's sgd_momentum keeps lr inside a velocity that starts at 0: v <- mu v - lr g, theta <- theta + v.
    With a constant lr and dampening 0 it takes the same steps (v = -lr b); the two part when lr
    changes mid-run (torch's buffer carries no old lr) or with dampening (torch's buffer starts at
    g, undamped). CS231n's Nesterov, theta <- theta - mu v_prev + (1 + mu) v, is the same look-ahead
    as torch's g + momentum b (Sutskever et al.), equal under the same two conditions.
    """
    BUFFERS = ("momentum_buffer",)

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False):
        super().__init__(params, lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                         nesterov=nesterov)

    def _checked(self, h):
        h = dict(lr=number("lr", h["lr"]), momentum=number("momentum", h["momentum"]),
                 dampening=number("dampening", h["dampening"], low=-math.inf),
                 weight_decay=number("weight_decay", h["weight_decay"]), nesterov=flag("nesterov", h["nesterov"]))
        if h["nesterov"] and (h["momentum"] <= 0 or h["dampening"] != 0):
            raise ValueError(f"nesterov: needs momentum > 0 and dampening = 0, as torch requires; "
                             f"got momentum={h['momentum']:g}, dampening={h['dampening']:g}")
        return h

    def update(self, params, grads, work, scaled):
        h = self.hyper
        g = self._coupled_decay(params, grads, work)
        if h["momentum"] != 0:
            first = not self.has_buffer("momentum_buffer")
            buf = self.buffer("momentum_buffer", params, first=g)
            if not first:
                buf *= h["momentum"]
                if h["dampening"] == 0:
                    buf += g
                else:
                    np.multiply(g, 1 - h["dampening"], out=scaled)
                    buf += scaled
            if h["nesterov"]:
                np.multiply(buf, h["momentum"], out=scaled)
                g = np.add(g, scaled, out=work)
            else:
                g = buf
        np.multiply(g, h["lr"], out=scaled)
        params -= scaled


class Adam(Optimizer):
    """torch.optim.Adam.   Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False)

        g <- g + weight_decay theta                     (coupled; AdamW decouples it)
        m <- beta1 m + (1 - beta1) g                    exp_avg, from 0
        v <- beta2 v + (1 - beta2) g^2                  exp_avg_sq, from 0
        v_max <- max(v_max, v)                          max_exp_avg_sq, amsgrad only; used in place of v
        theta <- theta - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    CS231n's adam is the same rule written with m_hat = m / (1 - beta1^t), v_hat = v / (1 - beta2^t):
    theta <- theta - lr m_hat / (sqrt(v_hat) + eps). eps is added after the corrected square root,
    never inside it; the bias corrections matter most in the first steps (1 - beta2^1 = 1e-3).
    """
    BUFFERS = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    DECOUPLED = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)

    def _checked(self, h):
        return dict(lr=number("lr", h["lr"]), betas=_betas(h["betas"]), eps=number("eps", h["eps"]),
                    weight_decay=number("weight_decay", h["weight_decay"]), amsgrad=flag("amsgrad", h["amsgrad"]))

    def update(self, params, grads, work, scaled):
        h, t = self.hyper, self.steps
        (beta1, beta2), lr = h["betas"], h["lr"]
        if self.DECOUPLED:
            if h["weight_decay"] != 0:
                params *= 1 - lr * h["weight_decay"]
            g = grads
        else:
            g = self._coupled_decay(params, grads, work)
        m, v = self.buffer("exp_avg", params), self.buffer("exp_avg_sq", params)
        v_max = self.buffer("max_exp_avg_sq", params) if h["amsgrad"] else None
        # sqrt(v) / c + eps = (sqrt(v) + eps c) / c with c = sqrt(1 - beta2^t): the 1/c joins the
        # step's scalar, one pass fewer, and the result moves by an ulp, not more.
        c = (1 - beta2 ** t) ** 0.5
        eps_c, step_size = h["eps"] * c, lr / (1 - beta1 ** t) * c
        for b in blocks(params.size):
            mb, vb, gb, s = m[b], v[b], g[b], scaled[b]
            np.subtract(gb, mb, out=s)  # torch's lerp: m + (1 - beta1) (g - m)
            s *= 1 - beta1
            mb += s
            vb *= beta2
            np.multiply(gb, gb, out=s)
            s *= 1 - beta2
            vb += s
            if v_max is not None:
                vb = np.maximum(v_max[b], vb, out=v_max[b])
            np.sqrt(vb, out=s)
            s += eps_c
            np.divide(mb, s, out=s)
            s *= step_size
            params[b] -= s


class AdamW(Adam):
    """torch.optim.AdamW.   AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False)

        theta <- theta (1 - lr weight_decay)            decoupled: first, and never through g or v
        then Adam's rule on the plain gradient g.

    Coupled decay (Adam's weight_decay) divides the decay by sqrt(v) like any gradient; decoupled
    decay shrinks every weight by the same factor (Loshchilov and Hutter). CS231n has no AdamW.
    """
    DECOUPLED = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)


class RMSprop(Optimizer):
    """torch.optim.RMSprop.   RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False)

        g <- g + weight_decay theta                     (coupled)
        v <- alpha v + (1 - alpha) g^2                  square_avg, from 0
        a <- alpha a + (1 - alpha) g                    grad_avg, from 0, centered only
        s <- sqrt(v - a^2) + eps  (centered)   or   s <- sqrt(v) + eps
        b <- momentum b + g / s;  theta <- theta - lr b    momentum_buffer, from 0, momentum > 0 only
        theta <- theta - lr g / s                          momentum = 0

    CS231n's rmsprop is the plain form (decay_rate for alpha, theta <- theta - lr g / (sqrt(v) + eps));
    centered and momentum are torch's additions. Note alpha's default 0.99 and lr's 1e-2.
    """
    BUFFERS = ("square_avg", "grad_avg", "momentum_buffer")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False):
        super().__init__(params, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                         centered=centered)

    def _checked(self, h):
        return dict(lr=number("lr", h["lr"]), alpha=number("alpha", h["alpha"]), eps=number("eps", h["eps"]),
                    weight_decay=number("weight_decay", h["weight_decay"]),
                    momentum=number("momentum", h["momentum"]), centered=flag("centered", h["centered"]))

    def update(self, params, grads, work, scaled):
        h = self.hyper
        alpha, lr = h["alpha"], h["lr"]
        g = self._coupled_decay(params, grads, work)
        v = self.buffer("square_avg", params)
        a = self.buffer("grad_avg", params) if h["centered"] else None
        buf = self.buffer("momentum_buffer", params) if h["momentum"] > 0 else None
        for b in blocks(params.size):
            vb, gb, s = v[b], g[b], scaled[b]
            vb *= alpha
            np.multiply(gb, gb, out=s)
            s *= 1 - alpha
            vb += s
            if a is not None:
                ab = a[b]
                np.subtract(gb, ab, out=s)  # torch's lerp: a + (1 - alpha) (g - a)
                s *= 1 - alpha
                ab += s
                np.multiply(ab, ab, out=s)
                np.subtract(vb, s, out=s)
                np.sqrt(s, out=s)
            else:
                np.sqrt(vb, out=s)
            s += h["eps"]
            np.divide(gb, s, out=s)
            if buf is not None:
                buf[b] *= h["momentum"]
                buf[b] += s
                np.multiply(buf[b], lr, out=s)
            else:
                s *= lr
            params[b] -= s


OPTIMIZERS = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop}
