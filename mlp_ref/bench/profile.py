"""python -m mlp_ref.bench.profile [SIZE] [DTYPE]: where one numpy step's time goes, stage by stage.

Each of the five stages is timed alone on a live model mid-step (workloads.numpy_stages), next to
the whole step, in turns over a few rounds, each the fastest of its blocks of calls; the stages' sum and the whole step
differ by what one stage leaves in the caches for the next.
"""
import sys

from mlp_ref.bench.paired import measure
from mlp_ref.bench.workloads import SIZES, numpy_stages, numpy_step


def profile(size, dtype, budget=0.2, rounds=5):
    """{stage: seconds per call} for the five stages, then "whole step": the fastest of `rounds`
    rounds that time each in turn (other work on the machine only ever adds time)."""
    _, stages = numpy_stages(SIZES[size], dtype)
    stages["whole step"] = numpy_step(SIZES[size], dtype)
    out = {}
    for _ in range(rounds):
        for name, fn in stages.items():
            out[name] = min(out.get(name, float("inf")), measure(fn, budget))
    return out


def table(size, dtype, times):
    step = times["whole step"]
    lines = [f"{SIZES[size].label} {dtype}: the numpy step by stage", "| stage | time | share of the step |",
             "|---|---|---|"]
    for name, t in times.items():
        if name != "whole step":
            lines.append(f"| {name} | {t * 1e6:.1f} us | {t / step:.0%} |")
    lines.append(f"| sum of the stages | {sum(t for k, t in times.items() if k != 'whole step') * 1e6:.1f} us | |")
    lines.append(f"| whole step | {step * 1e6:.1f} us | 100% |")
    return "\n".join(lines)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    size = argv[0] if argv else "tiny"
    dtype = argv[1] if len(argv) > 1 else "float32"
    if size not in SIZES or dtype not in ("float32", "float64") or len(argv) > 2:
        print(f"usage: python -m mlp_ref.bench.profile [SIZE: one of {', '.join(SIZES)}] [float32|float64]")
        return 2
    print(table(size, dtype, profile(size, dtype)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
