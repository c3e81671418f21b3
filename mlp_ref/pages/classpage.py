"""`mlp-ref check FOLDER --html`: the class report as a page, from the grader's ClassSummary and the
students' Reports: the score histogram and the diagnosis counts as SVG charts, pass rates (by section;
a pack passes its own rows, by unit), the slowest and the flagged submissions, and every student's own
report inside the same file, linked from their row.
"""
from typing import NamedTuple

from mlp_ref.packs.dlsp_hw1 import report as reports
from mlp_ref.grader.classreport import flag_lines
from mlp_ref.pages import student
from mlp_ref.pages.layout import bars, render


class Rate(NamedTuple):
    """One row of a pass-rate table: what was graded (a section, a pack's unit), checks passed of run."""
    label: str
    passed: int
    total: int

    @property
    def fraction(self):
        return self.passed / self.total if self.total else 0.0


def section_rates(report_list):
    """A Rate per section of the battery, over every student's checks that ran."""
    rows = []
    for section in reports.SECTION_ORDER:
        ran = [c for r in report_list for c in r.checks if c.section == section and c.passed is not None]
        if ran:
            rows.append(Rate(reports.SECTION_TITLES[section], sum(bool(c.passed) for c in ran), len(ran)))
    return rows


PAGE = """{% extends "shell.html" %}{% block body %}
<header><h1>{{ title }}</h1>
<p class="card">{{ s.n }} submissions graded in {{ elapsed }}; mean score <span class="num">{{ mean }}</span> / <span class="num">{{ top }}</span>; {{ n_pass }} pass.</p></header>
<main>
<h2 id="charts">Scores and diagnoses</h2>
<div class="row"><figure>{{ histogram }}<figcaption>How many students scored in each tenth of {{ top }} (a bar's exact count on hover or focus).</figcaption></figure>
<figure>{{ diagnosis_chart }}<figcaption>How many students have each diagnosis.</figcaption></figure></div>
{% if s.diagnoses %}<table class="data"><caption>diagnoses, most common first</caption><thead><tr><th scope="col">diagnosis</th><th scope="col" class="r">students</th><th scope="col">example</th></tr></thead>
<tbody>{% for d, k, path in s.diagnoses %}<tr><td><code>{{ d }}</code></td><td class="r num">{{ k }}</td><td>{% if path in anchors %}<a href="#{{ anchors[path] }}">{{ path }}</a>{% else %}{{ path }}{% endif %}</td></tr>{% endfor %}</tbody></table>
{% else %}<p>No diagnoses: every submission passed or failed with no named diagnosis.</p>{% endif %}
{% for table in rate_tables %}
<h2 id="rates-{{ loop.index0 }}">Pass rates {{ table.by }}</h2>
<table class="data rates"><thead><tr><th scope="col">{{ table.column }}</th><th scope="col" class="r">pass</th><th scope="col" class="r">of</th><th scope="col" class="r">rate</th><th scope="col" class="barcol"><span hidden>bar</span></th></tr></thead>
<tbody>{% for r in table.rows %}<tr><th scope="row">{{ r.label }}</th><td class="r num">{{ r.passed }}</td><td class="r num">{{ r.total }}</td><td class="r num">{{ '%.0f' % (100 * r.fraction) }}%</td>
<td class="barcol"><svg width="120" height="12" role="img" aria-label="{{ '%.0f' % (100 * r.fraction) }}%"><rect class="box" x="0" y="1" width="120" height="10"/><rect class="bar" x="0" y="1" width="{{ '%.1f' % (120 * r.fraction) }}" height="10"/></svg></td></tr>{% endfor %}</tbody></table>
{% endfor %}
<h2 id="students">Students</h2>
<table class="data"><thead><tr><th scope="col">submission</th><th scope="col" class="r">score</th><th scope="col">verdict</th><th scope="col">first diagnosis</th></tr></thead>
<tbody>{% for st in students %}<tr><td><a href="#{{ st.anchor }}">{{ st.path }}</a></td><td class="r num">{{ st.score }}</td><td class="{{ 'ok' if st.passed else 'bad' }}">{{ 'PASS' if st.passed else 'FAIL' }}</td><td>{% if st.diagnosis %}<code>{{ st.diagnosis }}</code>{% endif %}</td></tr>{% endfor %}</tbody></table>
<h2 id="slowest">Slowest submissions</h2>
<table class="data"><thead><tr><th scope="col">submission</th><th scope="col" class="r">seconds</th></tr></thead>
<tbody>{% for path, sec in s.slowest %}<tr><td>{% if path in anchors %}<a href="#{{ anchors[path] }}">{{ path }}</a>{% else %}{{ path }}{% endif %}</td><td class="r num">{{ '%.1f' % sec }}</td></tr>{% endfor %}</tbody></table>
<h2 id="flagged">Flagged for review</h2>
<p class="muted">A static scan of the source; flags cost no points.</p>
{% if s.flagged %}<ul>{% for path, lines in s.flagged %}<li>{% if path in anchors %}<a href="#{{ anchors[path] }}">{{ path }}</a>{% else %}{{ path }}{% endif %}<ul>{% for line in lines %}<li><code>{{ line }}</code></li>{% endfor %}</ul></li>{% endfor %}</ul>{% else %}<p>None.</p>{% endif %}
<h2 id="reports">Each student's report</h2>
{% for st in students %}<details class="report"><summary>{{ st.path }}: <span class="{{ 'ok' if st.passed else 'bad' }}">{{ 'PASS' if st.passed else 'FAIL' }}</span> {{ st.score }}</summary>
{% with r = st.view, level = 3 %}{% include "student.html" %}{% endwith %}</details>
{% endfor %}
</main>
<style>details.report:target, details.report:has(:target) { outline: 2px solid var(--fg); }</style>
{% endblock %}"""


def page(summary, report_list, *, title="Class report", scores=None, points=None, rates=None):
    """The whole class page. scores: the score each report counts for (default its own, else the
    assignment's); points: per report, the assignment's points in words, or None; rates: tables of
    pass-rate rows as (by, column, [Rate]) (default: one table, by section)."""
    scores = scores if scores is not None else [r.score for r in report_list]
    points = points or [None] * len(report_list)
    anchors = {r.path: f"student-{i}" for i, r in enumerate(report_list)}
    students = [dict(anchor=anchors[r.path], path=r.path, passed=r.passed, score=f"{score:g}",
                     diagnosis=r.diagnoses[0][0] if r.diagnoses else None,
                     view=student.view(r, anchor=anchors[r.path], points=p, flags=flag_lines(r)))
                for r, score, p in zip(report_list, scores, points)]
    histogram = bars([(f"{low:.3g}", count, f"{count} scored {low:.3g} to {high:.3g}")
                      for low, high, count in summary.histogram],
                     title=f"scores ({summary.n} submissions)", xlabel=f"score out of {summary.max_score:g}",
                     last_edge=f"{summary.max_score:.3g}")
    diagnosis_chart = bars([(d, k, f"{d}: {k} student{'s' * (k != 1)}") for d, k, _ in summary.diagnoses],
                           title="diagnoses", xlabel="students", horizontal=True)
    tables = rates if rates is not None else [("by section", "section", section_rates(report_list))]
    return render(PAGE, title=title, s=summary, elapsed=f"{summary.elapsed:.0f} s", mean=f"{summary.mean:.2f}",
                  top=f"{summary.max_score:g}", n_pass=sum(r.passed for r in report_list), anchors=anchors,
                  histogram=histogram, diagnosis_chart=diagnosis_chart, students=students,
                  rate_tables=[dict(by=by, column=column, rows=rows) for by, column, rows in tables])
