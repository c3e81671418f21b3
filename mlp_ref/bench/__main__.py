"""python -m mlp_ref.bench: the ratio goals, checked with paired processes.

Prints, per size and dtype: numpy, torch eager and jax.jit step times, the medians of the per-round
ratios numpy/torch and numpy/jax (and their ranges), the goals and verdicts, the bare step's ratio to
jax.jit (workloads.bare_step: the fewest NumPy calls a step can make, unchecked; a goal it misses is
beyond any NumPy step), the step's GFLOP/s and its share of numpy's own GEMM rate
on the same shapes measured in the same rounds; then the parity hazard and a scaling table.
"""
import argparse
import json
import os
import platform
import statistics

from mlp_ref.bench import hazard, scaling
from mlp_ref.bench.paired import Worker
from mlp_ref.bench.workloads import JAX_MISSING, SIZES, is_plain, jax_available, step_flops

# (size, dtype): the largest numpy / torch ratio allowed. Sizes below large are judged in float32,
# torch's default dtype; their float64 rows are shown for information.
GOALS = {("tiny", "float32"): 0.10, ("small", "float32"): 0.75, ("medium", "float32"): 1.0,
         ("large", "float32"): 1.2, ("large", "float64"): 1.3, ("deep", "float32"): 1.0,
         ("medium-adam", "float32"): 1.0, **{(s, d): 1.0 for s in ("small-bn", "medium-bn") for d in ("float32", "float64")}}
# (size, dtype): the largest numpy / jax.jit ratio allowed (jax from the optional extra `bench`).
JAX_GOALS = {("tiny", "float32"): 0.5, ("small", "float32"): 0.75, ("medium", "float32"): 0.95,
             ("large", "float32"): 0.95}
GEMM_SHARE_GOAL = {("large", "float32"): 0.85}
HAZARD_GOAL = 1.2
# The numpy Adam step over the numpy SGD step at the medium size, timed in turns in one process.
ADAM_OVER_SGD_GOAL = 1.25
# The deep and Adam sizes are judged in float32 only; their float64 rows would add time, not a goal.
CASES = [(s, d) for s in SIZES for d in ("float32", "float64") if d == "float32" or s not in ("deep", "medium-adam")]


def machine():
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor()) if os.path.exists("/proc/cpuinfo") else platform.processor()
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}"


def load():
    return " ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


def ratio_rows(numpy_w, torch_w, rounds, budget, cases, jax_w=None):
    """Per case, rounds of numpy torch jax jax torch numpy turns (jax_w None: numpy torch torch numpy),
    then numpy's GEMMs alone and (plain sizes) the bare step, the fewest-call floor; the ratios are
    medians of the per-round ratios."""
    rows = []
    for name, dtype in cases:
        size = SIZES[name]
        args = [list(size[1:]), dtype]
        ratios, jax_ratios, shares, t_np, t_torch, t_jax, bare_ratios = [], [], [], [], [], [], []
        for _ in range(rounds):
            a1 = numpy_w.time("numpy", args, budget)
            b1 = torch_w.time("torch", args, budget)
            c = [jax_w.time("jax", args, budget) for _ in range(2)] if jax_w else []
            b2 = torch_w.time("torch", args, budget)
            a2 = numpy_w.time("numpy", args, budget)
            g = numpy_w.time("gemm", args, budget)
            a, b = (a1 + a2) / 2, (b1 + b2) / 2
            ratios.append(a / b)
            shares.append(g / a)
            t_np.append(a)
            t_torch.append(b)
            if c:
                t_jax.append(sum(c) / 2)
                jax_ratios.append(a / t_jax[-1])
                if is_plain(size):
                    bare_ratios.append(numpy_w.time("bare", args, budget) / t_jax[-1])
        a = statistics.median(t_np)
        share = statistics.median(shares)
        row = dict(size=name, label=size.label, dtype=dtype, numpy_s=a, torch_s=statistics.median(t_torch),
                   ratio=statistics.median(ratios), ratio_min=min(ratios), ratio_max=max(ratios),
                   gflops=step_flops(size) / a / 1e9, gemm_share=share,
                   goal=GOALS.get((name, dtype)), share_goal=GEMM_SHARE_GOAL.get((name, dtype)),
                   jax_goal=JAX_GOALS.get((name, dtype)), jax_s=None)
        if jax_ratios:
            row.update(jax_s=statistics.median(t_jax), jax_ratio=statistics.median(jax_ratios),
                       jax_ratio_min=min(jax_ratios), jax_ratio_max=max(jax_ratios),
                       bare_jax_ratio=statistics.median(bare_ratios) if bare_ratios else None)
        rows.append(row)
    return rows


