"""`mlp-ref demo NAME`: measure one textbook claim (or `all`), print the table and the verdict.

Exit 0 when every claim run is supported by its numbers, 1 when one is not, 2 on bad arguments.
"""
import io
import time
from pathlib import Path

from mlp_ref import demos
from mlp_ref.cli import files
from mlp_ref.cli import flag_types as ft
from mlp_ref.cli.output import dumps, refuse


def add_arguments(p):
    p.add_argument("name", choices=demos.NAMES + ("all",), help="which demo; 'all' runs every one")
    p.add_argument("--plot", metavar="FILE.png", help="also draw the numbers with matplotlib (pip install 'mlp_ref[plot]'); "
                   ".png is added to a name without a suffix; .pdf and .svg work too")
    p.add_argument("--seed", type=ft.seed(), default=0, help="seed for every random draw (default %(default)s)")
    p.add_argument("--json", action="store_true", help="print the findings as JSON with a top-level boolean 'ok'")


def plot(findings, path):
    """One panel per demo, written to `path` (a PNG) with the Agg backend: no display needed."""
    try:
        import matplotlib
    except ImportError:
        raise ValueError("--plot: needs matplotlib, which is not installed; pip install 'mlp_ref[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = min(3, len(findings))
    rows = -(-len(findings) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.5 * cols, 4.2 * rows), squeeze=False)
    for ax, finding in zip(axes.flat, findings):
        demos.module(finding.name).plot(finding.numbers, ax)
    for ax in list(axes.flat)[len(findings):]:
        ax.set_visible(False)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, dpi=90, format=Path(path).suffix[1:].lower())
    plt.close(fig)
    files.write_atomic(path, buf.getvalue())


def run(args):
    names = demos.NAMES if args.name == "all" else (args.name,)
    start = time.perf_counter()
    findings = [demos.run(name, args.seed) for name in names]
    total = time.perf_counter() - start
    ok = all(f.supported for f in findings)
    if args.json:
        print(dumps({"ok": ok, "seconds": total, "findings": [
            {"name": f.name, "claim": f.claim, "supported": f.supported, "because": f.because,
             "header": list(f.header), "rows": [list(r) for r in f.rows], "seconds": f.seconds} for f in findings]},
            default=str))
    else:
        for f in findings:
            print(demos.render(f) + "\n")
        if len(findings) > 1:
            n_ok = sum(f.supported for f in findings)
            print(f"demo all: {n_ok}/{len(findings)} claims supported by their numbers in {total:.1f} s -> "
                  + ("OK" if ok else "FAIL: " + ", ".join(f.name for f in findings if not f.supported)))
    if args.plot:
        try:
            plot(findings, args.plot)
        except (ValueError, OSError) as e:
            return refuse("demo", e)
        if not args.json:
            print(f"plot written to {args.plot}")
    return 0 if ok else 1
