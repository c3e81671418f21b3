"""Mutants for the diagnoses: torch's forward values, backpropagated by hand with one planted bug.

A failing gradient that equals a mutant's is that bug. Each mutant is (diagnosis id, what it plants,
derivative replacements, product replacements); the bug is tried in the hidden layer, the output
layer and both.
"""
import numpy as np

from mlp_ref.packs.dlsp_hw1.evidence import GRADS, close, differs


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _one(z, out):
    return np.ones_like(z)


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
    # The chain form first: where dW2 agrees and dW1 does not, it is the one that fits.
    ("activation_derivative_skipped",
     "g' left out of what the output layer hands back: dh = dJdy_hat @ W2, not dz2 @ W2",
     {}, {"chain": lambda dout, dz: dout}),
    ("activation_derivative_skipped", "the activation's derivative left out: dz = dout",
     {"relu": _one, "sigmoid": _one}, {}),
)


def _dW(dz, inp):
    return dz.T @ inp


def backprop(ev, derivs, ops, layers):
    """dW1, db1, dW2, db2 by hand from torch's forward values, with one planted bug in `layers`
    (1: hidden, 2: output). derivs {activation: f'(z, out)} replaces a derivative; ops replaces a
    product: "act" for dout x f'(z), "dW" for (dz, input) -> dW, "dx" for (dz, W) -> dinput, "chain" for
    (dout, dz) -> what the output layer hands to dh (dz2, right)."""
    x = ev.input("x")
    dy = ev.input("dJdy_hat") if ev.case.kind == "backward" else ev.torch("dJdy_hat")
    z1, h, z2, y_hat, W2 = (ev.torch(k) for k in ("z1", "h", "z2", "y_hat", "W2"))

    def derivative(layer, name, z, out):
        if layer in layers and name in derivs:
            return derivs[name](z, out)
        return RIGHT[name](z, out)

    def product(layer, which, right):
        if layer in layers and which in ops:
            return ops[which]
        return right

    dz2 = product(2, "act", np.multiply)(dy, derivative(2, ev.case.g, z2, y_hat))
    dh = product(2, "dx", np.matmul)(product(2, "chain", lambda dout, dz: dz)(dy, dz2), W2)
    dz1 = product(1, "act", np.multiply)(dh, derivative(1, ev.case.f, z1, h))
    dW2 = product(2, "dW", _dW)(dz2, h)
    dW1 = product(1, "dW", _dW)(dz1, x)
    return {"dW2": dW2, "db2": dz2.sum(axis=0), "dW1": dW1, "db1": dz1.sum(axis=0)}


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
                if close(ev.a, p) and differs(ev, p):
                    where = {(1,): "in the hidden layer", (2,): "in the output layer", (1, 2): "in both layers"}
                    return f"{ev.name} matches a hand backprop with {what} {where[layers]}"
        return None
    return evidence
