"""Step time against batch size and width: where the step turns from overhead-bound to GEMM-bound.

Two sweeps in float32, D = H = K = width: batch 1..4096 at width 256, and width 16..2048 at
batch 64. The GEMM share (the five GEMMs alone / the whole numpy step, same shapes) says what
bounds the numpy step: near 0 per-call overhead, near 1 the BLAS.
"""
from mlp_ref.bench.workloads import Size, step_flops

BATCHES = (1, 4, 16, 64, 256, 1024, 4096)
WIDTHS = (16, 32, 64, 128, 256, 512, 1024, 2048)
BATCH_AT_WIDTH, WIDTH_AT_BATCH = 256, 64
DTYPE = "float32"


def points():
    """(sweep, Size) for both sweeps."""
    return ([("batch", Size(f"N={n}", n, BATCH_AT_WIDTH, BATCH_AT_WIDTH, BATCH_AT_WIDTH)) for n in BATCHES]
            + [("width", Size(f"W={w}", WIDTH_AT_BATCH, w, w, w)) for w in WIDTHS])


def run(numpy_w, torch_w, budget):
    """One turn per side per point (numpy, torch, numpy's GEMMs), in the paired workers."""
    rows = []
    for sweep, size in points():
        args = [list(size[1:]), DTYPE]
        t_np = numpy_w.time("numpy", args, budget)
        t_torch = torch_w.time("torch", args, budget)
        t_gemm = numpy_w.time("gemm", args, budget)
        flops = step_flops(size)
        rows.append(dict(sweep=sweep, N=size.N, width=size.H, numpy_s=t_np, torch_s=t_torch,
                         numpy_gflops=flops / t_np / 1e9, torch_gflops=flops / t_torch / 1e9,
                         gemm_share=t_gemm / t_np))
    return rows


def table(rows):
    lines = [f"scaling ({DTYPE}, D = H = K = width; one turn per point, so read trends, not digits)",
             "| sweep | batch N | width | numpy step | torch step | numpy/torch | numpy GFLOP/s | torch GFLOP/s "
             "| GEMM share of numpy step | bound by |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        bound = "GEMM" if r["gemm_share"] >= 0.5 else "overhead"
        lines.append(f"| {r['sweep']} | {r['N']} | {r['width']} | {r['numpy_s'] * 1e6:.0f} us | "
                     f"{r['torch_s'] * 1e6:.0f} us | {r['numpy_s'] / r['torch_s']:.2f} | {r['numpy_gflops']:.1f} | "
                     f"{r['torch_gflops']:.1f} | {100 * r['gemm_share']:.0f}% | {bound} |")
    return "\n".join(lines)


def plot(rows, path):
    """Step time against batch and width, both sides, log-log; a message when matplotlib is absent."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "--plot: matplotlib is not installed (pip install -e '.[plot]'); table only"
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, sweep, key, fixed in ((axes[0], "batch", "N", f"width {BATCH_AT_WIDTH}"),
                                  (axes[1], "width", "width", f"batch {WIDTH_AT_BATCH}")):
        sub = [r for r in rows if r["sweep"] == sweep]
        for side in ("numpy", "torch"):
            ax.loglog([r[key] for r in sub], [r[f"{side}_s"] * 1e6 for r in sub], "o-", label=side)
        ax.set(xlabel=f"{key} ({fixed})", ylabel="step time (us)", title=f"one SGD step, {DTYPE}")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return f"plot written to {path}"
