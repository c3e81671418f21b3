"""`mlp-ref explain`: print the derivation of one small MLP's gradients, factor by factor.

Text (aligned matrices labelled with their shapes) or --json. Exit 0 when the Jacobian product,
the reference and torch autograd agree (and every Jacobian matches torch's) and the student's own
numbers, if the input has `mine`, agree with the derivation; 1 when not; 2 on bad input.
"""
import json

import numpy as np

from mlp_ref import functional, losses
from mlp_ref import memory
from mlp_ref.cli import combos, files
from mlp_ref.cli import flag_types as ft
from mlp_ref.cli.output import dumps, refuse
from mlp_ref.explain import hints
from mlp_ref.explain.derivation import FACTORS, GRADIENTS, NAMING, default_problem, derive
from mlp_ref.explain.input import chain as input_chain
from mlp_ref.explain.input import problem_from_dict, problem_to_dict, read_mine, stub

WAYS = (("jacobian", "Jacobian product"), ("reference", "reference MLP"), ("torch", "torch autograd"))
# explain prints every matrix: a problem worth printing is far smaller than this.
MAX_INPUT_BYTES = 16 * 2 ** 20
LABEL = 30  # width of the label column, so every matrix starts in the same column


def add_arguments(p):
    p.add_argument("--input", metavar="FILE.json",
                   help="x, y, W1, b1, W2, b2, f, g, loss (optionally reduction, negative_slope, and 'mine': "
                        "your own values by name, to find where your derivation departs) as JSON; "
                        "default: a small model with a fixed seed")
    p.add_argument("--write-input", metavar="FILE.json", help="write the problem as an editable JSON file and exit")
    p.add_argument("--f", choices=functional.HIDDEN_ACTIVATIONS, default="relu", help="hidden activation (default %(default)s)")
    p.add_argument("--g", choices=functional.OUTPUT_ACTIVATIONS,
                   help="output activation (default: softmax for ce, sigmoid for bce, else identity)")
    p.add_argument("--loss", choices=losses.LOSSES, default="mse", help="loss (default %(default)s)")
    p.add_argument("--reduction", choices=losses.REDUCTIONS, help="default: sum, mean for ce")
    p.add_argument("--n-in", type=ft.count(), default=2, help="input width D (default %(default)s)")
    p.add_argument("--n-hidden", type=ft.count(), default=3, help="hidden width m (default %(default)s)")
    p.add_argument("--n-out", type=ft.count(), default=2, help="output width K (default %(default)s)")
    p.add_argument("--batch", type=ft.count(), default=2, help="samples N (default %(default)s)")
    p.add_argument("--seed", type=ft.seed(), default=0, help="parameter and data seed (default %(default)s)")
    p.add_argument("--negative-slope", type=ft.real(), default=0.01, help="leaky_relu slope (default %(default)s)")
    p.add_argument("--norm", choices=("batch",), help="batch norm's backward in the hidden layer, factor by factor "
                   "(the N x N coupling through the mean and variance, then the compact form); batch 4 by default")
    p.add_argument("--json", action="store_true", help="print the derivation as JSON with a top-level boolean 'ok'")
    p.add_argument("--html", metavar="FILE.html", help="also write the derivation as one self-contained page "
                   "(diagram, MathML equations, heat-mapped matrices; your departures marked)")
    p.add_argument("--max-memory", type=ft.parse_bytes, metavar="SIZE",
                   help="refuse a problem estimated to need more (e.g. 4G; default: half the available memory)")


def _rows(a):
    """A vector or matrix as aligned text rows."""
    a = np.atleast_2d(np.asarray(a, dtype=np.float64))
    return ["[" + " ".join(f"{v + 0.0:>12.6g}" for v in row) + " ]" for row in a]  # + 0.0: no "-0"


def _shape(a):
    return str(tuple(np.shape(a)))


def block(label, a):
    """label and shape in a fixed-width column, then the matrix, later rows under the first."""
    if np.ndim(a) == 0:
        return f"  {label:<{LABEL}} {'()':<8} {float(a):.10g}"
    rows = _rows(a)
    head = f"  {label:<{LABEL}} {_shape(a):<8} "
    return "\n".join([head + rows[0]] + [" " * len(head) + r for r in rows[1:]])


def side_by_side(name, ways):
    """One gradient three ways, in three columns."""
    cols = [[title] + _rows(ways[key]) for key, title in WAYS]
    widths = [max(len(s) for s in col) for col in cols]
    lines = [f"  {name} {_shape(ways['torch'])}"]
    for i in range(len(cols[0])):
        lines.append(("    " + "   ".join(f"{col[i]:<{w}}" for col, w in zip(cols, widths))).rstrip())
    return "\n".join(lines)


