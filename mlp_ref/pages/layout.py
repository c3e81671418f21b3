"""What every page shares: the Jinja2 environment (autoescape on), the page shell with its inline CSS
(light and dark, print), heat-mapped matrices, MathML from plain formulas, and small SVG charts.

Untrusted text (a submission's messages, output, file names) reaches a page only through Jinja2's
autoescape or Markup.format, which escapes its arguments: nothing here marks a string safe that it did
not build itself.
"""
import math
import re

import numpy as np
from jinja2 import DictLoader, Environment, select_autoescape
from markupsafe import Markup

CSS = """
:root { color-scheme: light dark; --fg: #1b1b1b; --bg: #fdfdfc; --muted: #5d5d5d; --line: #c9c9c9;
  --pos: 200, 70, 50; --neg: 40, 110, 190; --bad: #c0161b; --ok: #1d7a32; --card: #f3f3f1; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e8e8e6; --bg: #161718; --muted: #a3a3a3; --line: #4a4a4a; --pos: 240, 110, 90;
    --neg: 90, 160, 240; --bad: #ff6b6b; --ok: #6fd38a; --card: #222325; } }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 0 auto;
  max-width: 72rem; padding: 1rem; }
h1 { font-size: 1.35rem; margin: 0 0 .3rem; } h2 { font-size: 1.15rem; margin: 1.6rem 0 .5rem; }
h3 { font-size: 1rem; margin: 1rem 0 .4rem; }
h1, h2, h3, a, summary { overflow-wrap: anywhere; } td, th { overflow-wrap: break-word; }
.num, td.r, th.r { white-space: nowrap; }
.scroll { max-width: 100%; overflow-x: auto; }
.muted, caption { color: var(--muted); } caption { text-align: left; font-size: .85rem; padding: .2rem 0; }
code, .num { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .88em; }
.ok { color: var(--ok); font-weight: 600; } .bad { color: var(--bad); font-weight: 600; }
.card { background: var(--card); border-radius: 6px; padding: .6rem .8rem; margin: .5rem 0; overflow-x: auto; }
table.data { border-collapse: collapse; margin: .3rem 0; display: block; max-width: 100%; overflow-x: auto; }
table.data th, table.data td { border-bottom: 1px solid var(--line); padding: .2rem .5rem; text-align: left;
  vertical-align: top; }
table.data td.r, table.data th.r { text-align: right; }
.row { display: flex; flex-wrap: wrap; gap: .8rem 1.6rem; align-items: flex-start; }
.mat { border-collapse: separate; border-spacing: 2px; }
.mat th { font-weight: normal; color: var(--muted); font-size: .75rem; padding: 0 .2rem; }
.mat td { position: relative; min-width: 4.2rem; padding: .15rem .3rem; text-align: right; border-radius: 3px;
  font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .8rem; outline-offset: 1px; }
.mat td.off { color: var(--muted); opacity: .45; }
.mat td.departs { outline: 2px solid var(--bad); padding-left: .9rem; }
.mat td.departs::before { content: "\\2717"; position: absolute; left: 2px; top: 0; color: var(--bad);
  font-size: .7rem; }
.mat td:focus { outline: 2px solid var(--fg); }
.tip { display: none; position: absolute; z-index: 2; left: 50%; top: 100%; transform: translateX(-50%);
  background: var(--fg); color: var(--bg); padding: .15rem .35rem; border-radius: 3px; white-space: nowrap; }
.mat td:hover .tip, .mat td:focus .tip { display: block; }
figure { margin: .4rem 0; } figcaption { font-size: .85rem; color: var(--muted); }
svg text { fill: var(--fg); font: 12px system-ui, sans-serif; } svg .muted { fill: var(--muted); }
svg .edge { stroke: var(--fg); fill: none; } svg .back { stroke: var(--bad); fill: none; }
svg .box { fill: var(--card); stroke: var(--line); } svg .bar { fill: rgb(var(--neg)); }
svg .bar:hover, svg .bar:focus { fill: rgb(var(--pos)); outline: none; }
svg.diagram { max-width: 100%; height: auto; } .wide svg.diagram { min-width: 36rem; }
math { font-size: 1.1em; } .eq { margin: .3rem 0; } .eq math { text-align: left; }
pre.text { white-space: pre-wrap; word-break: break-word; margin: .2rem 0; font-size: .82rem; }
details > summary { cursor: pointer; } a { color: rgb(var(--neg)); }
@media print { body { max-width: none; color: #000; background: #fff; } .tip { display: none !important; }
  .card { background: none; border: 1px solid #999; } a { color: #000; }
  details::details-content { content-visibility: visible; display: block; height: auto; }
  h2 { break-after: avoid; } .mat, table.data, svg { break-inside: avoid; } }
@media (max-width: 40rem) { body { padding: .5rem; font-size: 14px; } .mat td { min-width: 3.4rem; }
  .barcol { display: none; } }
"""

