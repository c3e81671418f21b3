"""The class report of a folder run: a progress line while it runs; at the end a score histogram,
how many students have each diagnosis (with one example file), the slowest submissions, the flagged files.
"""
from collections import Counter
from dataclasses import dataclass, field

BINS = 10
SLOWEST = 5
BAR = 40


def _clock(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def _number(x):
    """A score in at most 2 decimals: 10, 5.56 (never 5.555556)."""
    return f"{x:.2f}".rstrip("0").rstrip(".")


def progress_line(done, total, elapsed, current):
    """'graded 12/50  elapsed 0:24  ETA 1:16  now: alice.py' (no ETA before the first one is done)."""
    eta = _clock(elapsed / done * (total - done)) if done else "?"
    return f"graded {done}/{total}  elapsed {_clock(elapsed)}  ETA {eta}  now: {current}"


@dataclass
class ClassSummary:
    n: int
    max_score: float
    scores: list                                    # (path, score)
    histogram: list                                 # (low, high, count), BINS of them
    diagnoses: list = field(default_factory=list)   # (id, students, example path), most common first
    slowest: list = field(default_factory=list)     # (path, seconds)
    flagged: list = field(default_factory=list)     # (path, [Flag.describe() lines])
    elapsed: float = 0.0
    passed: int = 0                                 # submissions that pass (with a config: full marks)

    @property
    def mean(self):
        return sum(s for _, s in self.scores) / self.n if self.n else 0.0


def summarise(reports, scores, max_score, elapsed=0.0):
    """A ClassSummary of reports with their scores (same order) out of max_score."""
    n = len(reports)
    counts = [0] * BINS
    for s in scores:
        counts[min(BINS - 1, int(BINS * s / max_score)) if max_score > 0 else 0] += 1
    width = max_score / BINS if max_score > 0 else 0
    histogram = [(i * width, (i + 1) * width, counts[i]) for i in range(BINS)]
    students, example = Counter(), {}
    for r in reports:
        # An outcome other than a completed run is the class's "diagnosis" too: it needs the same attention.
        ids = [d for d, _, _ in r.diagnoses] + ([f"({r.outcome})"] if r.outcome != "completed" else [])
        for d in dict.fromkeys(ids):
            students[d] += 1
            example.setdefault(d, r.path)
    diagnoses = [(d, k, example[d]) for d, k in sorted(students.items(), key=lambda x: (-x[1], x[0]))]
    slowest = sorted(((r.path, r.seconds) for r in reports), key=lambda x: -x[1])[:SLOWEST]
    flagged = [(r.path, flag_lines(r)) for r in reports if getattr(r, "flags", [])]
    return ClassSummary(n, max_score, list(zip([r.path for r in reports], scores)), histogram, diagnoses, slowest,
                        flagged, elapsed, sum(bool(r.passed) for r in reports))


def markdown(summary, title="Class report"):
    """The summary as Markdown (it reads as plain text on a terminal too)."""
    s = summary
    out = [f"# {title}", "", f"{s.n} submissions graded in {_clock(s.elapsed)}; mean score "
           f"{s.mean:.2f} / {_number(s.max_score)}; {s.passed}/{s.n} pass (full marks).",
           "", "## Scores", "", "```"]
    top = max([c for _, _, c in s.histogram] + [1])
    for low, high, count in s.histogram:
        out.append(f"{low:6.2f} - {high:6.2f} | {'#' * round(BAR * count / top):<{BAR}} {count}")
    out += ["```", "", "## Diagnoses", ""]
    if s.diagnoses:
        out += ["| diagnosis | students | example |", "|---|---:|---|"]
        out += [f"| `{d}` | {k} | {path} |" for d, k, path in s.diagnoses]
    else:
        out.append("none: every submission passed or failed with no named diagnosis.")
    out += ["", "## Slowest submissions", "", "| file | seconds |", "|---|---:|"]
    out += [f"| {path} | {sec:.1f} |" for path, sec in s.slowest]
    out += ["", "## Flagged for review", "", "Static scan of the source; flags cost no points.", ""]
    if s.flagged:
        for path, lines in s.flagged:
            out.append(f"- {path}")
            out += [f"  - {line}" for line in lines]
    else:
        out.append("none.")
    return "\n".join(out) + "\n"


def plot(summary, path):
    """The score histogram and the diagnosis bars, side by side, in a PNG (needs matplotlib)."""
    import matplotlib.pyplot as plt

    fig = figure(summary)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def figure(summary):
    """The plot's matplotlib Figure: scores histogram (left), diagnosis bars (right)."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    s = summary
    width = s.max_score / BINS if s.max_score > 0 else 1
    left.bar([low for low, _, _ in s.histogram], [c for _, _, c in s.histogram], width=width, align="edge",
             edgecolor="black")
    left.set(title=f"scores ({s.n} submissions)", xlabel=f"score out of {s.max_score:g}", ylabel="submissions")
    # Counts of students: whole numbers on both count axes.
    left.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    right.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    names = [d for d, _, _ in s.diagnoses][::-1]
    right.barh(names or ["(none)"], [k for _, k, _ in s.diagnoses][::-1] or [0])
    right.set(title="diagnoses", xlabel="students")
    return fig


def flag_lines(report):
    """The report's integrity flags, one 'kind: token at line N: quote' each (a notebook's lines as cells)."""
    module = getattr(report, "module", None)
    return [f.describe(module.where(f.line) if module else None) for f in getattr(report, "flags", [])]


def flag_text(report):
    """The report's integrity flags in one CSV cell, joined by ' | '."""
    return " | ".join(flag_lines(report))


