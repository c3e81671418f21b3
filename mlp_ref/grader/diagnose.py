"""Name the shape of an error: the one table of diagnosis rules.

A rule looks at one failing check (the first quantity that disagrees, both arrays, torch's
intermediates for that step) and returns a sentence of evidence when the error has its shape, else
None. The first rule that speaks wins. Three pattern rules then look across checks: a mean split
between loss and backward, a matrix product that crashes where the shapes differ, an activation
branch that is missing. To teach the grader a new bug: add a rule (and a mutant if it needs one)
here, and a submission with that bug to tests/grader/zoo with its id in the manifest.

Matching is loose on purpose (MATCH): the question is which bug, not whether the digits agree.
"""
from dataclasses import dataclass
from typing import Callable

import numpy as np

GRADS = ("dW1", "db1", "dW2", "db2")
MATCH_RTOL, MATCH_ATOL = 1e-4, 1e-6  # atol is relative to the largest |torch| element


@dataclass(frozen=True)
class Rule:
    id: str
    words: str                    # what it means and what to fix, for a student
    evidence: Callable            # Evidence -> str | None


class Evidence:
    """One failing check seen from the diagnoses: the quantity, both arrays as float64, torch's intermediates."""

    def __init__(self, check, expected):
        self.check, self.case, self.name, self.step = check, check.case, check.quantity, check.step
        self.a = check.actual.astype(np.float64)
        self.e = check.expected.astype(np.float64)
        self.exp = expected

    def torch(self, name):
        key = name if self.step is None else f"{self.step}.{name}"
        return self.exp[key].astype(np.float64)

    def mine(self, name, step):
        a = self.check.arrays.get(f"{step}.{name}")
        return None if a is None else a.astype(np.float64)

    def input(self, name):
        return self.case.array(name).astype(np.float64)


def close(a, p):
    """a equals the prediction p up to rounding of either dtype (and p is not all zeros)."""
    if a is None or p is None or a.shape != p.shape or not np.all(np.isfinite(a)) or not np.all(np.isfinite(p)):
        return False
    scale = float(np.max(np.abs(p), initial=0.0))
    return scale > 0 and bool(np.all(np.abs(a - p) <= MATCH_RTOL * np.abs(p) + MATCH_ATOL * scale))


def _differs(ev, p):
    """A prediction only counts when it differs from torch's answer, or it explains nothing."""
    return not close(ev.e, p) if p.shape == ev.e.shape else True


def scale_of(ev, factors):
    """The first factor c with actual = c * torch, else None."""
    for c in factors:
        if close(ev.a, c * ev.e) and _differs(ev, c * ev.e):
            return c
    return None


def reductions(case):
    """Constant factors a mean-reduction slip gives: N, K, N K and their inverses (1 left out)."""
    n, k = case.n, case.k
    out = []
    for c in (n * k, n, k, 1 / (n * k), 1 / n, 1 / k):
        if c != 1 and all(abs(c - o) > 1e-12 for o in out):
            out.append(c)
    return out


def _fraction(c):
    return f"{c:g}" if c >= 1 else f"1/{1 / c:g}"


# --- per-check rules -----------------------------------------------------------------------------
def non_finite(ev):
    if ev.a.shape != ev.e.shape:
        return None
    bad = ~np.isfinite(ev.a) & np.isfinite(ev.e)
    if bad.any():
        i = tuple(int(j) for j in np.argwhere(bad)[0])
        return f"{ev.name} has {int(bad.sum())} NaN/inf element(s) where torch is finite, first at {i}: {ev.a[i]}"
    return None


def transposed(ev):
    if ev.name not in ("dW1", "dW2") or ev.a.ndim != 2 or ev.a.shape != ev.e.T.shape:
        return None
    if close(ev.a, ev.e.T) and _differs(ev, ev.e.T):
        return f"{ev.name} has shape {ev.a.shape} and equals the transpose of torch's {ev.e.shape}"
    return None


