"""`mlp-ref parity`: the main job. Anchor tasks by default; one custom task when --f/--g/--loss is given.

--hidden and the optimizer flags apply to either. Each flag's rule is its type (flag_types); which
optimizer takes which flag is checked with the other combinations (combos), before any work.
"""
import re
import sys

from mlp_ref import functional, losses
from mlp_ref.cli import combos
from mlp_ref.cli import flag_types as ft
from mlp_ref.cli.output import dumps, refuse
from mlp_ref.parity import OPTIM_ARGS, OPTIMIZER_FLAGS, Diverged, ParityConfig, anchor_configs, run_parity


def add_arguments(p):
    d = ParityConfig()
    p.add_argument("--n-in", type=ft.count(), default=d.n_in, help="input width D (default %(default)s)")
    p.add_argument("--n-hidden", type=ft.count(), default=None, help=f"hidden width H (default {d.n_hidden})")
    p.add_argument("--hidden", type=ft.widths, metavar="H1,H2,..",
                   help="hidden widths of a deep model, e.g. 64,32 (instead of --n-hidden)")
    p.add_argument("--n-out", type=ft.count(), default=d.n_out, help="output width K (default %(default)s)")
    p.add_argument("--batch", type=ft.count(), default=d.batch, help="mini-batch size N (default %(default)s)")
    p.add_argument("--steps", type=ft.count(ft.MAX_STEPS), default=d.steps, help="training steps (default %(default)s)")
    p.add_argument("--lr", type=ft.real(0.0), default=None,
                   help=f"learning rate (default {d.lr}; the deep anchor keeps its own unless given; "
                        f"{combos.NO_ZERO_GRAD_LR:g} with --no-zero-grad)")
    p.add_argument("--seed", type=ft.seed(), default=d.seed, help="parameter and data seed (default %(default)s)")
    p.add_argument("--optim", choices=tuple(OPTIM_ARGS),
                   help="torch.optim's rule for both sides (default: plain SGD; Adam for the deep anchor)")
    p.add_argument("--momentum", type=ft.real(0.0), help="sgd, rmsprop: momentum (default 0)")
    p.add_argument("--dampening", type=ft.real(), help="sgd: dampening (default 0)")
    p.add_argument("--nesterov", action="store_true", default=None, help="sgd: Nesterov momentum (needs --momentum)")
    p.add_argument("--weight-decay", type=ft.real(0.0), help="every optimizer: weight decay (decoupled for adamw)")
    p.add_argument("--betas", type=ft.betas, metavar="B1,B2", help="adam, adamw: default 0.9,0.999")
    p.add_argument("--eps", type=ft.real(0.0), help="adam, adamw, rmsprop: eps (default 1e-8)")
    p.add_argument("--amsgrad", action="store_true", default=None, help="adam, adamw: AMSGrad's running max of v")
    p.add_argument("--alpha", type=ft.real(0.0), help="rmsprop: smoothing constant (default 0.99)")
    p.add_argument("--centered", action="store_true", default=None, help="rmsprop: centered variance")
    p.add_argument("--f", choices=functional.HIDDEN_ACTIVATIONS, help="hidden activation: a custom task instead of the anchors")
    p.add_argument("--g", choices=functional.OUTPUT_ACTIVATIONS, help="output activation (custom task)")
    p.add_argument("--loss", choices=losses.LOSSES, help="loss (custom task)")
    p.add_argument("--reduction", choices=losses.REDUCTIONS, default=None, help="default: sum, mean for ce")
    p.add_argument("--negative-slope", type=ft.real(), default=d.negative_slope,
                   help="leaky_relu slope, with --f or --g leaky_relu (default %(default)s)")
    p.add_argument("--norm", choices=("batch", "layer"), default=None,
                   help="each hidden layer Linear -> norm -> f (-> dropout): nn.BatchNorm1d or nn.LayerNorm")
    p.add_argument("--dropout", type=ft.real(0.0, 1.0, hi_open=True), default=None,
                   help="inverted dropout after each hidden f, drop probability p in [0, 1) (default 0)")
    p.add_argument("--norm-eps", type=ft.real(0.0, lo_open=True), default=None,
                   help=f"the norm's eps, inside the square root (default {d.norm_eps:g}; with --norm)")
    p.add_argument("--norm-momentum", type=ft.real(0.0, 1.0), default=None,
                   help=f"batch norm's running-statistics momentum, torch's meaning (default {d.norm_momentum:g}; "
                        "with --norm batch)")
    p.add_argument("--dtype", choices=("float64", "float32", "both"), default="both",
                   help="floating-point type of both sides; 'both': a run in each (default)")
    p.add_argument("--device", choices=("cpu", "cuda", "all"), default="all",
                   help="'all': cpu, and cuda when torch.cuda.is_available() (default)")
    p.add_argument("--no-zero-grad", action="store_true", help="never zero the gradients: both sides accumulate")
    p.add_argument("--resync", choices=("auto", "always", "never"), default="auto",
                   help="copy the reference's parameters into the twin after each step, so each step is judged "
                        "on its own rounding, not on accumulated drift; auto: float32 and batch norm (default)")
    p.add_argument("--json", action="store_true", help="print the report as JSON with a top-level boolean 'ok'")
    p.add_argument("--max-memory", type=ft.parse_bytes, metavar="SIZE",
                   help="refuse a run estimated to need more (e.g. 4G; default: half the available memory)")


