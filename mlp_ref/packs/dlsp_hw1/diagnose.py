"""Name the shape of an error: the one table of diagnosis rules.

A rule looks at one failing check (the first quantity that disagrees, both arrays, torch's
intermediates for that step) and returns a sentence of evidence when the error has its shape, else
None; the first rule that speaks gives the check its (id, evidence). Pattern rules then look across
checks and return (check index, id, evidence) findings: a mean split between loss and backward, a
matrix product that crashes where the shapes differ, an activation branch that is missing, a BCE
clamp that shows only on confident predictions, a float32 failure its float64 probe explains. Every
finding is applied in one place, diagnose(), which returns new Checks. To teach the grader a new
bug: add a rule here (and a mutant in mutants.py if it needs one), and a submission with that bug to
tests/grader/zoo with its id in the manifest.
"""
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from mlp_ref.packs.dlsp_hw1.evidence import GRADS, Evidence, close, differs
from mlp_ref.packs.dlsp_hw1.mutants import mutant
from mlp_ref.packs.dlsp_hw1.patterns import PATTERN_RULES
from mlp_ref.tolerances import BCE_EPS


@dataclass(frozen=True)
class Rule:
    id: str
    words: str                    # what it means and what to fix, for a student
    evidence: Callable            # Evidence -> str | None


def scale_of(ev, factors):
    """The first factor c with actual = c * torch, else None."""
    for c in factors:
        if close(ev.a, c * ev.e) and differs(ev, c * ev.e):
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
    if close(ev.a, ev.e.T) and differs(ev, ev.e.T):
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
        if close(a, dz[row]) and differs(ev, dz[row]):
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


# dJdy_hat by loss, as torch defines it (mean over all N K elements), for the evidence that names the loss.
DJDY_HAT = {"mse": "+2 (y_hat - y) / (N K)", "bce": "(y_hat - y) / (y_hat (1 - y_hat)) / (N K)"}


def wrong_sign(ev):
    if ev.name != "y_hat" and scale_of(ev, (-1.0,)):
        formula = DJDY_HAT.get(ev.case.loss)
        # A backward-alone case has no loss: its dJdy_hat is given, so only the gradient's sign is in question.
        return f"{ev.name} is exactly -1 times torch's" + (
            f"; for {ev.case.loss.upper()}, dJdy_hat = {formula}" if formula and ev.case.kind != "backward" else "")
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


def sizes_told_apart(case):
    """Whether a factor of N, K or N K can be told apart in this case (N > 1, K > 1, N != K)."""
    return case is not None and case.n > 1 and case.k > 1 and case.n != case.k


def reading(c, n, k):
    """What a factor c = actual / torch says about the reduction, in words; every reading that fits
    when the sizes cannot tell them apart (N = 1: N K is K)."""
    nk = n * k
    readings = ((nk, f"not divided at all (a sum), where torch's mean divides by N K = {nk}"),
                (n, f"off by N = {n}: divided by K only, not N K = {nk}"),
                (k, f"off by K = {k}: divided by N only, not N K = {nk}"),
                (1 / nk, f"divided by N K = {nk} once too often"),
                (1 / n, f"divided by N = {n} once too often"),
                (1 / k, f"divided by K = {k} once too often"))
    fits = [words for factor, words in readings if abs(factor - c) <= 1e-12 * max(factor, c)]
    if len(fits) == 1:
        return fits[0]
    return " or ".join(fits) + f" (with N = {n} and K = {k} these cannot be told apart; a case with N, K > 1 can)"


def not_mean_reduced(ev):
    if ev.name not in ("J", "dJdy_hat", *GRADS):
        return None
    c = scale_of(ev, reductions(ev.case))
    if c:
        return (f"{ev.name} is {_fraction(c)} times torch's (N = {ev.case.n}, K = {ev.case.k}): "
                + reading(c, ev.case.n, ev.case.k))
    return None


EDGE = 1e-2  # "near 0 or 1" for the clamp diagnosis: every confident case lies well inside it