def verdict(row):
    if row["goal"] is None and row["jax_goal"] is None:
        return "(info)"
    short = []
    if row["goal"] is not None and row["ratio"] > row["goal"]:
        short.append(f"torch ratio {row['ratio'] / row['goal'] - 1:+.0%} over")
    if row["jax_goal"] is not None and row["jax_s"] is None:
        short.append("jax ratio not measured (jax absent)")
    elif row["jax_goal"] is not None and row["jax_ratio"] > row["jax_goal"]:
        short.append(f"jax ratio {row['jax_ratio'] / row['jax_goal'] - 1:+.0%} over"
                     + (" (beyond NumPy's floor: the bare step misses it too)"
                        if (row.get("bare_jax_ratio") or 0) > row["jax_goal"] else ""))
    if row["share_goal"] is not None and row["gemm_share"] < row["share_goal"]:
        short.append(f"GEMM share {100 * (row['share_goal'] - row['gemm_share']):.0f} points short")
    return "met" if not short else "MISSED: " + ", ".join(short)


def fmt_time(s):
    return f"{s * 1e6:.1f} us" if s < 1e-3 else f"{s * 1e3:.2f} ms"


def ratio_table(rows):
    lines = ["| size (batch, D->H->K) | dtype | numpy step | torch step | jax.jit step | numpy/torch (median [min-max]) "
             "| goal | numpy/jax (median [min-max]) | goal | bare numpy/jax | numpy GFLOP/s | % of numpy GEMM rate | verdict |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        goal = "-" if r["goal"] is None else f"<= {r['goal']:g}" + (
            f", >= {r['share_goal']:.0%} GEMM" if r["share_goal"] else "")
        jax_goal = "-" if r["jax_goal"] is None else f"<= {r['jax_goal']:g}"
        if r["jax_s"] is None:
            jax_t, jax_ratio, bare = "skipped", "skipped", "skipped"
        else:
            jax_t = fmt_time(r["jax_s"])
            jax_ratio = f"{r['jax_ratio']:.3f} [{r['jax_ratio_min']:.3f}-{r['jax_ratio_max']:.3f}]"
            bare = "-" if r.get("bare_jax_ratio") is None else f"{r['bare_jax_ratio']:.3f}"
        lines.append(f"| {r['label']} | {r['dtype']} | {fmt_time(r['numpy_s'])} | {fmt_time(r['torch_s'])} | {jax_t} | "
                     f"{r['ratio']:.3f} [{r['ratio_min']:.3f}-{r['ratio_max']:.3f}] | {goal} | {jax_ratio} | {jax_goal} | {bare} | "
                     f"{r['gflops']:.1f} | {100 * r['gemm_share']:.0f}% | {verdict(r)} |")
    return "\n".join(lines)


def adam_over_sgd(numpy_w, rounds, budget):
    """Median over rounds of (numpy Adam step) / (numpy SGD step) at the medium size, float32, A B B A."""
    sgd, adam = ([list(SIZES[name][1:]), "float32"] for name in ("medium", "medium-adam"))
    ratios = []
    for _ in range(rounds):
        a1, b1, b2, a2 = (numpy_w.time("numpy", args, budget) for args in (sgd, adam, adam, sgd))
        ratios.append((b1 + b2) / (a1 + a2))
    return dict(ratio=statistics.median(ratios), ratio_min=min(ratios), ratio_max=max(ratios), goal=ADAM_OVER_SGD_GOAL)


def hazard_row(rounds):
    """parity in one process against its numpy and torch sides, each alone in its own process.

    Each turn runs the whole default job once (after one untimed warm-up run); the order of the
    three turns flips every round, so a drift of the machine weighs on both sides of the ratio.
    """
    workers = {side: Worker(side) for side in ("parity", "parity-numpy", "parity-torch")}
    try:
        turns = []
        for r in range(rounds):
            order = list(workers) if r % 2 == 0 else list(workers)[::-1]
            turns.append({side: workers[side].time(side, [], 0, blocks=1) for side in order})
    finally:
        for w in workers.values():
            w.close()
    ratios = [t["parity"] / (t["parity-numpy"] + t["parity-torch"]) for t in turns]
    med = {side: statistics.median(t[side] for t in turns) for side in workers}
    return dict(parity_s=med["parity"], numpy_s=med["parity-numpy"], torch_s=med["parity-torch"],
                ratio=statistics.median(ratios), ratio_min=min(ratios), ratio_max=max(ratios), goal=HAZARD_GOAL,
                control=hazard_control(rounds))