def bias_not_summed(ev):
    if ev.name not in ("db1", "db2"):
        return None
    dz = ev.torch("dz1" if ev.name == "db1" else "dz2")
    n = dz.shape[0]
    if ev.a.ndim == 2 and ev.a.shape[-1] == ev.e.shape[0] and ev.a.shape[0] > 1 and close(ev.a.sum(axis=0), ev.e):
        return f"{ev.name} has shape {ev.a.shape}: one row per sample, never summed over the batch"
    a = ev.a.reshape(-1)
    if a.shape != ev.e.shape or n == 1:
        return None
    if close(a, ev.e / n):
        return f"{ev.name} is 1/{n} of torch's: the mean over the batch of N = {n}, not the sum"
    for row in (0, n - 1):
        if close(a, dz[row]) and _differs(ev, dz[row]):
            return f"{ev.name} equals the gradient of sample {row} alone, not the sum over the batch of {n}"
    return None


def accumulates(ev):
    if ev.name not in GRADS or ev.step is None or ev.step < 2:
        return None
    previous = ev.mine(ev.name, ev.step - 1)
    if previous is not None and previous.shape == ev.e.shape and close(ev.a, ev.e + previous):
        return (f"{ev.name} at step {ev.step} equals torch's for this step plus the submission's own from step "
                f"{ev.step - 1}: the old gradient was not cleared")
    return None


def half_mse(ev):
    if ev.case.loss == "mse" and ev.name in ("J", "dJdy_hat", *GRADS) and scale_of(ev, (0.5,)):
        return f"{ev.name} is exactly 1/2 of torch's (the 1/2 (y_hat - y)^2 convention); torch's MSELoss has no 1/2"
    return None


def wrong_sign(ev):
    if ev.name != "y_hat" and scale_of(ev, (-1.0,)):
        return f"{ev.name} is exactly -1 times torch's"
    return None


def split(ev):
    if ev.case.kind != "train" or ev.name != "dJdy_hat":
        return None
    c = scale_of(ev, reductions(ev.case))
    grads_ok = [x.ok for x in ev.check.comparisons if x.name in GRADS]
    if c and len(grads_ok) == 4 and all(grads_ok):
        return (f"dJdy_hat is {_fraction(c)} times torch's, yet every gradient agrees: backward makes up the "
                "factor, so the mean is split between the loss and backward")
    return None


def not_mean_reduced(ev):
    if ev.name not in ("J", "dJdy_hat", *GRADS):
        return None
    c = scale_of(ev, reductions(ev.case))
    if c:
        return (f"{ev.name} is {_fraction(c)} times torch's (N = {ev.case.n}, K = {ev.case.k}): "
                f"torch's mean divides by N K = {ev.case.n * ev.case.k}")
    return None


# --- mutants: torch's forward values, backpropagated by hand with one planted bug ----------------------
def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


RIGHT = {"relu": lambda z, out: (z > 0) * 1.0, "sigmoid": lambda z, out: out * (1 - out),
         "identity": lambda z, out: np.ones_like(z)}
MUTANTS = (
    ("relu_derivative_at_zero", "ReLU'(0) = 1", {"relu": lambda z, out: (z >= 0) * 1.0}, {}),
    ("relu_derivative_at_zero", "ReLU'(0) = 1/2", {"relu": lambda z, out: (z > 0) + 0.5 * (z == 0)}, {}),
    ("derivative_at_wrong_point", "sigmoid' evaluated at the output: sigmoid(out) (1 - sigmoid(out))",
     {"sigmoid": lambda z, out: _sigmoid(out) * (1 - _sigmoid(out))}, {}),
    ("derivative_at_wrong_point", "the output form s (1 - s) applied to the input: z (1 - z)",
     {"sigmoid": lambda z, out: z * (1 - z)}, {}),
    ("matmul_for_elementwise", "dz = dout @ f'(z) instead of dout * f'(z)", {}, {"act": np.matmul}),
    ("matmul_for_elementwise", "dW = dz^T * input instead of dz^T @ input", {}, {"dW": lambda dz, i: dz.T * i}),
    ("matmul_for_elementwise", "dh = dz2 * W2 instead of dz2 @ W2", {}, {"dx": np.multiply}),
)


