"""`mlp-ref check FILE --html`: one submission's report as a page, from the grader's Report.

The summary and points first; each failing section with its failing checks (the same lines the text
report prints, with the diagnosis and its fix); for the first quantity that disagrees, a heat map of
|submission - torch| against its allowance, so the pattern (one row, a transposed block, every element
by a factor) shows. Every string that came from the submission (messages, output, its file name) is
escaped by the template.
"""
import numpy as np

from mlp_ref.packs.dlsp_hw1 import diagnose, report as reports
from mlp_ref.pages.layout import add_template, matrix, render
from mlp_ref.tolerances import GRADING

# The body, shared with the class page (which puts one per student inside it).
BODY = """{% from "matrix.html" import matrix %}
<section class="student" id="{{ r.anchor }}" aria-labelledby="{{ r.anchor }}-title">
<h{{ level }} id="{{ r.anchor }}-title">{{ r.path }}</h{{ level }}>
<p class="card"><strong class="{{ 'ok' if r.passed else 'bad' }}">{{ 'PASS' if r.passed else 'FAIL' }}</strong>:
score <span class="num">{{ r.score }}</span> / <span class="num">{{ r.max_score }}</span>{% if r.points %}; {{ r.points }}{% endif %}.
{{ r.interface }} interface, {{ r.n_graded }} graded checks in {{ r.seconds }} s{% if r.outcome != 'completed' %}; outcome <strong class="bad">{{ r.outcome }}</strong>{% endif %}.
<br><span class="muted">{{ r.tolerance }}</span></p>
<table class="data"><caption>checks by section</caption>
<thead><tr><th scope="col">section</th><th scope="col" class="r">pass</th><th scope="col" class="r">of</th><th scope="col" class="barcol"><span hidden>share passed</span></th><th scope="col">headroom</th></tr></thead>
<tbody>{% for s in r.sections %}<tr><th scope="row">{{ s.title }}</th><td class="r num">{{ s.ok }}</td><td class="r num">{{ s.total }}</td>
<td class="barcol"><svg width="100" height="12" role="img" aria-label="{{ s.ok }} of {{ s.total }} pass"><rect class="box" x="0" y="1" width="100" height="10"/><rect class="bar" x="0" y="1" width="{{ '%.1f' % (100 * s.ok / s.total if s.total else 0) }}" height="10"/></svg></td><td>{{ s.headroom }}</td></tr>{% endfor %}</tbody></table>
{% if r.heat %}
<h{{ level + 1 }}>Where the first disagreeing tensor departs</h{{ level + 1 }}>
<p>{{ r.heat.where }}</p>
<div class="row heat" data-check="{{ r.heat.check }}" data-step="{{ r.heat.step }}">{{ matrix(r.heat.diff) }}{{ matrix(r.heat.ratio) }}</div>
<p class="muted">{{ r.heat.note }}</p>
{% endif %}
{% for s in r.failing %}
<h{{ level + 1 }}>{{ s.title }}: {{ s.failed }} failing</h{{ level + 1 }}>
{% for c in s.checks %}<details class="card"{% if loop.first %} open{% endif %}><summary><span class="bad">FAIL</span> {{ c.name }}{% if c.diagnosis %} <code>[{{ c.diagnosis }}]</code>{% endif %}</summary>
<pre class="text">{{ c.lines }}</pre></details>
{% endfor %}{% endfor %}
{% if r.diagnoses %}<h{{ level + 1 }}>Diagnoses and fixes</h{{ level + 1 }}>
<table class="data"><thead><tr><th scope="col">diagnosis</th><th scope="col" class="r">checks</th><th scope="col">what it means, and the fix</th></tr></thead>
<tbody>{% for d in r.diagnoses %}<tr><td><code>{{ d.id }}</code></td><td class="r num">{{ d.n }}</td><td>{{ d.words }}</td></tr>{% endfor %}</tbody></table>{% endif %}
{% if r.flags %}<h{{ level + 1 }}>Integrity flags (for a human to review; no points lost)</h{{ level + 1 }}>
<ul>{% for f in r.flags %}<li><code>{{ f }}</code></li>{% endfor %}</ul>{% endif %}
{% if r.output %}<h{{ level + 1 }}>What the submission printed (first lines)</h{{ level + 1 }}><pre class="text card">{{ r.output }}</pre>{% endif %}
</section>"""

