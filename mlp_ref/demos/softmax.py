"""Softmax overflow: the naive exp-then-normalise against the stable shift-by-the-max.

Logits t * (1, 0.2, -0.5, -1) for growing t, and a row of large negative logits. exp overflows
float64 above ln(DBL_MAX) = 709.78 and rounds to 0 below ln(2^-1075) = -745.13 (half the smallest subnormal).
"""
import numpy as np
import torch

from mlp_ref import functional as fn
from mlp_ref.compare import compare
from mlp_ref.tolerances import tolerance

EXP_MAX = float(np.log(np.finfo(np.float64).max))  # 709.78...
EXP_MIN = -1075 * float(np.log(2))  # -745.13: exp of anything below rounds to 0
PATTERN = np.array([1.0, 0.2, -0.5, -1.0])
SCALES = (1.0, 10.0, 100.0, 500.0, 700.0, 709.0, 710.0, 750.0, 1000.0)
SHIFTS = (-700.0, -800.0)  # every logit very negative: naive exp underflows to 0/0
CLAIM = ("the naive softmax (exp, then normalise) is non-finite exactly when exp overflows (max logit > "
         f"{EXP_MAX:.2f}) or every exp underflows; the stable one (subtract the max) stays finite and "
         "matches torch.softmax")


def naive_softmax(z):
    """exp(z) / sum exp(z) along axis 1, with no shift: the textbook formula, computed literally."""
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)


def logits():
    rows = [(f"{t:g} * u", t * PATTERN) for t in SCALES]
    rows += [(f"{s:g} + u", s + PATTERN) for s in SHIFTS]
    return rows


def measure(seed=0, naive=naive_softmax, stable=fn.softmax):
    tol = tolerance("float64")
    out = []
    for label, z in logits():
        z = z[None, :]
        expected = torch.softmax(torch.tensor(z), dim=1).numpy()
        c = compare("softmax", stable(z), expected, tol)
        naive_out = naive(z)
        out.append({"logits": label, "max_z": float(z.max()), "naive_finite": bool(np.isfinite(naive_out).all()),
                    "naive_first": float(naive_out[0, 0]),
                    "stable_finite": bool(np.isfinite(stable(z)).all()), "stable_vs_torch": c.max_abs,
                    "stable_ok": c.ok})
    return {"rows": out}


def check(numbers):
    rows = numbers["rows"]
    expected_naive = [EXP_MIN < r["max_z"] <= EXP_MAX for r in rows]
    naive_right = all(r["naive_finite"] == e for r, e in zip(rows, expected_naive))
    stable_right = all(r["stable_finite"] and r["stable_ok"] for r in rows)
    first_bad = min((r["max_z"] for r in rows if r["max_z"] > 0 and not r["naive_finite"]), default=None)
    where = "never" if first_bad is None else f"at max logit {first_bad:g}"
    because = (f"naive first non-finite {where}; stable max |diff vs torch| = "
               f"{max(r['stable_vs_torch'] for r in rows):.2g}")
    return naive_right and stable_right, because


def table(numbers):
    header = ("logits", "max z", "naive y_hat[0]", "naive finite", "stable finite", "max |stable - torch|")
    return header, [(r["logits"], r["max_z"], r["naive_first"], r["naive_finite"], r["stable_finite"],
                     r["stable_vs_torch"]) for r in numbers["rows"]]


def plot(numbers, ax):
    rows = [r for r in numbers["rows"] if r["max_z"] > 0]
    x = [r["max_z"] for r in rows]
    ax.semilogx(x, [1.0 if r["naive_finite"] else 0.0 for r in rows], "o-", label="naive finite")
    ax.semilogx(x, [1.0 if r["stable_finite"] else 0.0 for r in rows], "s--", label="stable finite")
    ax.axvline(EXP_MAX, color="grey", linestyle=":", label="ln(DBL_MAX)")
    ax.set(xlabel="max logit", ylabel="finite (1) / not (0)", title="softmax overflow")
    ax.legend()