def backprop(ev, derivs, ops, layers):
    """dW1, db1, dW2, db2 from torch's forward values, with `derivs` and `ops` replaced in `layers`."""
    act, dW, dx = ops.get("act", np.multiply), ops.get("dW", lambda dz, i: dz.T @ i), ops.get("dx", np.matmul)
    x = ev.input("x")
    dy = ev.input("dJdy_hat") if ev.case.kind == "backward" else ev.torch("dJdy_hat")
    z1, h, z2, y_hat, W2 = (ev.torch(k) for k in ("z1", "h", "z2", "y_hat", "W2"))

    def layer(i, op, default):
        return op if i in layers else default

    d2 = layer(2, derivs, {}).get(ev.case.g, RIGHT[ev.case.g])(z2, y_hat)
    dz2 = layer(2, {"a": act}, {"a": np.multiply})["a"](dy, d2)
    dh = layer(2, {"x": dx}, {"x": np.matmul})["x"](dz2, W2)
    d1 = layer(1, derivs, {}).get(ev.case.f, RIGHT[ev.case.f])(z1, h)
    dz1 = layer(1, {"a": act}, {"a": np.multiply})["a"](dh, d1)
    dW_2 = layer(2, {"w": dW}, {"w": lambda dz, i: dz.T @ i})["w"](dz2, h)
    dW_1 = layer(1, {"w": dW}, {"w": lambda dz, i: dz.T @ i})["w"](dz1, x)
    return {"dW2": dW_2, "db2": dz2.sum(axis=0), "dW1": dW_1, "db1": dz1.sum(axis=0)}


def mutant(rule_id):
    def evidence(ev):
        if ev.name not in GRADS or ev.case.kind == "loss":
            return None
        for rid, what, derivs, ops in MUTANTS:
            if rid != rule_id:
                continue
            for layers in ((1,), (2,), (1, 2)):
                try:
                    with np.errstate(all="ignore"):
                        p = backprop(ev, derivs, ops, layers)[ev.name]
                except ValueError:  # the planted bug's shapes do not fit this case
                    continue
                if close(ev.a, p) and _differs(ev, p):
                    where = {(1,): "in the hidden layer", (2,): "in the output layer", (1, 2): "in both layers"}
                    return f"{ev.name} matches a hand backprop with {what} {where[layers]}"
        return None
    return evidence


RULES = (
    Rule("non_finite", "NaN or inf where torch stays finite: look for 0/0, log(0) or exp overflow "
         "in the line that computes it.", non_finite),
    Rule("transposed_gradient", "a weight gradient is the transpose of the right one: dJdW = dJdz^T @ input has "
         "shape (out, in), like W.", transposed),
    Rule("bias_not_summed", "the bias gradient must be the SUM over the batch of dJdz (shape (out,)), not one row, "
         "not the mean.", bias_not_summed),
    Rule("gradients_accumulate", "gradients pile up across calls: clear_grad_and_cache must reset grads, and "
         "backward must not add onto stale ones.", accumulates),
    Rule("half_mse", "torch's MSELoss is mean((y_hat - y)^2) with no 1/2, so dJdy_hat = 2 (y_hat - y) / (N K).",
         half_mse),
    Rule("wrong_sign", "a sign is flipped: dJdy_hat for MSE is +2 (y_hat - y) / (N K), and every gradient follows "
         "from it.", wrong_sign),
    Rule("split_mean_reduction", "the mean is split between the loss and backward: the loss must return the "
         "mean-reduced J and dJdy_hat, and backward must use dJdy_hat as given.", split),
    Rule("not_mean_reduced", "torch's losses are means over all N K elements: divide J and dJdy_hat by N K "
         "(and nowhere else).", not_mean_reduced),
    Rule("relu_derivative_at_zero", "ReLU'(0) is 0 in torch: use (z > 0), not (z >= 0).",
         mutant("relu_derivative_at_zero")),
    Rule("derivative_at_wrong_point", "the activation's derivative is taken at the wrong point: sigmoid'(z) = "
         "s (1 - s) with s = sigmoid(z), the output, and z the pre-activation.", mutant("derivative_at_wrong_point")),
    Rule("matmul_for_elementwise", "a matrix product where an elementwise product belongs (or the reverse): "
         "dJdz = dJdh * f'(z) elementwise; dJdW = dJdz^T @ input and dJdh = dJdz @ W are matrix products.",
         mutant("matmul_for_elementwise")),
)
WORDS = {r.id: r.words for r in RULES}
WORDS.update({
    "missing_activation_branch": "one activation is not implemented everywhere: every f/g combination using it "
                                 "fails, all others pass.",
    "input_mutated": "an input was changed in place (x -= ..., y_hat -= y): compute into a new tensor instead.",
    "autograd_used": "the assignment forbids autograd: compute every gradient by hand, no .backward() or "
                     "torch.autograd.grad.",
})