LAYER_FLAGS = ("norm", "dropout", "norm_eps", "norm_momentum")


def options(args):
    """The ParityConfig fields the flags set; only those given, so the anchors keep their own otherwise."""
    out = {k: getattr(args, k) for k in ("optim", "lr", *OPTIMIZER_FLAGS, *LAYER_FLAGS) if getattr(args, k) is not None}
    if args.hidden is not None:
        out["n_hidden"] = args.hidden
    elif args.n_hidden is not None:
        out["n_hidden"] = args.n_hidden
    return out


def configs(args):
    import torch

    dtypes = ("float64", "float32") if args.dtype == "both" else (args.dtype,)
    if args.device == "all":
        devices = ("cpu", "cuda") if torch.cuda.is_available() else ("cpu",)
    else:
        devices = (args.device,)
    common = dict(batch=args.batch, steps=args.steps, n_in=args.n_in, n_out=args.n_out, seed=args.seed,
                  zero_grad=not args.no_zero_grad, negative_slope=args.negative_slope, resync=args.resync,
                  **options(args))
    if args.f is None and args.g is None and args.loss is None:
        if args.reduction is not None:
            common["reduction"] = args.reduction
        return anchor_configs(dtypes, devices, **common)
    loss = args.loss or ("ce" if args.g == "softmax" else "mse")
    task = dict(f=args.f or "relu", g=args.g or losses.OUTPUTS.get(loss, ("identity",))[0], loss=loss,
                reduction=args.reduction or ("mean" if loss == "ce" else "sum"))
    return [ParityConfig(**common, **task, dtype=dt, device=dev) for dev in devices for dt in dtypes]


def quantities(report):
    """The table's rows: y_hat, loss, every parameter gradient and parameter (gamma and beta too),
    the running statistics, eval-mode y_hat, then each state buffer kind (its worst over the parameters)."""
    names = [name for _, names in report.stages for name in names]
    params = [n for n in names if re.fullmatch(r"(W|b|gamma|beta)\d+", n)]
    order = {"W": 0, "b": 1, "gamma": 2, "beta": 3}

    def key(p):
        match = re.fullmatch(r"([a-zA-Z]+)(\d+)", p)
        return int(match[2]), order[match[1]]
    params.sort(key=key)
    statistics = [n for n in names if n.startswith("running_")]
    kinds = list(dict.fromkeys(n.split("[")[0] for n in names if "[" in n))
    evaluation = ["eval:y_hat"] if "eval:y_hat" in names else []
    return ["y_hat", "loss", *(f"d{p}" for p in params), *params, *statistics, *evaluation], kinds


def table(report):
    """One block per run: the worst error per quantity over all steps, and the verdict."""
    c = report.config
    hidden = c.n_hidden if isinstance(c.n_hidden, (list, tuple)) else [c.n_hidden]
    widths = " -> ".join(str(w) for w in (c.n_in, *hidden, c.n_out))
    tol = report.steps[0].comparisons[0]
    lines = [f"{c.name}: {widths}, batch {c.batch}, {c.steps} step{'s' * (c.steps != 1)}, lr {c.lr:g}, "
             f"tolerance atol {tol.atol:g} + rtol {tol.rtol:g}*|torch|"]
    worst = report.worst()
    names, kinds = quantities(report)
    rows = [(name, *worst[name]) for name in names if name in worst]
    for kind in kinds:  # the worst buffer of the kind: failing first, then by error over allowance
        of_kind = [worst[n] for n in worst if n.startswith(kind + "[")]
        if of_kind:
            step, comp = max(of_kind, key=lambda sc: (not sc[1].ok, sc[1].max_abs / sc[1].atol))
            rows.append((kind, step, comp))
    width = max(8, *(len(r[0]) for r in rows))
    lines.append(f"  {'quantity':<{width}} {'max |err|':>10} {'max rel':>10} {'at step':>8}  verdict")
    for name, step, comp in rows:
        lines.append(f"  {name:<{width}} {comp.max_abs:>10.2e} {comp.max_rel:>10.2e} {step:>8}  {'ok' if comp.ok else 'FAIL'}")
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
