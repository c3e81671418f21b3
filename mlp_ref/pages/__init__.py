"""HTML views of the project's reports: each page is one self-contained file (inline CSS and SVG,
MathML for the equations, nothing fetched when it opens), rendered from data the engines already
made, never recomputed.

    layout.py     the shared shell: Jinja2 with autoescape, CSS (light, dark, print), heat-mapped
                  matrices, MathML from plain formulas, SVG bar charts
    explain.py    `mlp-ref explain --html`: the chain rule, factor by factor, and a student's departures
    student.py    `mlp-ref check FILE --html`: one submission's report
    classpage.py  `mlp-ref check FOLDER --html`: the class report, each student's report inside it
"""