add_template("student.html", BODY)
PAGE = """{% extends "shell.html" %}{% block body %}<main>{% include "student.html" %}</main>{% endblock %}"""


def first_disagreement(report):
    """The first graded failure that compared numbers of the right shape, or None."""
    failing = [c for c in diagnose.telling_order(report.graded) if c.passed is False]
    return next((c for c in failing if c.comparison is not None and c.actual is not None
                 and c.comparison.problem is None and np.shape(c.actual) == np.shape(c.expected)), None)


def heat(check, dtype):
    """|submission - torch| and the same as multiples of each element's allowance."""
    c = check.comparison
    actual = np.asarray(check.actual, dtype=np.float64)
    expected = np.asarray(check.expected, dtype=np.float64)
    with np.errstate(all="ignore"):
        diff = np.abs(actual - expected)
        allowed = GRADING[dtype].allowed(expected)
        ratio = diff / allowed
    over = ~(ratio <= 1)
    where = "" if check.step is None else f"step {check.step}, "
    return dict(
        check=check.name, step=check.step if check.step is not None else "",
        where=f"{check.name}: {where}{c.name} {tuple(c.shape)} {c.dtype}; {c.n_mismatched} / {c.n_total} mismatched; "
              f"worst |submission - torch| = {c.max_abs:.3g} at {c.worst_index}",
        diff=matrix(f"diff.{c.name}", f"|submission - torch| for {c.name}", diff, departs=over, signed=False),
        ratio=matrix(f"ratio.{c.name}", "over its allowance (x)", ratio, departs=over, signed=False),
        note=f"Marked: over the allowance rtol {GRADING[dtype].rtol:g}*|torch| + {GRADING[dtype].scale:g}*max|torch| "
             f"(mlp_ref.tolerances.GRADING); the case's noise term is not in this per-element picture, but is in "
             f"the grader's allowance at the worst element, "
             + ("n/a." if c.allowance is None else f"{c.allowance:.3g}."))


def _sections(report):
    rows, failing = [], []
    for section in reports.SECTION_ORDER:
        checks = [c for c in report.checks if c.section == section]
        if not checks:
            continue
        ran = [c for c in checks if c.passed is not None]
        h = report.headroom(section)
        rows.append(dict(title=reports.SECTION_TITLES[section], ok=sum(bool(c.passed) for c in ran), total=len(ran),
                         headroom=reports.headroom_text(h) if h is not None else ""))
        bad = [c for c in diagnose.telling_order(ran) if c.passed is False]
        if bad:
            failing.append(dict(title=reports.SECTION_TITLES[section], failed=len(bad),
                                checks=[dict(name=c.name, diagnosis=c.diagnosis,
                                             lines="\n".join(reports.failure_lines(c))) for c in bad]))
    return rows, failing


def view(report, *, anchor="report", points=None, flags=()):
    """The dict BODY draws. points: the assignment's points in words ('7 / 10 points, HW1'), if any."""
    rows, failing = _sections(report)
    first = first_disagreement(report)
    return dict(anchor=anchor, path=report.path, passed=report.passed, score=f"{report.score:g}",
                max_score=f"{report.max_score:g}", points=points, interface=report.interface or "no",
                n_graded=len(report.graded), seconds=f"{report.seconds:.1f}", outcome=report.outcome,
                tolerance=reports.tolerance_line(report.dtype), sections=rows, failing=failing,
                heat=None if first is None else heat(first, report.dtype),
                diagnoses=[dict(id=d, words=w, n=n) for d, w, n in report.diagnoses], flags=list(flags),
                output=getattr(report, "output_head", ""))


def page(report, *, points=None, flags=()):
    """The whole page for one submission."""
    return render(PAGE, title=f"mlp-ref check: {report.path}", r=view(report, points=points, flags=flags), level=1)
