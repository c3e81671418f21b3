"""Where a student's number departs in a known way: the hint explain prints under a departure.

A hint is a known slip planted into the derivation from the same forward values; a departing number
that equals the slip's value (within the student's tolerance, mlp_ref.tolerances.HAND_WORKED unless
they set rtol/atol) is that slip. Two kinds, tried in this order, first match first:

    slips     one factor written wrong (an activation derivative, dl/dy_hat), run through the whole
              chain (mlp_ref.explain.derivation.chain_products), so every later quantity carries it
    local     one quantity built wrong from right parts: the transpose, an element-wise product where
              the chain multiplies matrices, the opposite sign, off by N, K or N K

The grader names the same shapes in its own terms (mlp_ref.packs.dlsp_hw1.diagnose); these work on the
derivation's per-sample Jacobians, which the grader never sees.
"""
from typing import NamedTuple

import numpy as np

from mlp_ref.explain.derivation import chain_products, loss_jacobian
from mlp_ref.explain.input import chain, chain_of, compare_values, read_mine

# Each activation's Jacobian, in words, for the fix; {z} is the pre-activation it takes.
JACOBIAN_WORDS = {"identity": "I", "relu": "diag({z} > 0)", "leaky_relu": "diag(1 where {z} > 0, else slope)",
                  "sigmoid": "diag(s (1 - s)) with s = sigmoid({z})", "tanh": "diag(1 - tanh({z})^2)",
                  "softmax": "diag(s) - s s^T with s = softmax({z})"}
LOSS_WORDS = {"mse": "2 (y_hat - y)", "bce": "(y_hat - y) / (y_hat (1 - y_hat))", "ce": "-onehot(y) / y_hat"}
# (factor, argument of chain_products, activation field, pre-activation, output) per layer
LAYERS = (("dz2/dz1", "hidden", "f", "z1", "z2"), ("dy_hat/dz3", "output", "g", "z3", "y_hat"))


class Hint(NamedTuple):
    id: str
    quantity: str
    mistake: str
    fix: str

    def text(self):
        return f"hint: {self.quantity} matches {self.mistake}; fix: {self.fix}"


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _activation_slips(act, factor, z, out):
    """(id, mistake, derivative(z, out) -> diagonal or matrix) for one layer's activation."""
    right = JACOBIAN_WORDS[act].format(z=z)
    slips = []
    if act == "sigmoid":
        slips += [("derivative_at_output", f"sigmoid' evaluated at the output {out} instead of the pre-activation {z}: "
                   f"sigmoid({out}) (1 - sigmoid({out}))", lambda zz, o: _sigmoid(o) * (1 - _sigmoid(o))),
                  ("derivative_at_output", f"sigmoid' written in the output's form at the pre-activation: {z} (1 - {z})",
                   lambda zz, o: zz * (1 - zz)),
                  ("missing_factor", "sigmoid' written as s instead of s(1-s)", lambda zz, o: o)]
    if act == "tanh":
        slips += [("derivative_at_output", f"tanh' evaluated at the output {out} instead of the pre-activation {z}: "
                   f"1 - tanh({out})^2", lambda zz, o: 1 - np.tanh(o) ** 2),
                  ("derivative_at_output", f"tanh' written in the output's form at the pre-activation: 1 - {z}^2",
                   lambda zz, o: 1 - zz * zz)]
    if act == "relu":
        slips += [("relu_derivative_at_zero", f"ReLU'(0) taken as 1 ({z} >= 0)", lambda zz, o: (zz >= 0) * 1.0)]
    if act == "softmax":
        slips += [("softmax_as_elementwise", "softmax's Jacobian taken as diagonal, diag(s (1 - s)): the -s_i s_j "
                   "off the diagonal lost", lambda zz, o: o * (1 - o))]
    if act != "identity":
        slips += [("missing_factor", f"{act}'s derivative left out ({factor} taken as the identity)",
                   lambda zz, o: np.ones_like(zz))]
    return [(rid, mistake, f"{factor} = {right}", derivative) for rid, mistake, derivative in slips]


def _divisor_words(d, n, k):
    return {1: "nothing", n: f"N = {n}", k: f"K = {k}", n * k: f"N K = {n * k}"}.get(d, f"{d:g}")


def _loss_slips(p):
    """(id, mistake, fix, row(right_row) -> slipped row) for dl/dy_hat."""
    n, k = p.x.shape[0], p.W2.shape[0]
    right_div = 1 if p.reduction == "sum" else (n if p.loss == "ce" else n * k)
    right = LOSS_WORDS[p.loss] + ("" if right_div == 1 else f" / {'N' if p.loss == 'ce' else 'N K'}")
    slips = []
    if p.loss == "mse":
        slips.append(("missing_factor", "the 2 of the squared error left out of dl/dy_hat",
                      f"d/dy_hat (y_hat - y)^2 = 2 (y_hat - y), so dl/dy_hat = {right}", lambda row: row / 2))
    slips.append(("sign_flip", "dl/dy_hat with its sign flipped", f"dl/dy_hat = +{right}", lambda row: -row))
    for d in dict.fromkeys((1, n, k, n * k)):
        if d != right_div:
            slips.append(("off_by_n_or_k", f"dl/dy_hat divided by {_divisor_words(d, n, k)}, where the "
                          f"{p.reduction!r} reduction divides by {_divisor_words(right_div, n, k)}",
                          f"dl/dy_hat = {right}; the reduction divides once, in dl/dy_hat, nowhere else",
                          lambda row, d=d: row * right_div / d))
    return slips