def hazard_control(rounds):
    """Small-size parity with the thread variables and without (spinning threads): the slowdown."""
    quiet, spinning = Worker("parity-small"), Worker("parity-small", env=hazard.SPINNING_ENV)
    try:
        pairs = [(quiet.time("parity-small", [], 0, blocks=1), spinning.time("parity-small", [], 0, blocks=1))
                 for _ in range(rounds)]
    finally:
        quiet.close()
        spinning.close()
    return dict(with_s=statistics.median(a for a, _ in pairs), without_s=statistics.median(b for _, b in pairs),
                slowdown=statistics.median(b / a for a, b in pairs))


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m mlp_ref.bench", description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=7, help="A B B A rounds per case (default %(default)s)")
    p.add_argument("--budget", type=float, default=0.12, help="seconds per timed turn (default %(default)s)")
    p.add_argument("--sizes", nargs="+", choices=tuple(SIZES), default=tuple(SIZES))
    p.add_argument("--hazard-rounds", type=int, default=3,
                   help="rounds of the parity same-process check, each the whole default job (0: skip)")
    p.add_argument("--no-scaling", action="store_true", help="skip the scaling table")
    p.add_argument("--plot", metavar="PNG", help="also plot the scaling table (needs matplotlib)")
    p.add_argument("--json", metavar="PATH", help="write every number measured as JSON")
    p.add_argument("--no-jax", action="store_true", help="leave out the jax.jit side even when jax is installed")
    p.add_argument("--numpy-threads", type=int, metavar="N",
                   help="OPENBLAS_NUM_THREADS for the numpy side (default: OpenBLAS's own, one per core); "
                        "1 avoids the scheduler stalls of 2-thread GEMMs on a busy machine")
    args = p.parse_args(argv)

    numpy_w = Worker("numpy", env=None if args.numpy_threads is None else
                     {"OPENBLAS_NUM_THREADS": str(args.numpy_threads)})
    torch_w = Worker("torch")
    torch_w.ask(side="torch", args=[[1, 2, 3, 2], "float32"], budget=0.01)  # loads torch in its own process
    jax_w = None if args.no_jax or not jax_available() else Worker("jax")
    if jax_w:
        jax_w.ask(side="jax", args=[[1, 2, 3, 2], "float32"], budget=0.01)  # loads jax in its own process
    print(f"machine: {machine()}")
    print(f"numpy BLAS: {numpy_w.ask(info=True)['blas']}")
    print(f"torch BLAS: {torch_w.ask(info=True)['blas']}")
    print("jax.jit: " + ("left out (--no-jax)" if args.no_jax else jax_w.ask(info=True)["blas"] if jax_w else
                         f"rows skipped: {JAX_MISSING}"))
    print(f"method: each side in its own process, numpy torch jax jax torch numpy x {args.rounds} rounds, "
          "median of per-round ratios")
    print(f"load average at start: {load()} (other work on the machine slows numpy's 2-thread BLAS most)\n")
    out = {"machine": machine()}
    try:
        out["ratios"] = ratio_rows(numpy_w, torch_w, args.rounds, args.budget,
                                   [c for c in CASES if c[0] in args.sizes], jax_w)
        print(ratio_table(out["ratios"]))
        if {"medium", "medium-adam"} <= set(args.sizes):
            a = out["adam_over_sgd"] = adam_over_sgd(numpy_w, args.rounds, args.budget)
            print(f"numpy Adam step / numpy SGD step at medium float32: {a['ratio']:.3f} "
                  f"[{a['ratio_min']:.2f}-{a['ratio_max']:.2f}], goal <= {a['goal']:g}: "
                  + ("met" if a["ratio"] <= a["goal"] else f"MISSED by {a['ratio'] / a['goal'] - 1:.0%}"))
        print(f"load average after: {load()}")
        if not args.no_scaling:
            out["scaling"] = scaling.run(numpy_w, torch_w, budget=args.budget / 2)
            print("\n" + scaling.table(out["scaling"]))
            if args.plot:
                print(scaling.plot(out["scaling"], args.plot))
    finally:
        numpy_w.close()
        torch_w.close()
        if jax_w:
            jax_w.close()
    if args.hazard_rounds > 0:
        h = out["hazard"] = hazard_row(args.hazard_rounds)
        print(f"\nparity hazard: `mlp-ref parity` (default) {h['parity_s']:.2f} s in one process; numpy side alone "
              f"{h['numpy_s']:.2f} s + torch side alone {h['torch_s']:.2f} s; ratio {h['ratio']:.2f} "
              f"[{h['ratio_min']:.2f}-{h['ratio_max']:.2f}], goal <= {h['goal']:g}: "
              + ("met" if h["ratio"] <= h["goal"] else f"MISSED by {h['ratio'] / h['goal'] - 1:.0%}"))
        c = h["control"]
        print(f"control: parity at (64, 784->128->10) float32, 20 steps: {c['with_s']:.2f} s with the thread variables, "
              f"{c['without_s']:.2f} s with spinning idle threads ({c['slowdown']:.1f}x): what the variables prevent once "
              "the libraries start threads (the default job is too small to start any)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
