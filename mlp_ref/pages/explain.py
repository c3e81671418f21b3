"""`mlp-ref explain --html`: the derivation as one self-contained page.

Drawn from a Derivation's data alone (mlp_ref.explain.derivation): its forward values name the
diagram's nodes, each per-sample quantity written dA/dB whose A and B are both nodes is a backward
arrow, the gradients' ways are the side-by-side columns and the checks their agreement. A derivation
of another chain (batch norm's, say) is drawn the same way; its formulas come from its own `equations`
attribute when it has one (name -> plain formula), else from the MLP chain's below.
"""
import numpy as np

from mlp_ref.explain.derivation import NAMING
from mlp_ref.pages.layout import Markup, mathml, matrix, render

WAY_TITLES = {"jacobian": "Jacobian product", "reference": "reference MLP", "torch": "torch autograd"}
LOSS_NODE = "loss"  # forward's name for the loss; the derivation's chain writes it l


def equations(d):
    """name -> plain formula for the forward values and the chain's products."""
    own = getattr(d, "equations", None)
    if own:
        return dict(own)
    p = d.problem
    return {"z1": "z1 = x W1^T + b1", "z2": f"z2 = {p.f}(z1)", "z3": "z3 = z2 W2^T + b2",
            "y_hat": f"y_hat = {p.g}(z3)", LOSS_NODE: f"l = {p.loss}(y_hat, y)",
            "dl/dz3": "dl/dz3 = dl/dy_hat dy_hat/dz3", "dl/dz2": "dl/dz2 = dl/dz3 dz3/dz2",
            "dl/dz1": "dl/dz1 = dl/dz2 dz2/dz1", "dW2_n": "dW2_n = (dl/dz3)^T z2", "dW1_n": "dW1_n = (dl/dz1)^T x",
            "db2": "db2 = sum_n dl/dz3", "dW2": "dW2 = sum_n (dl/dz3)^T z2",
            "db1": "db1 = sum_n dl/dz1", "dW1": "dW1 = sum_n (dl/dz1)^T x"}


def _node_of(name):
    return "l" if name == LOSS_NODE else name


def _factor_edges(d):
    """(from, to, factor): the per-sample quantities dA/dB where B is the forward value just before A:
    the chain's factors (a product such as dl/dz1 spans several links and is not one)."""
    order = [_node_of(k) for k in d.forward]
    next_of = dict(zip(order, order[1:]))
    edges = []
    for key in (d.samples[0] if d.samples else {}):
        top, _, bottom = key.partition("/")
        if bottom and top.startswith("d") and bottom.startswith("d") and next_of.get(bottom[1:]) == top[1:]:
            edges.append((bottom[1:], top[1:], key))
    return edges


def diagram(d):
    """The chain as SVG: each forward value a box with its shape, forward arrows above, backward arrows
    (red, labelled with the factor they carry) below."""
    names = list(d.forward)
    shapes = {_node_of(k): str(tuple(np.shape(v))) for k, v in d.forward.items()}
    step, width = 128, 128 * len(names) + 20
    x_of = {_node_of(k): 14 + i * step for i, k in enumerate(names)}
    parts = [Markup('<defs><marker id="fw" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
                    'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="currentColor"/></marker></defs>')]
    for k in names:
        n, x = _node_of(k), x_of[_node_of(k)]
        parts.append(Markup('<g tabindex="0"><title>{} {}</title><rect class="box" x="{}" y="50" width="96" height="46" '
                            'rx="6"/><text x="{}" y="70" text-anchor="middle">{}</text>'
                            '<text class="muted" x="{}" y="88" text-anchor="middle">{}</text></g>')
                     .format(n, shapes[n], x, x + 48, n, x + 48, shapes[n]))
    for a, b in zip(names, names[1:]):
        xa, xb = x_of[_node_of(a)] + 96, x_of[_node_of(b)]
        parts.append(Markup('<path class="edge" style="color: var(--fg)" d="M{},{} L{},{}" marker-end="url(#fw)"/>')
                     .format(xa + 2, 66, xb - 2, 66))
    for low, high, factor in _factor_edges(d):
        if low not in x_of or high not in x_of:
            continue
        xa, xb = x_of[high] + 48, x_of[low] + 48
        parts.append(Markup('<path class="back" style="color: var(--bad)" d="M{},98 C{},140 {},140 {},98" '
                            'marker-end="url(#fw)"/><text x="{}" y="142" text-anchor="middle">{}</text>')
                     .format(xa, xa, xb, xb, (xa + xb) / 2, factor))
    return Markup('<svg class="diagram" role="img" aria-label="the network: forward values and the factors the '
                  'backward pass carries" viewBox="0 0 {w} 156" width="{w}" height="156">'
                  '<text x="4" y="16">forward \u2192</text><text x="4" y="34" class="muted">backward: '
                  'each red arrow carries its factor</text>{p}</svg>').format(w=width, p=Markup("").join(parts))