def slipped_chains(d):
    """[(id, mistake, fix, chain)]: the derivation with one slip planted, every quantity recomputed."""
    p, out = d.problem, []
    for factor, where, field, z, o in LAYERS:
        for rid, mistake, fix, derivative in _activation_slips(getattr(p, field), factor, z, o):
            def planted(name, zz, oo, slope=0.01, derivative=derivative):
                with np.errstate(all="ignore"):
                    value = derivative(zz, oo)
                return value if value.ndim == 2 else np.diag(value)
            samples, grads = chain_products(p, d.forward, **{where: planted})
            out.append((rid, f"a derivation with {mistake}", fix, chain_of(d.forward, samples, grads)))
    for rid, mistake, fix, slip in _loss_slips(p):
        def row(*args, slip=slip):
            return slip(loss_jacobian(*args))
        samples, grads = chain_products(p, d.forward, loss_row=row)
        out.append((rid, f"a derivation with {mistake}", fix, chain_of(d.forward, samples, grads)))
    return out


def _local(d, name, expected):
    """[(id, mistake, fix, value)]: the quantity `name` built wrong from right parts."""
    n, k = d.problem.x.shape[0], d.problem.W2.shape[0]
    out = []
    if expected.ndim == 2:
        fix = {"dW1": "dW1 = (dl/dz1)^T x, shape (out, in) like W1", "dW2": "dW2 = (dl/dz3)^T z2, shape (out, in) like W2"
               }.get(name.split("_")[0], f"{name} has shape {expected.shape}; transpose what you wrote")
        out.append(("transposed", f"the transpose of {name} (shape {expected.T.shape} for {expected.shape})", fix,
                    expected.T))
    if " [n=" in name:
        base, sample = name.split(" [n=")
        s = d.samples[int(sample[:-1])]
        parts = {"dl/dz3": ("dl/dy_hat", "dy_hat/dz3"), "dl/dz2": ("dl/dz3", "dz3/dz2"), "dl/dz1": ("dl/dz2", "dz2/dz1")}
        if base in parts:
            a, b = parts[base]
            try:
                value = s[a] * s[b]
            except ValueError:  # shapes that do not broadcast: a slip no one can write
                value = None
            if value is not None:
                out.append(("elementwise_for_matmul", f"the element-wise product {a} * {b} (broadcast to shape "
                            f"{value.shape}) where the chain multiplies matrices",
                            f"{base} = {a} {b}, the (1 x .) row times the matrix", value))
    out.append(("sign_flip", f"{name} with its sign flipped", "find where the sign turns; dl/dy_hat = "
                f"+{LOSS_WORDS[d.problem.loss]}, every factor after it as derived", -expected))
    for c, words in ((n, f"N = {n}"), (k, f"K = {k}"), (n * k, f"N K = {n * k}"),
                     (1 / n, f"1/N = 1/{n}"), (1 / k, f"1/K = 1/{k}"), (1 / (n * k), f"1/(N K) = 1/{n * k}")):
        if c != 1:
            out.append(("off_by_n_or_k", f"{name} times {words}", "the batch enters twice only: the gradients sum "
                        "the per-sample terms, and a mean reduction divides dl/dy_hat once", c * expected))
    return out


def _close(a, b, tol):
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= tol.allowed(b)))


def find(d, name, yours, tol, slipped=None):
    """The Hints for one departing quantity: every known slip whose value `yours` equals. One shape reached
    two ways (a sign flipped in dl/dy_hat or in dW1) is told once, the first; two shapes that give the same
    number on this problem (the 2 of the squared error and 1/N with N = 2) are both told: the numbers cannot
    choose between them."""
    expected = np.asarray(chain(d)[name], dtype=np.float64)
    yours = np.asarray(yours, dtype=np.float64)
    candidates = [(rid, m, fix, np.asarray(q[name], dtype=np.float64))
                  for rid, m, fix, q in (slipped_chains(d) if slipped is None else slipped)]
    candidates += _local(d, name, expected)
    hints, told = [], []
    for rid, mistake, fix, value in candidates:
        with np.errstate(all="ignore"):
            if (not np.all(np.isfinite(value)) or _close(value, expected, tol) or not _close(yours, value, tol)
                    or any(rid == r and _close(value, t, tol) for r, t in told)):
                continue
        told.append((rid, value))
        hints.append(Hint(rid, name, mistake, fix))
    return hints


def for_mine(d, values, comparisons, tol):
    """{name: [Hint]} for each departing quantity the student gave (empty lists left out)."""
    departed = [c.name for c in comparisons if not c.ok]
    if not departed:
        return {}
    slipped = slipped_chains(d)
    found = {name: find(d, name, values[name], tol, slipped) for name in departed}
    return {name: h for name, h in found.items() if h}



def check(d, mine):
    """A student's `mine` against the derivation: (Comparisons in chain order, {quantity: [Hint]} for the
    departures that equal a known slip)."""
    tol, values = read_mine(d, mine)
    comparisons = compare_values(d, values, tol)
    return comparisons, for_mine(d, values, comparisons, tol)