def text(d, mine=None):
    p, fw = d.problem, d.forward
    (n, dim), (m, k) = p.x.shape, (p.W1.shape[0], p.W2.shape[0])
    y_label = "y (class indices)" if p.loss == "ce" else "y"
    out = [f"explain: x (N={n}, D={dim}) -> z1 (N, m={m}) -> z2 = {p.f}(z1) -> z3 (N, K={k}) -> y_hat = {p.g}(z3); "
           f"loss {p.loss} ({p.reduction})",
           "naming: this derivation's " + ", ".join(f"{a} = reference {b}" for a, b in NAMING.items())
           + "  (reference: z1, h = f(z1), z2, y_hat = g(z2))",
           "", "inputs and parameters"]
    out += [block(label, a) for label, a in
            (("x", p.x), (y_label, p.y), ("W1", p.W1), ("b1", p.b1), ("W2", p.W2), ("b2", p.b2))]
    out += ["", "forward pass",
            block("z1 = x W1^T + b1", fw["z1"]), block(f"z2 = {p.f}(z1)", fw["z2"]),
            block("z3 = z2 W2^T + b2", fw["z3"]), block(f"y_hat = {p.g}(z3)", fw["y_hat"]),
            block(f"l = {p.loss}(y_hat, y) [{p.reduction}]", fw["loss"])]
    if p.loss == "ce":
        out += ["", "note: for softmax + ce the product dl/dy_hat dy_hat/dz3 collapses to (y_hat - onehot(y))"
                + (" / N" if p.reduction == "mean" else "") + "; the reference computes that fused form directly"]
    for i, s in enumerate(d.samples):
        out += ["", f"chain factors, sample n={i}",
                block("dl/dy_hat (1 x K)", s["dl/dy_hat"]), block("dy_hat/dz3 (K x K)", s["dy_hat/dz3"]),
                block("dz3/dz2 = W2 (K x m)", s["dz3/dz2"]), block("dz2/dz1 (m x m, diagonal)", s["dz2/dz1"]),
                "  products",
                block("dl/dz3 = dl/dy_hat dy_hat/dz3", s["dl/dz3"]), block("  db2 term = dl/dz3", s["dl/dz3"]),
                block("  dW2 term = (dl/dz3)^T z2", s["dW2_n"]),
                block("dl/dz2 = dl/dz3 W2", s["dl/dz2"]), block("dl/dz1 = dl/dz2 dz2/dz1", s["dl/dz1"]),
                block("  db1 term = dl/dz1", s["dl/dz1"]), block("  dW1 term = (dl/dz1)^T x", s["dW1_n"])]
    out += ["", "each Jacobian vs torch.autograd.functional.jacobian",
            f"  {'factor':<20} {'shape':<8} {'max |diff|':>10}  verdict"]
    by_name = {c.name: c for c in d.checks}
    for i in range(len(d.samples)):
        for factor in FACTORS:
            c = by_name[f"{factor} [n={i}]"]
            out.append(f"  {factor + f' [n={i}]':<20} {_shape(np.empty(c.shape)):<8} {c.max_abs:>10.2e}  {_verdict(c)}")
    out += ["", "gradients three ways, summed over the batch (expected: torch autograd)"]
    for name in GRADIENTS:
        jac, ref = by_name[f"{name} jacobian"], by_name[f"{name} reference"]
        out += [side_by_side(name, d.gradients[name]),
                f"    max |Jacobian product - torch| = {jac.max_abs:.2e} {_verdict(jac)};  "
                f"max |reference - torch| = {ref.max_abs:.2e} {_verdict(ref)}"]
    tol = d.checks[0]
    out += ["", f"explain: tolerance atol {tol.atol:g} + rtol {tol.rtol:g}*|torch|; "
            + ("all three ways agree, every Jacobian matches torch -> OK" if d.ok else
               "FAIL: " + ", ".join(c.name for c in d.failures()) + " disagree")]
    for c in d.failures()[:3]:
        out.append(f"  {c.name}:\n  " + c.describe("explain", "torch"))
    if mine is not None:
        out += mine_text(mine)
    return "\n".join(out)


def mine_text(report):
    """The student's values against the derivation, in chain order, the first departure and its hint."""
    mine, found = report
    if not mine:
        return ["", "your numbers ('mine'): none filled in yet (each is null or absent); put your numbers in "
                "place of null and run again"]
    out = ["", f"your numbers ('mine') vs the derivation, in chain order (allowed {mine[0].atol:g} + {mine[0].rtol:g}*|derivation|)",
           f"  {'quantity':<20} {'shape':<8} {'max |diff|':>10}  verdict"]
    for c in mine:
        diff = "-" if c.problem else f"{c.max_abs:.2e}"
        out.append(f"  {c.name:<20} {str(c.shape):<8} {diff:>10}  {'ok' if c.ok else 'DEPARTS'}")
    first = next((c for c in mine if not c.ok), None)
    if first is None:
        out.append(f"your numbers: all {len(mine)} agree with the derivation")
    else:
        out += [f"your numbers: first departure at {first.name}; everything you gave before it agrees",
                first.describe("yours", "derivation")]
        out += ["  " + h.text() for h in found.get(first.name, [])]
    return out


