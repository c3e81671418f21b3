"""python -m mlp_ref.bench.summary RESULTS.json: the table of a pytest-benchmark run.

Per size and dtype: numpy, torch and jax.jit step medians, numpy's ratio to each, the numpy step's GFLOP/s and its
share of numpy's own GEMM rate on the same shapes (same run), and the five stages' medians.
Both sides were timed in one process: trust the paired runner (python -m mlp_ref.bench) for ratios.
"""
import json
import sys

from mlp_ref.bench.workloads import DTYPES, SIZES, step_flops

STAGES = ("forward", "loss", "zero_grad", "backward", "step")


def fmt(seconds):
    if seconds is None:
        return "-"
    return f"{seconds * 1e6:.1f} us" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"


def medians(results):
    """{(size, dtype, side or stage): median seconds}"""
    out = {}
    for b in results["benchmarks"]:
        info = b["extra_info"]
        if {"size", "dtype", "side"} <= set(info):
            out[(info["size"], info["dtype"], info.get("stage", info["side"]))] = b["stats"]["median"]
    return out


def table(results):
    m, info = medians(results), results["machine_info"]
    cpu = info.get("cpu", {}).get("brand_raw", info.get("processor", "?"))
    lines = [f"machine: {cpu}, {info.get('cpu', {}).get('count', '?')} cores; python {info.get('python_version')}",
             f"numpy BLAS: {info.get('numpy_blas')}", f"torch BLAS: {info.get('torch_blas')}",
             "pytest-benchmark medians, both sides in this one process (thread variables set)", "",
             "| size (batch, D->H->K) | dtype | numpy step | torch step | numpy/torch | jax.jit step | numpy/jax | torch cuda | "
             "numpy GFLOP/s | % of numpy GEMM rate | " + " | ".join(STAGES) + " |",
             "|---|---|---|---|---|---|---|---|---|---|" + "---|" * len(STAGES)]
    for name, size in SIZES.items():
        flops = step_flops(size)
        for dtype in DTYPES:
            t_np, t_torch, t_jax, gemm = (m.get((name, dtype, side)) for side in ("numpy", "torch", "jax", "gemm"))
            if t_np is None:
                continue
            ratio = f"{t_np / t_torch:.3f}" if t_torch else "-"
            jax_ratio = f"{t_np / t_jax:.3f}" if t_jax else "- (jax absent)"
            share = f"{100 * gemm / t_np:.0f}%" if gemm else "-"
            stages = " | ".join(fmt(m.get((name, dtype, s))) for s in STAGES)
            lines.append(f"| {size.label} | {dtype} | {fmt(t_np)} | {fmt(t_torch)} | {ratio} | {fmt(t_jax)} | {jax_ratio} | "
                         f"{fmt(m.get((name, dtype, 'torch-cuda')))} | {flops / t_np / 1e9:.1f} | {share} | {stages} |")
    lines.append("(a GEMM share over 100% means the GEMM-only benchmark stalled more than the step: OpenBLAS's "
                 "main thread spin-waits for its second thread, which cannot run while other work holds the other core)")
    others = [b for b in results["benchmarks"] if b["extra_info"].get("size") not in SIZES]
    if others:
        lines += ["", "other benchmarks in this run (median):"]
        lines += [f"  {b['group']}: {b['name']}  {fmt(b['stats']['median'])}" for b in others]
    return "\n".join(lines)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m mlp_ref.bench.summary RESULTS.json (from pytest --benchmark-json)")
        return 2
    with open(argv[0]) as f:
        print(table(json.load(f)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
