"""`mlp-ref parity`: the main job. Anchor tasks by default; one custom task when --f/--g/--loss is given."""
import sys

from mlp_ref import functional, losses
from mlp_ref.cli import combos
from mlp_ref.cli import flag_types as ft
from mlp_ref.cli.output import dumps, refuse
from mlp_ref.parity import Diverged, ParityConfig, anchor_configs, run_parity

QUANTITIES = ("y_hat", "loss", "dW1", "db1", "dW2", "db2", "W1", "b1", "W2", "b2")


def add_arguments(p):
    d = ParityConfig()
    p.add_argument("--n-in", type=ft.count(), default=d.n_in, help="input width D (default %(default)s)")
    p.add_argument("--n-hidden", type=ft.count(), default=d.n_hidden, help="hidden width H (default %(default)s)")
    p.add_argument("--n-out", type=ft.count(), default=d.n_out, help="output width K (default %(default)s)")
    p.add_argument("--batch", type=ft.count(), default=d.batch, help="mini-batch size N (default %(default)s)")
    p.add_argument("--steps", type=ft.count(ft.MAX_STEPS), default=d.steps, help="training steps (default %(default)s)")
    p.add_argument("--lr", type=ft.real(0.0), default=d.lr,
                   help=f"SGD learning rate (default %(default)s; {combos.NO_ZERO_GRAD_LR:g} with --no-zero-grad)")
    p.add_argument("--seed", type=ft.seed(), default=d.seed, help="parameter and data seed (default %(default)s)")
    p.add_argument("--f", choices=functional.HIDDEN_ACTIVATIONS, help="hidden activation: a custom task instead of the anchors")
    p.add_argument("--g", choices=functional.OUTPUT_ACTIVATIONS, help="output activation (custom task)")
    p.add_argument("--loss", choices=losses.LOSSES, help="loss (custom task)")
    p.add_argument("--reduction", choices=losses.REDUCTIONS, default=None, help="default: sum, mean for ce")
    p.add_argument("--negative-slope", type=ft.real(), default=d.negative_slope,
                   help="leaky_relu slope, with --f or --g leaky_relu (default %(default)s)")
    p.add_argument("--dtype", choices=("float64", "float32", "both"), default="both",
                   help="floating-point type of both sides; 'both': a run in each (default)")
    p.add_argument("--device", choices=("cpu", "cuda", "all"), default="all",
                   help="'all': cpu, and cuda when torch.cuda.is_available() (default)")
    p.add_argument("--no-zero-grad", action="store_true", help="never zero the gradients: both sides accumulate")
    p.add_argument("--resync", choices=("auto", "always", "never"), default="auto",
                   help="copy the reference's parameters into the twin after each step, so each step is judged "
                        "on its own rounding, not on accumulated drift; auto: float32 only (default)")
    p.add_argument("--json", action="store_true", help="print the report as JSON with a top-level boolean 'ok'")
    p.add_argument("--max-memory", type=ft.parse_bytes, metavar="SIZE",
                   help="refuse a run estimated to need more (e.g. 4G; default: half the available memory)")


def configs(args):
    import torch

    dtypes = ("float64", "float32") if args.dtype == "both" else (args.dtype,)
    if args.device == "all":
        devices = ("cpu", "cuda") if torch.cuda.is_available() else ("cpu",)
    else:
        devices = (args.device,)
    common = dict(n_in=args.n_in, n_hidden=args.n_hidden, n_out=args.n_out, batch=args.batch, steps=args.steps,
                  lr=args.lr, seed=args.seed, zero_grad=not args.no_zero_grad, negative_slope=args.negative_slope,
                  resync=args.resync)
    if args.f is None and args.g is None and args.loss is None:
        if args.reduction is not None:
            common["reduction"] = args.reduction
        return anchor_configs(dtypes, devices, **common)
    loss = args.loss or ("ce" if args.g == "softmax" else "mse")
    task = dict(f=args.f or "relu", g=args.g or {"ce": "softmax", "bce": "sigmoid"}.get(loss, "identity"), loss=loss,
                reduction=args.reduction or ("mean" if loss == "ce" else "sum"))
    return [ParityConfig(**common, **task, dtype=dt, device=dev) for dev in devices for dt in dtypes]


def table(report):
    """One block per run: the worst error per quantity over all steps, and the verdict."""
    c = report.config
    lines = [f"{c.name}: {c.n_in} -> {c.n_hidden} -> {c.n_out}, batch {c.batch}, {c.steps} step{'s' * (c.steps != 1)}, lr {c.lr:g}, "
             f"tolerance atol {report.steps[0].comparisons[0].atol:g} + rtol {report.steps[0].comparisons[0].rtol:g}*|torch|",
             f"  {'quantity':<8} {'max |err|':>10} {'max rel':>10} {'at step':>8}  verdict"]
    worst = report.worst()
    for name in QUANTITIES:
        step, comp = worst[name]
        lines.append(f"  {name:<8} {comp.max_abs:>10.2e} {comp.max_rel:>10.2e} {step:>8}  {'ok' if comp.ok else 'FAIL'}")
    lines.append(f"  loss {report.losses[0]:.6g} -> {report.losses[-1]:.6g};  "
                 + ("PASS" if report.ok else "FAIL\n" + report.failure_message()))
    return "\n".join(lines)


def run(args):
    try:
        runs = configs(args)
    except (TypeError, ValueError) as e:
        return refuse("parity", e)
    try:
        reports = [run_parity(c) for c in runs]
    except Diverged as e:
        # A run that fails is a failure (1), not bad input: the arguments were valid.
        print(f"mlp-ref parity: FAIL: {e}", file=sys.stderr)
        return 1
    ok = all(r.ok for r in reports)
    if args.json:
        print(dumps({"ok": ok, "runs": [r.to_dict() for r in reports]}))
    else:
        for r in reports:
            print(table(r) + "\n")
        n_ok = sum(r.ok for r in reports)
        print(f"parity: {n_ok}/{len(reports)} runs match torch step for step -> {'OK' if ok else 'FAIL'}")
    return 0 if ok else 1
