"""Demos: each measures one textbook claim about MLPs and says whether the numbers support it.

Every demo module has the same four parts, so a test can feed `check` numbers that contradict the claim:
    measure(seed) -> dict of numbers      check(numbers) -> (supported: bool, because: str)
    table(numbers) -> (header, rows)      plot(numbers, ax)  (matplotlib, only for --plot)
and a CLAIM, the sentence the numbers are checked against.
"""
import importlib
import time
from typing import NamedTuple

NAMES = ("vanishing", "softmax", "linear-collapse", "dead-relu", "batch-size", "activations", "optimizers",
         "batch-norm")


def module(name):
    """The demo module for a name from NAMES."""
    if name not in NAMES:
        raise ValueError(f"demo: expected one of {NAMES + ('all',)}, got {name!r}")
    return importlib.import_module(f"mlp_ref.demos.{name.replace('-', '_')}")


class Finding(NamedTuple):
    name: str
    claim: str
    supported: bool
    because: str
    header: tuple
    rows: list
    numbers: dict
    seconds: float


def run(name, seed=0):
    """Measure, check and tabulate one demo."""
    m = module(name)
    start = time.perf_counter()
    numbers = m.measure(seed)
    supported, because = m.check(numbers)
    header, rows = m.table(numbers)
    return Finding(name, m.CLAIM, supported, because, tuple(header), rows, numbers, time.perf_counter() - start)


def _cell(v):
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.4g}" if v == 0 or 1e-3 <= abs(v) < 1e4 else f"{v:.2e}"
    return str(v)


def render(finding):
    """The table, aligned, then one line: the claim, the numbers behind it, and the verdict."""
    cells = [[_cell(v) for v in row] for row in finding.rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(finding.header)]
    line = lambda row: "  " + "  ".join(f"{c:>{w}}" for c, w in zip(row, widths))  # noqa: E731
    out = [f"demo {finding.name}", line(finding.header), "  " + "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    verdict = "supported by these numbers" if finding.supported else "NOT supported by these numbers"
    out.append(f"claim: {finding.claim}; {finding.because} -> {verdict}")
    return "\n".join(out)
