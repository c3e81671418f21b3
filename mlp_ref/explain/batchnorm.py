"""Batch norm's backward, factor by factor, for the first hidden layer of a small MLP with norm="batch".

Per feature j (features never mix: the full Jacobian is block diagonal across them), the N samples
are coupled through the batch mean and variance. With s = (var + eps)^(-1/2), z_hat = (z - mu) s and
zn = gamma z_hat + beta, the N x N Jacobian of z_hat with respect to z is three terms:

    dz_hat/dz = s I                  direct: each sample's own z
              - (s / N) 1 1^T        through the mean mu = sum_n z_n / N
              - (s / N) z_hat z_hat^T   through the variance: dvar/dz_m = 2 (z_m - mu) / N

and dL/dz = dL/dzn gamma (dz_hat/dz), a row vector per feature (the Jacobian is symmetric). Written
out, that product is the compact form the reference computes without any N x N matrix:

    dz = gamma s (dout - sum_n dout / N - z_hat sum_n (dout z_hat) / N) = gamma s (dout - dbeta / N - z_hat dgamma / N)

Four ways, each checked against torch: the Jacobian product, the compact form, the reference MLP's
own backward, and torch autograd (its Jacobian block, its dz, dgamma, dbeta).
"""
from dataclasses import dataclass, field

import numpy as np

from mlp_ref import validate
from mlp_ref.compare import compare
from mlp_ref.model import MLP
from mlp_ref.tolerances import TOLERANCES

TOL = TOLERANCES["float64"]
TERMS = ("direct", "via mean", "via variance")
WAYS = ("jacobian", "compact", "reference", "torch")


@dataclass
class BatchNormDerivation:
    """z (N, H) the first layer's pre-norm values; dout = dL/dzn1 (N, H) from the reference's backward;
    features: per feature j, the three N x N terms, their sum, gamma times it and the product;
    gradients: dz, dgamma, dbeta -> {way: array}; checks: Comparisons against torch (expected)."""
    z: np.ndarray
    gamma: np.ndarray
    eps: float
    dout: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    z_hat: np.ndarray
    features: list
    gradients: dict
    checks: list = field(default_factory=list)

    @property
    def ok(self):
        return all(c.ok for c in self.checks)


def default_model(f="relu", g=None, loss="mse", reduction=None, *, n_in=2, n_hidden=3, n_out=2, batch=4, seed=0,
                  negative_slope=0.01, norm_eps=1e-5):
    """A small MLP with batch norm in its hidden layer, a batch and targets, all from one seed."""
    reduction = reduction or ("mean" if loss == "ce" else "sum")
    net = MLP(n_in, n_hidden, n_out, f=f, g=g, loss=loss, reduction=reduction, seed=seed,
              negative_slope=negative_slope, norm="batch", norm_eps=norm_eps)
    n = validate.positive_int("batch", batch)
    if n < 2:
        raise ValueError(f"batch: batch norm in training needs more than 1 sample, got {n}")
    rng = np.random.default_rng(seed + 1)
    x = rng.standard_normal((n, n_in))
    y = {"ce": lambda: rng.integers(0, n_out, n),
         "bce": lambda: rng.uniform(0.05, 0.95, (n, n_out))}.get(loss, lambda: rng.standard_normal((n, n_out)))()
    return net, x, y


def jacobian_terms(z_hat_j, s_j):
    """The three N x N terms of dz_hat/dz for one feature (see the module docstring)."""
    n = z_hat_j.shape[0]
    return {"direct": s_j * np.eye(n), "via mean": -(s_j / n) * np.ones((n, n)),
            "via variance": -(s_j / n) * np.outer(z_hat_j, z_hat_j)}


def compact(dout, z_hat, gamma, inv_std):
    """gamma s (dout - dbeta / N - z_hat dgamma / N), dgamma, dbeta: the reference's form, written out here."""
    n = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * z_hat).sum(axis=0)
    return gamma * inv_std * (dout - dbeta / n - z_hat * dgamma / n), dgamma, dbeta


def torch_side(z, gamma, eps, dout):
    """torch autograd on F.batch_norm in training: the per-feature Jacobian blocks, dz, dgamma, dbeta."""
    import torch
    from torch.nn import functional as F

    def bn(zt, gt):
        return F.batch_norm(zt, None, None, gt, torch.zeros_like(gt), training=True, eps=eps)

    zt = torch.tensor(z, requires_grad=True)
    gt = torch.tensor(gamma, requires_grad=True)
    bn(zt, gt).backward(torch.tensor(dout))
    full = torch.autograd.functional.jacobian(lambda a: bn(a, torch.tensor(gamma)), torch.tensor(z)).numpy()
    blocks = [full[:, j, :, j] for j in range(z.shape[1])]  # d zn[:, j] / d z[:, j]
    off = max((float(np.abs(full[:, j, :, k]).max()) for j in range(z.shape[1]) for k in range(z.shape[1]) if j != k),
              default=0.0)
    return blocks, off, zt.grad.numpy(), gt.grad.numpy(), dout.sum(axis=0)


def derive(net, x, y):
    """Batch norm's backward in the first hidden layer of net (norm="batch"), four ways, checked."""
    if getattr(net, "norm", None) != "batch":
        raise ValueError(f"net: expected an MLP with norm='batch', got norm={getattr(net, 'norm', None)!r}")
    net.train()
    with np.errstate(over="ignore", invalid="ignore"):
        net.loss(net.forward(x), y)
        net.zero_grad()
        inter = net.backward()
    c = net.cache
    z, gamma, eps = c.z1, net.params["gamma1"].copy(), net.norm_eps
    dout = inter["dzn1"]
    mean, var = z.mean(axis=0), z.var(axis=0)
    s = 1 / np.sqrt(var + eps)
    z_hat = (z - mean) * s

    features = []
    dz_jacobian = np.empty_like(z)
    for j in range(z.shape[1]):
        terms = jacobian_terms(z_hat[:, j], s[j])
        total = sum(terms.values())
        f = {**terms, "dz_hat/dz": total, "dzn/dz": gamma[j] * total}
        f["dl/dz"] = dout[:, j] @ f["dzn/dz"]
        dz_jacobian[:, j] = f["dl/dz"]
        features.append(f)

    dz_compact, dgamma, dbeta = compact(dout, z_hat, gamma, s)
    blocks, off_diagonal, t_dz, t_dgamma, t_dbeta = torch_side(z, gamma, eps, dout)
    gradients = {
        "dz": {"jacobian": dz_jacobian, "compact": dz_compact, "reference": inter["dz1"], "torch": t_dz},
        "dgamma": {"jacobian": (dout * z_hat).sum(axis=0), "compact": dgamma,
                   "reference": net.grads["gamma1"].copy(), "torch": t_dgamma},
        "dbeta": {"jacobian": dout.sum(axis=0), "compact": dbeta, "reference": net.grads["beta1"].copy(),
                  "torch": t_dbeta},
    }
    d = BatchNormDerivation(z, gamma, eps, dout, mean, var, z_hat, features, gradients)
    d.checks += [compare(f"dzn/dz [feature {j}]", f["dzn/dz"], blocks[j], TOL) for j, f in enumerate(features)]
    d.checks.append(compare("features do not mix: the largest off-block entry", np.float64(0.0),
                            np.float64(off_diagonal), TOL))
    for name, ways in gradients.items():
        d.checks += [compare(f"{name} {way}", ways[way], ways["torch"], TOL) for way in WAYS[:3]]
    return d
