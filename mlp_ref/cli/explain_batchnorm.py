"""`mlp-ref explain --norm batch`: batch norm's backward in the first hidden layer, factor by factor.

Per feature the N x N Jacobian of z_hat with respect to z as its three terms (direct, through the
mean, through the variance), gamma times their sum, the product with dL/dzn; then dz, dgamma and
dbeta four ways side by side (Jacobian product, compact form, reference, torch autograd).
"""
import numpy as np

from mlp_ref.explain.batchnorm import TERMS, WAYS, default_model, derive


def problem(args):
    """The derivation for the flags (batch 4 unless --batch is given: with 2 samples z_hat is +-1 whatever z)."""
    net, x, y = default_model(args.f, args.g, args.loss, args.reduction, n_in=args.n_in, n_hidden=args.n_hidden,
                              n_out=args.n_out, batch=args.batch, seed=args.seed,
                              negative_slope=args.negative_slope)
    return derive(net, x, y)


def _columns(name, ways):
    lines = [f"  {name} {tuple(np.shape(ways['torch']))}"]
    for way in WAYS:
        rows = [" ".join(f"{v + 0.0:>12.6g}" for v in row) for row in np.atleast_2d(ways[way])]
        lines.append(f"    {way:<10} [" + " ]\n               [".join(rows) + " ]")
    return "\n".join(lines)


def text(d, block):
    """The report; block(label, array) is explain's aligned matrix layout (passed in: explain imports this module)."""
    n, h = d.z.shape
    out = [f"explain --norm batch: z1 (N={n}, H={h}) -> zn1 = gamma1 (z1 - mu) / sqrt(var + eps) + beta1, "
           f"eps {d.eps:g}; dL/dzn1 from the model's backward",
           "", "forward (per feature: the batch mean, the biased variance, z_hat)",
           block("z1", d.z), block("mu", d.mean), block("var (biased)", d.var), block("z_hat", d.z_hat),
           block("gamma1", d.gamma), block("dL/dzn1 (dout)", d.dout),
           "", "per feature j, the N x N coupling: dz_hat/dz = s I - (s/N) 1 1^T - (s/N) z_hat z_hat^T, "
               "s = (var + eps)^(-1/2)"]
    for j, f in enumerate(d.features):
        out.append(f"feature {j}")
        out += [block(f"dz_hat/dz {term}", f[term]) for term in TERMS]
        out += [block("dz_hat/dz (sum)", f["dz_hat/dz"]), block("dzn/dz = gamma dz_hat/dz", f["dzn/dz"]),
                block("dL/dz = dout^T dzn/dz", f["dl/dz"])]
    out += ["", "the product, written out: dz = gamma s (dout - dbeta/N - z_hat dgamma/N), "
                "dgamma = sum_n dout z_hat, dbeta = sum_n dout", ""]
    out += [_columns(name, ways) for name, ways in d.gradients.items()]
    bad = [c for c in d.checks if not c.ok]
    out.append("")
    if bad:
        out += [f"FAIL {c.name}\n{c.describe('derivation', 'torch')}" for c in bad]
    out.append(f"explain: {len(d.checks) - len(bad)}/{len(d.checks)} checks agree with torch "
               f"(every Jacobian block, features unmixed, dz, dgamma, dbeta three ways) -> {'OK' if d.ok else 'FAIL'}")
    return "\n".join(out)


def to_json(d):
    def arr(a):
        return np.asarray(a).tolist()
    return {"ok": d.ok, "norm": "batch", "eps": d.eps,
            "forward": {"z1": arr(d.z), "mu": arr(d.mean), "var": arr(d.var), "z_hat": arr(d.z_hat),
                        "gamma1": arr(d.gamma), "dzn1": arr(d.dout)},
            "features": [{k: arr(v) for k, v in f.items()} for f in d.features],
            "gradients": {name: {way: arr(a) for way, a in ways.items()} for name, ways in d.gradients.items()},
            "checks": [c.to_dict() for c in d.checks]}