# --- pattern rules over all checks -----------------------------------------------------------------
SHAPE_ERRORS = ("shapes cannot be multiplied", "must match the size of tensor", "could not be broadcast",
                "size mismatch", "not aligned", "mismatch in its core dimension")


def _relabel_split(checks):
    if any(c.diagnosis == "split_mean_reduction" for c in checks):
        for c in checks:
            if c.diagnosis == "not_mean_reduced" and c.section in ("loss", "backward", "edge"):
                c.diagnosis = "split_mean_reduction"
                c.evidence = (c.evidence.split(":")[0] + " here, while end to end every gradient agrees with "
                              "torch's: the factor is undone in the other half")


def _relabel_matmul_crashes(checks):
    if not any(c.diagnosis == "matmul_for_elementwise" for c in checks):
        return
    for c in checks:
        err = c.error or {}
        if c.passed is False and c.diagnosis is None and err.get("stage") == "backward" \
                and any(s in err.get("message", "") for s in SHAPE_ERRORS):
            c.diagnosis = "matmul_for_elementwise"
            c.evidence = "the same bug crashes here, where the sizes differ: " + err["message"]


def _missing_branch(checks):
    """Failures that are exactly the f/g combinations using one activation, unexplained otherwise."""
    grid = [c for c in checks if c.case is not None and c.case.kind in ("train", "backward")
            and c.section in ("end-to-end", "backward") and c.passed is not None]
    failing = {id(c) for c in grid if not c.passed}
    if not failing or len(failing) == len(grid):
        return
    for act in ("relu", "sigmoid", "identity"):
        for where, uses in (("f", lambda c: c.case.f == act), ("g", lambda c: c.case.g == act),
                            ("f or g", lambda c: act in (c.case.f, c.case.g))):
            users = {id(c) for c in grid if uses(c)}
            if users != failing:
                continue
            unexplained = [c for c in checks if not c.passed and c.passed is not None and c.case is not None
                           and act in (c.case.f, c.case.g) and c.diagnosis in (None, "non_finite")]
            if len(unexplained) < len(failing) // 2:
                return
            for c in unexplained:
                c.diagnosis = "missing_activation_branch"
                c.evidence = (f"all {len(failing)} f/g combinations with {where} = {act} fail and all "
                              f"{len(grid) - len(failing)} others pass")
            return


PATTERN_RULES = (_relabel_split, _relabel_matmul_crashes, _missing_branch)


def diagnose(checks, expected):
    """Fill in .diagnosis and .evidence of every failing case check; `expected` maps case id -> torch's answers."""
    for check in checks:
        if check.passed is not False or check.diagnosis or check.actual is None:
            continue
        ev = Evidence(check, expected[check.case.id])
        for rule in RULES:
            found = rule.evidence(ev)
            if found:
                check.diagnosis, check.evidence = rule.id, found
                break
    for rule in PATTERN_RULES:
        rule(checks)
    return checks


def summary(checks):
    """[(id, words, number of checks)] over the failing checks, the most frequent first."""
    order = [r.id for r in RULES] + ["missing_activation_branch", "input_mutated", "autograd_used"]
    counts = {}
    for c in checks:
        if c.passed is False and c.diagnosis and c.max_score > 0:
            counts[c.diagnosis] = counts.get(c.diagnosis, 0) + 1
    ranked = sorted(counts, key=lambda d: (-counts[d], order.index(d) if d in order else len(order)))
    return [(d, WORDS.get(d, ""), counts[d]) for d in ranked]