def _verdict(c):
    return "ok" if c.ok else "FAIL"


def to_json(d, mine=None):
    """The derivation as plain lists and numbers; keys use the derivation's names."""
    def arr(a):
        return np.asarray(a).tolist()
    return {"ok": d.ok,
            "naming": {"derivation_to_reference": NAMING,
                       "note": "derivation z2 is the reference's hidden activation h; z3 is the reference's z2"},
            "input": problem_to_dict(d.problem),
            "forward": {k: arr(v) for k, v in d.forward.items()},
            "samples": [{k: arr(v) for k, v in s.items()} for s in d.samples],
            "gradients": {name: {way: arr(a) for way, a in ways.items()} for name, ways in d.gradients.items()},
            "checks": [c.to_dict() for c in d.checks],
            "mine": None if mine is None else {
                "ok": all(c.ok for c in mine[0]),
                "first_departure": next((c.name for c in mine[0] if not c.ok), None),
                "comparisons": [c.to_dict() for c in mine[0]],
                "hints": {name: [h._asdict() for h in found] for name, found in mine[1].items()}}}


def load(args):
    if args.input is not None:
        data = read_json(args.input, "--input")
        problem = problem_from_dict(data)
        (n, d), (m, k) = problem.x.shape, (problem.W1.shape[0], problem.W2.shape[0])
        memory.check(f"--input {args.input!r} (N={n}, D={d}, m={m}, K={k})", memory.explain_bytes(d, m, k, n),
                     args.max_memory, combos.LIMIT_HOW)
        if "mine" in data and data["mine"] is None:
            raise ValueError("mine: expected an object of your values keyed by quantity name, got null")
        return problem, data.get("mine")
    return default_problem(args.f, args.g, args.loss, args.reduction, n_in=args.n_in, n_hidden=args.n_hidden,
                           n_out=args.n_out, batch=args.batch, seed=args.seed,
                           negative_slope=args.negative_slope), None


def run(args):
    if args.norm is not None:
        from mlp_ref.cli import explain_batchnorm as bn
        try:
            d = bn.problem(args)
        except (TypeError, ValueError) as e:
            return refuse("explain", e)
        print(dumps(bn.to_json(d)) if args.json else bn.text(d, block))
        return 0 if d.ok else 1
    try:
        problem, mine = load(args)
        if args.write_input is not None:
            return write_input(problem, args.write_input)
        d = derive(problem)
        given, mine = mine, None if mine is None else hints.check(d, mine)
    except (TypeError, ValueError) as e:
        return refuse("explain", e)
    print(dumps(to_json(d, mine)) if args.json else text(d, mine))
    if args.html is not None:
        failed = write_html(args.html, d, given, mine)
        if failed:
            return refuse("explain", failed)
    return 0 if d.ok and (mine is None or all(c.ok for c in mine[0])) else 1



def read_json(path, flag):
    """Parsed strict JSON (no NaN or Infinity tokens) from a UTF-8 file; ValueError naming the file."""
    def no_constant(token):
        raise ValueError(f"{flag}: {path!r} holds {token}, which JSON does not allow; expected finite numbers")
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_INPUT_BYTES + 1)
    except OSError as e:
        raise ValueError(f"{flag}: cannot read {path!r}: {e.strerror}") from None
    if len(raw) > MAX_INPUT_BYTES:
        raise ValueError(f"{flag}: expected a small JSON file (at most {MAX_INPUT_BYTES >> 20} MiB), got {path!r}, "
                         "which is larger")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ValueError(f"{flag}: expected a UTF-8 JSON file, got {path!r}, with byte {raw[e.start]:#04x} "
                         f"at offset {e.start}") from None
    try:
        return json.loads(text, parse_constant=no_constant)
    except json.JSONDecodeError as e:
        raise ValueError(f"{flag}: {path!r} is not valid JSON: {e}") from None
    except RecursionError:
        raise ValueError(f"{flag}: {path!r} nests too deeply for a problem of matrices") from None


def write_html(path, d, given, mine):
    """None, or the one line saying why the page could not be written (the report reached stdout)."""
    from mlp_ref.pages import explain as page  # only here: the text and JSON paths need no Jinja2

    values = chain = None
    if mine is not None:
        values, chain = read_mine(d, given)[1], input_chain(d)
    try:
        files.write_atomic(path, page.page(d, mine, values, chain))
    except OSError as e:
        return f"--html: could not write {path!r}: {e.strerror or e}"
    return None


def write_input(problem, path):
    try:
        files.write_atomic(path, json.dumps({**problem_to_dict(problem), "mine": stub(problem)}, indent=1))
    except OSError as e:
        raise ValueError(f"--write-input: cannot write {path!r}: {e.strerror}") from None
    print(f"mlp-ref explain: wrote {path}; edit it (put your own values in place of the nulls under \"mine\" to check them), "
          f"then run mlp-ref explain --input {path}")
    return 0