def csv_columns(reports, scores=None):
    """The columns a folder run adds to the CSV: the assignment's score (with a config), flags, notes."""
    columns = {} if scores is None else {"assignment_score": [_number(s) for s in scores]}
    columns["flags"] = [flag_text(r) for r in reports]
    columns["note"] = [getattr(r, "note", "") for r in reports]
    return columns


# --- a pack's class: one row per unit ------------------------------------------------------------------
UNIT_STATUSES = ("pass", "fail", "missing", "crash", "timeout", "n/a")


@dataclass
class UnitRow:
    name: str
    section: str
    counts: dict                                    # status -> students
    diagnoses: list = field(default_factory=list)   # (id, students), most common first

    @property
    def graded(self):
        return sum(k for s, k in self.counts.items() if s != "n/a")

    @property
    def pass_rate(self):
        """Passes over the students graded on this unit (n/a left out); None when nobody was."""
        return self.counts.get("pass", 0) / self.graded if self.graded else None


def unit_rows(reports, sections):
    """A UnitRow per unit of the pack's sections ({section: (unit, ...)}), from every report's units; the
    units the class got wrong most come first (ties in the pack's order)."""
    rows = []
    for section, names in sections.items():
        for name in names:
            units = [u for r in reports for u in r.units if u.name == name]
            counts = Counter(u.status for u in units)
            diagnoses = Counter(u.diagnosis for u in units if u.diagnosis and u.status != "pass")
            rows.append(UnitRow(name, section, {s: counts.get(s, 0) for s in UNIT_STATUSES},
                                sorted(diagnoses.items(), key=lambda x: (-x[1], x[0]))))
    order = {id(r): i for i, r in enumerate(rows)}
    return sorted(rows, key=lambda r: (1.0 if r.pass_rate is None else r.pass_rate, order[id(r)]))


def units_markdown(reports, sections, title="Class report", points=None):
    """A pack's class report as Markdown: how many pass, then the per-unit pass-rate table (which function the
    class got wrong, with its most common diagnoses). points: (scores, total) under an assignment's config."""
    n = len(reports)
    head = f"{n} submission{'' if n == 1 else 's'} graded; {sum(bool(r.passed) for r in reports)}/{n} pass every unit."
    if points is not None:
        scores, total = points
        mean = sum(scores) / n if n else 0.0
        head += f" Mean points {mean:.2f} / {_number(total)}; {sum(s >= total for s in scores)}/{n} full marks."
    out = [f"# {title}", "", head, "", "## Units: which function the class got wrong", "",
           "| unit | section | pass rate | " + " | ".join(UNIT_STATUSES) + " | most common diagnoses |",
           "|---|---|---:|" + "---:|" * len(UNIT_STATUSES) + "---|"]
    for row in unit_rows(reports, sections):
        rate = "-" if row.pass_rate is None else f"{100 * row.pass_rate:.0f}%"
        diag = ", ".join(f"`{d}` ({k})" for d, k in row.diagnoses[:3]) or "-"
        out.append(f"| `{row.name}` | {row.section} | {rate} | "
                   + " | ".join(str(row.counts[s]) for s in UNIT_STATUSES) + f" | {diag} |")
    return "\n".join(out) + "\n"
