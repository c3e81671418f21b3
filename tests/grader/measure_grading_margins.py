"""Measure the grading tolerance's two margins on the zoo: how far each correct-style file (a legitimate
reformulation) moves each quantity, and how far beyond the allowance each bug lands.

    .venv/bin/python tests/grader/measure_grading_margins.py [--dtype float32|float64]

For every graded quantity (y_hat, J, dJdy_hat, dW1, db1, dW2, db2): the worst error over the
correct-style files as a fraction of its allowance (headroom; the goal is <= 0.1) and relative to the
tensor's largest |torch| element; then each bug's worst error / allowance (the goal is >= 10).
tests/grader/test_grader_zoo.py asserts both margins; this prints where they come from (docs/grading.md).
"""
import argparse
import concurrent.futures
from pathlib import Path

from mlp_ref.packs.dlsp_hw1 import grade

ZOO = Path(__file__).parent / "zoo"
QUANTITIES = ("y_hat", "J", "dJdy_hat", "dW2", "db2", "dW1", "db1")


def manifest():
    from zoo import manifest as module  # this folder is on sys.path, as for pytest
    return module


def per_quantity(report):
    """{quantity: (worst headroom, worst |error| / max |torch|)} over the report's graded cases."""
    out = {}
    for c in report.graded:
        for name, (h, r) in c.worst.items():
            h0, r0 = out.get(name, (0.0, 0.0))
            out[name] = (max(h0, h), max(r0, r))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    args = p.parse_args()
    m = manifest()
    names = sorted(n for n, e in m.EXPECTED.items() if n.startswith(("correct_", "bug_")))
    grade.answers(dtype=args.dtype)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        reports = dict(zip(names, pool.map(lambda n: grade.grade(ZOO / n, dtype=args.dtype), names)))
    correct = [n for n in names if m.EXPECTED[n]["passed"] and reports[n].passed]
    print(f"correct-style files ({len(correct)}), graded in {args.dtype}: worst error per quantity")
    print(f"  {'quantity':10s} {'/ allowance':>12s} {'/ max|torch|':>13s}  file")
    for q in QUANTITIES:
        rows = [(per_quantity(reports[n]).get(q, (0.0, 0.0)), n) for n in correct]
        (h, r), n = max(rows)
        print(f"  {q:10s} {h:12.3g} {r:13.3g}  {n}")
    print(f"  overall headroom: {max(reports[n].headroom_graded() for n in correct):.3g} (goal <= 0.1)")
    print("bugs: worst error / allowance over the failing cases that compared numbers")
    margins = {}
    for n in names:
        if n.startswith("bug_"):
            seen = [c.headroom for c in reports[n].graded if c.passed is False and c.failure is not None]
            margins[n] = max(seen) if seen else None
    for n, h in sorted(margins.items(), key=lambda kv: (kv[1] is None, kv[1] or 0)):
        print(f"  {n:42s} {'crash or contract only' if h is None else f'{h:.3g}x'}")
    print(f"  smallest: {min(h for h in margins.values() if h is not None):.3g}x (goal >= 10)")


if __name__ == "__main__":
    main()