def bce_clamped(ev):
    """The BCE error lives where y_hat is near 0 or 1: only there, or growing as 1 / (y_hat (1 - y_hat))."""
    if ev.case.loss != "bce" or ev.name not in ("J", "dJdy_hat"):
        return None
    a = ev.mine("dJdy_hat", ev.step)
    e = ev.torch("dJdy_hat")
    y_hat = ev.input("y_hat") if ev.case.kind == "loss" else ev.torch("y_hat")
    if a is None or a.shape != e.shape or not np.all(np.isfinite(a)) or not np.all(e):
        return None
    rel = np.abs(a - e) / np.abs(e)
    edge = np.minimum(y_hat, 1 - y_hat) < EDGE
    bad = rel > 1e-2
    if bad.any() and edge[bad].all() and (~edge).any():
        i = tuple(int(j) for j in np.argwhere(bad & (rel == rel[bad].max()))[0])
        return (f"dJdy_hat differs from torch's only where y_hat is within {EDGE:g} of 0 or 1 ({int(bad.sum())} of "
                f"{bad.size} elements; at {i} y_hat = {y_hat[i]:.6g}: submission {a[i]:.6g}, torch {e[i]:.6g})")
    moved = rel > 1e-5
    eps = rel * y_hat * (1 - y_hat)
    if moved.sum() >= max(2, moved.size // 2) and eps[moved].max() <= 4 * eps[moved].min():
        size = f"{float(np.median(eps[moved])):.1g}"
        # An eps the policy allows (as the evidence would state it) is not this diagnosis.
        if float(size) <= BCE_EPS:
            return None
        return (f"dJdy_hat's relative error grows as 1 / (y_hat (1 - y_hat)), as an eps of about "
                f"{size} added near 0/1 gives")
    return None


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
    Rule("wrong_sign", "a sign is flipped: dJdy_hat is +dJ/dy_hat (the formula for this case's loss is in the "
         "evidence), and every gradient follows from it.", wrong_sign),
    Rule("split_mean_reduction", "the mean is split between the loss and backward: the loss must return the "
         "mean-reduced J and dJdy_hat, and backward must use dJdy_hat as given.", split),
    Rule("not_mean_reduced", "torch's losses are means over all N K elements: divide J and dJdy_hat by N K "
         "(and nowhere else).", not_mean_reduced),
    Rule("bce_clamped", "y_hat is clamped near 0/1 (or a large eps added); torch clamps the log at -100 instead "
         "and divides by max(y_hat (1 - y_hat), 1e-12): keep any eps <= 1e-7.", bce_clamped),
    Rule("relu_derivative_at_zero", "ReLU'(0) is 0 in torch: use (z > 0), not (z >= 0).",
         mutant("relu_derivative_at_zero")),
    Rule("derivative_at_wrong_point", "the activation's derivative is taken at the wrong point: sigmoid'(z) = "
         "s (1 - s) with s = sigmoid(z), the output, and z the pre-activation.", mutant("derivative_at_wrong_point")),
    Rule("matmul_for_elementwise", "a matrix product where an elementwise product belongs (or the reverse): "
         "dJdz = dJdh * f'(z) elementwise; dJdW = dJdz^T @ input and dJdh = dJdz @ W are matrix products.",
         mutant("matmul_for_elementwise")),
    Rule("activation_derivative_skipped", "an activation's derivative is left out of the backward chain: dz2 = "
         "dJdy_hat * g'(z2) and dh = dz2 @ W2 (not dJdy_hat @ W2), dz1 = dh * f'(z1); only g or f = identity, "
         "whose derivative is 1, hides it.", mutant("activation_derivative_skipped")),
)
WORDS = {r.id: r.words for r in RULES}
WORDS.update({
    "missing_activation_branch": "one activation is not implemented everywhere: every f/g combination using it "
                                 "fails, all others pass.",
    "input_mutated": "an input was changed in place (x -= ..., y_hat -= y): compute into a new tensor instead.",
    "autograd_used": "the assignment forbids autograd: compute every gradient by hand, no .backward() or "
                     "torch.autograd.grad.",
})


def per_check(check, expected):
    """(id, evidence) of the first rule that explains one failing check, else None."""
    if check.passed is not False or check.diagnosis or check.failure is None:
        return None
    ev = Evidence(check, expected[check.case.id])
    for rule in RULES:
        found = rule.evidence(ev)
        if found:
            return rule.id, found
    return None


def _apply(checks, findings):
    """The one place a diagnosis is written: [(index, id, evidence)] -> new Checks."""
    checks = list(checks)
    for i, rid, evidence in findings:
        checks[i] = replace(checks[i], diagnosis=rid, evidence=evidence)
    return checks


def diagnose(checks, expected):
    """New Checks with .diagnosis and .evidence filled in; `expected` maps case id -> torch's answers."""
    found = ((i, per_check(c, expected)) for i, c in enumerate(checks))
    checks = _apply(checks, [(i, *f) for i, f in found if f])
    for rule in PATTERN_RULES:
        checks = _apply(checks, rule(checks))
    return checks


REDUCTION = ("not_mean_reduced", "split_mean_reduction")  # diagnoses whose evidence needs N, K, N K apart


def _blurred(c, checks):
    """A failing reduction check whose sizes cannot tell N from N K, when a later one with the same diagnosis can."""
    return (c.passed is False and c.diagnosis in REDUCTION and not sizes_told_apart(c.case)
            and any(o.passed is False and o.diagnosis == c.diagnosis and sizes_told_apart(o.case) for o in checks))


def telling_order(checks):
    """The checks in the order a report tells them: a reduction failure whose case cannot tell N from N K
    (N = 1) moves to just after the first one with the same diagnosis that can, which is then told in full."""
    out = [c for c in checks if not _blurred(c, checks)]
    for c in (c for c in checks if _blurred(c, checks)):
        told = next(i for i, o in enumerate(out) if o.passed is False and o.diagnosis == c.diagnosis
                    and sizes_told_apart(o.case))
        # After any blurred ones already moved there, so they keep their own order.
        while told + 1 < len(out) and out[told + 1].diagnosis == c.diagnosis \
                and not sizes_told_apart(out[told + 1].case):
            told += 1
        out.insert(told + 1, c)
    return out


def summary(checks):
    """[(id, words, number of checks)] over the failing checks, the most frequent first."""
    order = [r.id for r in RULES] + ["missing_activation_branch", "input_mutated", "autograd_used"]
    counts = {}
    for c in checks:
        if c.passed is False and c.diagnosis and c.max_score > 0:
            counts[c.diagnosis] = counts.get(c.diagnosis, 0) + 1
    ranked = sorted(counts, key=lambda d: (-counts[d], order.index(d) if d in order else len(order)))
    return [(d, WORDS.get(d, ""), counts[d]) for d in ranked]