def _checks_by_name(d):
    return {c.name: c for c in d.checks}


def _departures(yours, expected, c):
    """Which cells of the student's value fall outside the comparison's own allowance (the same
    atol + rtol |derivation| the comparison used)."""
    if yours.shape != expected.shape:
        return None
    with np.errstate(all="ignore"):
        return ~(np.abs(yours - expected) <= c.atol + c.rtol * np.abs(expected))


def mine_section(d, mine, values, chain):
    """The student's rows: every quantity they gave, the derivation beside each departing one."""
    comparisons, found = mine
    rows, sides = [], []
    for c in comparisons:
        rows.append(dict(name=c.name, shape=str(c.shape), ok=c.ok, diff="-" if c.problem else f"{c.max_abs:.2e}",
                         problem=c.problem))
        if c.ok:
            continue
        yours, expected = np.asarray(values[c.name], dtype=np.float64), np.asarray(chain[c.name], dtype=np.float64)
        mask = _departures(yours, expected, c)
        sides.append(dict(name=c.name, describe=c.describe("yours", "derivation"),
                          hints=[h.text() for h in found.get(c.name, [])],
                          yours=matrix(f"mine.{c.name}", f"yours: {c.name}", yours, departs=mask,
                                       note=f"{int(mask.sum())} of {mask.size} depart" if mask is not None
                                       else "a different shape"),
                          derivation=matrix(f"chain.{c.name}", f"derivation: {c.name}", expected)))
    first = next((c.name for c in comparisons if not c.ok), None)
    return dict(rows=rows, sides=sides, first=first, tol=comparisons[0] if comparisons else None)


PAGE = """{% extends "shell.html" %}{% from "matrix.html" import matrix %}{% block body %}
<header><h1>{{ title }}</h1>
<p class="muted">{{ naming }}</p>
<p>Verdict: {% if ok %}<span class="ok">all three ways agree, every Jacobian matches torch</span>{% else %}<span class="bad">disagreement: {{ failures }}</span>{% endif %}; tolerance atol {{ tol.atol }} + rtol {{ tol.rtol }}·|torch|.
{% if mine %}Your numbers: {% if mine.first %}<span class="bad">first departure at {{ mine.first }}</span>{% elif mine.rows %}<span class="ok">all {{ mine.rows|length }} agree</span>{% else %}none filled in yet{% endif %}.{% endif %}</p>
</header>
<main>
<h2 id="network">The network</h2>
<figure class="card"><div class="scroll wide">{{ svg }}</div><figcaption>Each box is a forward value with its shape (N rows, one per sample); a backward arrow is labelled with the Jacobian factor it multiplies in.</figcaption></figure>
<h2 id="equations">The equations</h2>
<div class="card">{% for eq in forward_eqs %}<div class="eq">{{ eq }}</div>{% endfor %}</div>
<h2 id="forward">Inputs, parameters and the forward pass</h2>
<div class="row">{% for m in forward %}{{ matrix(m) }}{% endfor %}</div>
{% for s in samples %}
<h2 id="sample-{{ loop.index0 }}">Chain factors, sample n={{ loop.index0 }}</h2>
<div class="row">{% for m in s.factors %}{{ matrix(m) }}{% endfor %}</div>
<h3>Products</h3>
<div class="card">{% for eq in product_eqs %}<div class="eq">{{ eq }}</div>{% endfor %}</div>
<div class="row">{% for m in s.products %}{{ matrix(m) }}{% endfor %}</div>
{% endfor %}
<h2 id="jacobians">Each Jacobian against torch.autograd.functional.jacobian</h2>
<table class="data"><thead><tr><th scope="col">factor</th><th scope="col">shape</th><th scope="col" class="r">max |diff|</th><th scope="col">verdict</th></tr></thead>
<tbody>{% for c in factor_checks %}<tr><td><code>{{ c.name }}</code></td><td class="num">{{ c.shape }}</td><td class="r num">{{ c.diff }}</td><td class="{{ 'ok' if c.ok else 'bad' }}">{{ 'ok' if c.ok else 'FAIL' }}</td></tr>{% endfor %}</tbody></table>
<h2 id="gradients">The gradients three ways, summed over the batch</h2>
{% for g in gradients %}
<h3>{{ g.eq }}</h3>
<div class="row">{% for m in g.ways %}{{ matrix(m) }}{% endfor %}</div>
<p>{% for a in g.agreement %}{{ a.label }} vs torch: max |diff| <span class="num">{{ a.diff }}</span> <span class="{{ 'ok' if a.ok else 'bad' }}">{{ 'agrees' if a.ok else 'DISAGREES' }}</span>{% if not loop.last %}; {% endif %}{% endfor %}</p>
{% endfor %}
{% if mine %}
<h2 id="mine">Your numbers against the derivation</h2>
{% if mine.rows %}
<table class="data"><caption>in chain order; allowed {{ mine.tol.atol }} + {{ mine.tol.rtol }}·|derivation|</caption>
<thead><tr><th scope="col">quantity</th><th scope="col">shape</th><th scope="col" class="r">max |diff|</th><th scope="col">verdict</th></tr></thead>
<tbody>{% for r in mine.rows %}<tr><td><code>{{ r.name }}</code></td><td class="num">{{ r.shape }}</td><td class="r num">{{ r.diff }}</td><td class="{{ 'ok' if r.ok else 'bad' }}">{{ 'ok' if r.ok else 'DEPARTS' }}{% if r.problem %} ({{ r.problem }}){% endif %}</td></tr>{% endfor %}</tbody></table>
{% for s in mine.sides %}
<section class="card departure" id="departure-{{ loop.index0 }}"><h3>{{ s.name }} departs</h3>
<div class="row">{{ matrix(s.yours) }}{{ matrix(s.derivation) }}</div>
<pre class="text">{{ s.describe }}</pre>
{% for h in s.hints %}<p class="hint"><strong>{{ h }}</strong></p>{% endfor %}</section>
{% endfor %}
{% else %}<p>None filled in yet: put your numbers in place of the nulls under "mine" and run again.</p>{% endif %}
{% endif %}
</main>{% endblock %}"""