SHELL = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>{{ title }}</title><style>{{ css }}</style></head>
<body>{% block body %}{% endblock %}</body></html>
"""

# A matrix: a heat-mapped table, the exact value on hover or keyboard focus (each cell is a tab stop).
MATRIX = """{% macro matrix(m) -%}
<div class="scroll"><table class="mat" data-name="{{ m.name }}" data-shape="{{ m.shape }}"{% if m.diagonal %} data-diagonal="1"{% endif %}>
<caption>{{ m.label }} <span class="num">{{ m.shape }}</span>{% if m.diagonal %}, diagonal{% endif %}{% if m.note %}; {{ m.note }}{% endif %}</caption>
<thead><tr><th scope="col"><span hidden>row</span></th>{% for j in m.cols %}<th scope="col">{{ j }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in m.rows %}<tr><th scope="row">{{ loop.index0 }}</th>{% for c in row %}<td tabindex="0" style="{{ c.style }}" data-value="{{ c.exact }}"{% if c.cls %} class="{{ c.cls }}"{% endif %} aria-label="{{ m.label }} [{{ c.where }}] = {{ c.exact }}{% if c.extra %}; {{ c.extra }}{% endif %}">{{ c.short }}<span class="tip" aria-hidden="true">{{ c.exact }}{% if c.extra %} ({{ c.extra }}){% endif %}</span></td>{% endfor %}</tr>{% endfor %}</tbody>
</table></div>
{%- endmacro %}"""

_env = Environment(loader=DictLoader({"shell.html": SHELL, "matrix.html": MATRIX}),
                   autoescape=select_autoescape(default=True, default_for_string=True),
                   trim_blocks=True, lstrip_blocks=True)


def add_template(name, text):
    """Make `text` includable by name ({% include name %}) in every page."""
    _env.loader.mapping[name] = text


def render(template, **context):
    """A whole page from a template that extends the shell (autoescaped)."""
    return _env.from_string(template).render(css=Markup(CSS), **context)


def exact(v):
    """The number as Python writes it: round-trips, so a test can read it back exactly."""
    return repr(float(v) + 0.0)


def short(v):
    v = float(v) + 0.0
    return f"{v:.4g}"


def _shade(v, top, sign=True):
    if not np.isfinite(v):
        return "background: rgba(var(--pos), .9)"
    a = 0.0 if top == 0 else min(1.0, abs(v) / top) * 0.75
    return f"background: rgba(var({'--neg' if sign and v < 0 else '--pos'}), {a:.3f})"


def matrix(name, label, a, *, note="", departs=None, extras=None, scale=None, signed=True):
    """A vector or matrix as a dict the `matrix` macro draws. name: the key a test finds it by (the JSON
    path of its values); departs: a boolean mask of cells to mark; extras: a per-cell text for the tip;
    scale: the value that gets the full colour (default the largest |value|); signed: a diverging colour."""
    a = np.asarray(a, dtype=np.float64)
    grid = a.reshape(1, -1) if a.ndim < 2 else a
    finite = np.abs(grid[np.isfinite(grid)])
    top = scale if scale is not None else (float(finite.max()) if finite.size else 0.0)
    square = grid.ndim == 2 and grid.shape[0] == grid.shape[1] and grid.shape[0] > 1
    diagonal = bool(square and not np.any(grid[~np.eye(grid.shape[0], dtype=bool)]))
    mask = None if departs is None else np.asarray(departs, dtype=bool).reshape(grid.shape)
    rows = []
    for i, row in enumerate(grid):
        cells = []
        for j, v in enumerate(row):
            cls = " ".join(x for x in (("off" if diagonal and i != j else ""),
                                       ("departs" if mask is not None and mask[i, j] else "")) if x)
            where = f"{i}, {j}" if a.ndim == 2 else f"{j}"
            cells.append(dict(exact=exact(v), short=short(v), style=_shade(v, top, signed), cls=cls, where=where,
                              extra=extras[i][j] if extras is not None else
                              ("departs" if mask is not None and mask[i, j] else None)))
        rows.append(cells)
    return dict(name=name, label=label, shape=str(tuple(a.shape)), diagonal=diagonal, note=note, rows=rows,
                cols=range(grid.shape[1]))


# --- MathML from a plain formula ---------------------------------------------------------------------
_TOKEN = re.compile(r"\s*(?:(?P<frac>d[A-Za-z_0-9]+/d[A-Za-z_0-9]+)|(?P<op>[=+\-*(),\[\]]|sum_n\b|\u2211)"
                    r"|(?P<name>[A-Za-z][A-Za-z_0-9]*)|(?P<num>\d+(?:\.\d+)?)|(?P<sup>\^[A-Za-z0-9]+))")
_OPS = {"*": "\u2299", "-": "\u2212"}
_GREEK = {"mu": "\u03bc", "sigma": "\u03c3", "gamma": "\u03b3", "beta": "\u03b2", "eps": "\u03b5"}


def _ident(name):
    """z1 -> z with subscript 1; y_hat -> y with a hat; W2 -> W sub 2; gamma -> the letter; a gradient
    dW1 -> dl/dW1 (dW1_n: sample n's term of it)."""
    grad = re.fullmatch(r"d([Wb]\d+|gamma|beta)(_n)?", name)
    if grad:
        frac = Markup("<mfrac><mrow><mo>\u2202</mo><mi>l</mi></mrow>{}</mfrac>").format(_partial("d" + grad.group(1)))
        return Markup("<msub><mrow>{}</mrow><mi>n</mi></msub>").format(frac) if grad.group(2) else frac
    m = re.fullmatch(r"([A-Za-z]+?)(_hat)?(\d*)(_n)?", name)
    if not m:
        return Markup("<mi>{}</mi>").format(name)
    base, hat, digits, per_sample = m.groups()
    # y_hat as the one character y-circumflex: an accent over a separate <mi> sits badly in Chromium.
    core = Markup("<mi>{}</mi>").format("\u0177" if hat and base == "y" else _GREEK.get(base, base))
    if hat and base != "y":
        core = Markup('<mover accent="true">{}<mo>^</mo></mover>').format(core)
    sub = digits + ("n" if per_sample else "")
    return Markup("<msub>{}<mn>{}</mn></msub>").format(core, sub) if sub else core


def _partial(part):
    return Markup("<mrow><mo>\u2202</mo>{}</mrow>").format(_ident(part[1:]))


def mathml(formula, display=False):
    """A <math> element for formulas such as 'z3 = z2 W2^T + b2' or 'dl/dz1 = dl/dz2 dz2/dz1'; a
    token it does not know is set as text, never as markup."""
    parts, pos = [], 0
    while pos < len(formula):
        m = _TOKEN.match(formula, pos)
        if not m or m.end() == pos:
            parts.append(Markup("<mtext>{}</mtext>").format(formula[pos]))
            pos += 1
            continue
        pos = m.end()
        kind, text = m.lastgroup, m.group(m.lastgroup)
        if kind == "frac":
            top, bottom = text.split("/")
            parts.append(Markup("<mfrac>{}{}</mfrac>").format(_partial(top), _partial(bottom)))
        elif kind == "name":
            parts.append(_ident(text))
        elif kind == "num":
            parts.append(Markup("<mn>{}</mn>").format(text))
        elif kind == "sup":
            base = parts.pop() if parts else Markup("<mrow></mrow>")
            if base.startswith("<msub>"):  # W1^T: one msubsup, the T above the 1
                parts.append(Markup("<msubsup>{}<mi>{}</mi></msubsup>").format(
                    Markup(base[len("<msub>"):-len("</msub>")]), text[1:]))
            else:
                parts.append(Markup("<msup>{}<mi>{}</mi></msup>").format(base, text[1:]))
        elif text in ("sum_n", "\u2211"):
            parts.append(Markup('<munder><mo>\u2211</mo><mi>n</mi></munder>'))
        else:
            parts.append(Markup("<mo>{}</mo>").format(_OPS.get(text, text)))
    mode = ' display="block"' if display else ""
    return Markup('<math{}><mrow>{}</mrow></math>').format(Markup(mode), Markup("").join(parts))


# --- SVG charts ----------------------------------------------------------------------------------
def bars(rows, *, title, xlabel, horizontal=False, width=460, last_edge=None):
    """A small bar chart as inline SVG. rows: (label, value, tip) with value >= 0; each bar is a tab stop
    whose <title> gives the exact value (a tooltip on hover, read out on focus). last_edge: a histogram's
    right end; then each label marks its bar's left edge, not its middle."""
    rows = list(rows) or [("(none)", 0, "none")]
    top = max([v for _, v, _ in rows] + [1])
    if horizontal:
        bar_h, label_w = 22, 190
        height = 30 + bar_h * len(rows) + 26
        scale = (width - label_w - 40) / top
        items = []
        for i, (label, v, tip) in enumerate(rows):
            y = 24 + i * bar_h
            items.append(Markup('<text x="{}" y="{}" text-anchor="end">{}</text>'
                                '<rect class="bar" tabindex="0" x="{}" y="{}" width="{:.1f}" height="{}">'
                                '<title>{}</title></rect><text x="{:.1f}" y="{}">{}</text>')
                         .format(label_w - 6, y + 15, label, label_w, y + 3, max(v * scale, 1), bar_h - 6, tip,
                                 label_w + v * scale + 4, y + 15, _num(v)))
    else:
        height, base, left = 220, 180, 24
        bar_w = (width - left - 10) / len(rows)
        scale = (base - 30) / top
        items = [Markup('<line class="edge" x1="{}" y1="{}" x2="{}" y2="{}"/>').format(left, base, width - 8, base)]
        for i, (label, v, tip) in enumerate(rows):
            x = left + i * bar_w
            items.append(Markup('<rect class="bar" tabindex="0" x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}">'
                                '<title>{}</title></rect><text x="{:.1f}" y="{:.1f}" text-anchor="middle">{}</text>'
                                '<text class="muted" x="{:.1f}" y="{}" text-anchor="middle">{}</text>')
                         .format(x + 1, base - v * scale, bar_w - 2, v * scale, tip, x + bar_w / 2,
                                 base - v * scale - 4, _num(v) if v else "",
                                 x if last_edge is not None else x + bar_w / 2, base + 14, label))
        if last_edge is not None:
            items.append(Markup('<text class="muted" x="{:.1f}" y="{}" text-anchor="middle">{}</text>')
                         .format(left + len(rows) * bar_w, base + 14, last_edge))
    return Markup('<svg class="diagram" role="img" viewBox="0 0 {w} {h}" width="{w}" height="{h}">'
                  '<title>{t}</title><text x="4" y="14">{t}</text>{items}'
                  '<text class="muted" x="{w2}" y="{h2}" text-anchor="middle">{x}</text></svg>').format(
        w=width, h=height, t=title, items=Markup("").join(items), w2=width / 2, h2=height - 4, x=xlabel)


def _num(v):
    return f"{v:g}" if float(v) == math.floor(v) else f"{v:.2f}"


__all__ = ["Markup", "add_template", "render", "matrix", "mathml", "bars", "exact", "short", "MATRIX"]