def page(d, mine=None, values=None, chain=None):
    """The whole page. mine: (comparisons, hints) from mlp_ref.explain.hints.check; values: the student's
    arrays by name and chain: the derivation's, by the same names (mlp_ref.explain.input)."""
    p, by_name, eqs = d.problem, _checks_by_name(d), equations(d)
    naming = getattr(d, "naming", NAMING)
    naming_line = ("naming: this derivation's " + ", ".join(f"{a} = reference {b}" for a, b in naming.items())
                   + "  (reference: z1, h = f(z1), z2, y_hat = g(z2))")
    # Every array of the problem, in its own order (x, y, then the parameters: W1.. or gamma, beta, ..).
    params = [(k, v) for k, v in vars(p).items() if isinstance(v, np.ndarray)]
    forward = [matrix(f"input.{k}", "y (class indices)" if k == "y" and p.loss == "ce" else k, v) for k, v in params]
    forward += [matrix(f"forward.{k}", k, v) for k, v in d.forward.items() if k != "x"]
    samples = []
    for n, s in enumerate(d.samples):
        keys = list(s)
        factors = [k for k in keys if k in {f for _, _, f in _factor_edges(d)}]
        samples.append(dict(factors=[matrix(f"samples[{n}].{k}", k, s[k]) for k in factors],
                            products=[matrix(f"samples[{n}].{k}", k, s[k]) for k in keys if k not in factors]))
    factor_checks = [dict(name=c.name, shape=str(tuple(c.shape)), diff=f"{c.max_abs:.2e}", ok=c.ok) for c in d.checks
                     if "[n=" in c.name]
    gradients = []
    given = {c.name: c for c in mine[0]} if mine is not None else {}
    for name, ways in d.gradients.items():
        drawn = [matrix(f"gradients.{name}.{w}", WAY_TITLES.get(w, w), a) for w, a in ways.items()]
        if name in given and name in (values or {}):
            # The student's own gradient as a fourth column, its departing cells marked.
            yours = np.asarray(values[name], dtype=np.float64)
            mask = _departures(yours, np.asarray((chain or {}).get(name), dtype=np.float64), given[name])
            drawn.append(matrix(f"yours.{name}", "yours", yours, departs=mask,
                                note="agrees" if given[name].ok else "departs"))
        gradients.append(dict(eq=mathml(eqs.get(name, name)), ways=drawn,
                              agreement=[dict(label=WAY_TITLES.get(w, w), diff=f"{by_name[f'{name} {w}'].max_abs:.2e}",
                                              ok=by_name[f"{name} {w}"].ok)
                                         for w in ways if f"{name} {w}" in by_name]))
    tol = d.checks[0] if d.checks else None
    title = (f"explain: {p.f} hidden, {p.g} output; loss {p.loss} ({p.reduction})" if hasattr(p, "f")
             else "explain")
    return render(PAGE, title=title, naming=naming_line, ok=d.ok,
                  failures=", ".join(c.name for c in d.failures()), tol=tol, svg=diagram(d),
                  forward_eqs=[mathml(eqs[k]) for k in d.forward if k in eqs],
                  product_eqs=[mathml(eqs[k]) for k in (d.samples[0] if d.samples else {}) if k in eqs],
                  forward=forward, samples=samples, factor_checks=factor_checks, gradients=gradients,
                  mine=None if mine is None else mine_section(d, mine, values or {}, chain or {}))
