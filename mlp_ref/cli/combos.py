"""Checks that span flags, run after parsing and before any work: conflicts, flags that would be
silently ignored (refused, so a user never believes a flag took effect when it did not), output
paths, and the memory a run would need. Each raises ValueError with one line naming the flag.
"""
import argparse
import importlib.util
from pathlib import Path

from mlp_ref import losses, memory
from mlp_ref.cli import files

_UNSET = object()
# With --no-zero-grad the gradient grows with every step, so the effective step does too; this lr
# keeps the default run (100 steps, batch 16) from diverging (the usual 0.02 overflows near step 22).
NO_ZERO_GRAD_LR = 0.001


def given(parser, argv):
    """The dests a user typed on the command line (not left at their defaults)."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    saved = []
    for p in sub.choices.values():
        for a in p._actions:
            if a.dest != "help":
                saved.append((a, a.default))
                a.default = _UNSET
    try:
        ns, _ = parser.parse_known_args(argv)
    finally:
        for a, default in saved:
            a.default = default
    return {k for k, v in vars(ns).items() if v is not _UNSET and not k.startswith("_") and k != "command"}


def _flag(dest):
    return "--" + dest.replace("_", "-")


def _activation_pair(g, loss, g_flag="--g"):
    if g is not None:
        losses.check_output(g_flag, loss, g)


def _slope_used(args, typed, f):
    """--negative-slope only with a leaky_relu to take it (a flag that would be ignored is refused)."""
    if "negative_slope" in typed and "leaky_relu" not in (args.f, args.g):
        raise ValueError(f"--negative-slope: only leaky_relu uses it, expected --f leaky_relu or --g leaky_relu, "
                         f"got f={f!r}")


LIMIT_HOW = "--max-memory sets the limit; default: half the available memory"


def _sizes(args, *dests):
    return " ".join(f"{_flag(d)} {getattr(args, d)}" for d in dests)


def _limit(args):
    return args.max_memory if getattr(args, "max_memory", None) else memory.default_limit()


def widths(args):
    """(D, H..., K) from --n-in, --n-hidden (or a list --hidden) and --n-out."""
    hidden = getattr(args, "hidden", None)
    if not isinstance(hidden, (list, tuple)):
        from mlp_ref.parity import ParityConfig  # parity's --n-hidden is None unless given
        hidden = [args.n_hidden or ParityConfig.n_hidden]
    return (args.n_in, *hidden, args.n_out)


def parity(args, typed):
    custom = args.f is not None or args.g is not None or args.loss is not None
    _activation_pair(args.g, args.loss)
    _slope_used(args, typed, args.f or ("relu" if custom else "the anchors"))
    if args.device == "cuda":
        import torch  # only here: the other checks must not pay torch's import

        if not torch.cuda.is_available():
            raise ValueError("--device: expected cpu or all on this machine (torch.cuda.is_available() is False), "
                             "got cuda")
    if args.no_zero_grad and "lr" not in typed:
        args.lr = NO_ZERO_GRAD_LR
    _optimizer(args, typed)
    _layers(args, typed)
    if "hidden" in typed and "n_hidden" in typed:
        raise ValueError("--hidden: expected either --hidden (a deep model) or --n-hidden (one hidden layer), got both")
    runs = (1 if custom else 5) * (2 if args.dtype == "both" else 1) * (2 if args.device == "all" else 1)
    dtype = "float32" if args.dtype == "float32" else "float64"
    memory.check(_sizes(args, "n_in", "hidden" if args.hidden else "n_hidden", "n_out", "batch", "steps"),
                 memory.parity_bytes(widths(args), args.batch, args.steps, dtype, runs, args.json,
                                     state_buffers=_state_buffers(args, custom),
                                     # the anchors include one with batch norm and dropout
                                     norm=args.norm or (None if custom else "batch"),
                                     dropout=bool(args.dropout) or not custom), _limit(args), LIMIT_HOW)


def _layers(args, typed):
    """--norm-eps needs a --norm to take it, --norm-momentum batch norm (an ignored flag is refused)."""
    if "norm_eps" in typed and args.norm is None:
        raise ValueError(f"--norm-eps: only a norm uses it, so expected --norm batch or --norm layer, got no --norm")
    if args.norm == "batch" and args.batch < 2:
        raise ValueError(f"--batch: batch norm in training needs more than 1 sample per batch, so expected --batch "
                         f">= 2 with --norm batch, got {args.batch}")
    if "norm_momentum" in typed and args.norm != "batch":
        got = f"--norm {args.norm}" if args.norm else "no --norm"
        raise ValueError(f"--norm-momentum: only batch norm's running statistics use it, so expected --norm batch, "
                         f"got {got}")


def _state_buffers(args, custom):
    """The most parameter-sized state buffers a run's optimizer keeps (the deep anchor's Adam: 3)."""
    if args.optim in ("adam", "adamw", "rmsprop") or (args.optim is None and not custom):
        return 3
    return 1 if args.momentum else 0


def _optimizer(args, typed):
    """Each optimizer flag must be one the chosen --optim takes (an ignored flag is refused), and
    Nesterov needs momentum without dampening, as torch requires."""
    from mlp_ref.parity import OPTIM_ARGS, OPTIMIZER_FLAGS

    for dest in OPTIMIZER_FLAGS:
        if dest in typed and (args.optim is None or dest not in OPTIM_ARGS[args.optim]):
            takers = [name for name, taken in OPTIM_ARGS.items() if dest in taken]
            got = f"--optim {args.optim}" if args.optim else "no --optim (plain SGD)"
            raise ValueError(f"{_flag(dest)}: an argument of {' and '.join(takers)} only, so expected --optim "
                             f"{' or '.join(takers)}, got {got}")
    if args.nesterov and (not args.momentum or args.dampening):
        raise ValueError(f"--nesterov: needs --momentum > 0 and --dampening 0, as torch requires; got momentum "
                         f"{args.momentum or 0:g}, dampening {args.dampening or 0:g}")


PROBLEM_FLAGS = ("f", "g", "loss", "reduction", "n_in", "n_hidden", "n_out", "batch", "seed", "negative_slope")


def explain(args, typed):
    if getattr(args, "norm", None) is not None:
        for dest in ("input", "write_input"):
            if dest in typed:
                raise ValueError(f"{_flag(dest)}: --norm batch derives its own small model, so expected one or the "
                                 f"other, got both")
        if "batch" not in typed:
            args.batch = 4  # with 2 samples z_hat is +-1 whatever z: a degenerate first example
        _activation_pair(args.g, args.loss)
        _slope_used(args, typed, args.f)
        memory.check(_sizes(args, "n_hidden", "batch") + " --norm batch",
                     memory.batchnorm_explain_bytes(args.n_hidden, args.batch), _limit(args), LIMIT_HOW)
        return
    if args.input is not None:
        clash = [d for d in PROBLEM_FLAGS if d in typed]
        if clash:
            raise ValueError(f"{_flag(clash[0])}: the problem comes from --input {args.input!r}, so "
                             f"{', '.join(_flag(d) for d in clash)} would be ignored; expected one or the other")
    if args.write_input is not None:
        if args.json:
            raise ValueError("--json: --write-input writes the problem and prints no report; expected one or the other")
        files.check_output("--write-input", args.write_input, inputs=(args.input,))
    if args.html is not None:
        if args.write_input is not None:
            raise ValueError("--html: --write-input writes the problem and draws no page; expected one or the other")
        files.check_output("--html", args.html, inputs=(args.input,))
    if args.input is None:
        _activation_pair(args.g, args.loss)
        _slope_used(args, typed, args.f)
        memory.check(_sizes(args, "n_in", "n_hidden", "n_out", "batch"),
                     memory.explain_bytes(args.n_in, args.n_hidden, args.n_out, args.batch), _limit(args), LIMIT_HOW)


PLOT_FORMATS = (".png", ".pdf", ".svg")


def demo(args, typed):
    if args.plot is None:
        return
    if importlib.util.find_spec("matplotlib") is None:
        raise ValueError("--plot: needs matplotlib, which is not installed; pip install 'mlp_ref[plot]'")
    path = Path(args.plot)
    if path.is_dir() or str(args.plot).endswith(("/", "\\")):
        raise ValueError(f"--plot: expected an image file name such as plot.png, got {args.plot!r}, which is a folder")
    if path.suffix == "":
        args.plot = str(path.with_suffix(".png"))
    elif path.suffix.lower() not in PLOT_FORMATS:
        raise ValueError(f"--plot: expected a file name ending in {', '.join(PLOT_FORMATS)}, got {args.plot!r}")
    files.check_output("--plot", args.plot)


def _assignment(args, typed):
    """The --config's Assignment, checked against its pack (ConfigError is a ValueError naming the key), kept on
    args with the pack (args._pack)."""
    from mlp_ref.grader import config  # only here: the other checks must not pay their imports
    from mlp_ref.packs import assignment as course

    try:
        args._pack, assignment = course.load(args.config)
    except config.ConfigError as e:
        raise ValueError(f"--config {args.config}: {e}") from None
    args._assignment = assignment
    return assignment


def _config_pack(args):
    """The pack name the --config gives ([assignment] pack), or None when there is none or the file cannot be
    read (the full check of the config reports that)."""
    from mlp_ref.grader import config

    try:
        return config.pack_name(config.read(args.config), None)
    except (config.ConfigError, ValueError, OSError):
        return None


def check(args, typed):
    from mlp_ref import packs
    from mlp_ref.cli import check_pack
    from mlp_ref.cli.check import TEMPLATES

    named = _config_pack(args) if args.config is not None else None
    if args.assignment is None and named not in (None, packs.DEFAULT) and named in packs.names():
        args.assignment = named  # the config's pack grades, as --assignment would (an unknown one: refused below)
    if args.assignment is not None:
        return check_pack.validate(args, typed)
    for dest in ("variant", "out"):
        if dest in typed:
            raise ValueError(f"--{dest}: applies to --assignment; expected it left out")
    if args.template is not None and args.template not in TEMPLATES:
        raise ValueError(f"--template: expected one of {', '.join(TEMPLATES)}, got {args.template!r}")
    if args.template is not None:
        extra = sorted(d for d in typed if d != "template")
        if extra:
            what = "a path" if extra[0] == "path" else _flag(extra[0])
            raise ValueError(f"--template: prints a blank submission and exits, so {what} would be ignored; "
                             "expected --template alone")
        return
    if args.path is None:
        raise ValueError("path: expected a submission .py or .ipynb file or a folder (or --template NAME), got nothing")
    path = Path(args.path)
    if not path.exists():
        raise ValueError(f"path: expected a submission .py or .ipynb file or a folder, got {args.path!r}, "
                         "which does not exist")
    if not path.is_dir() and path.suffix not in (".py", ".ipynb"):
        raise ValueError(f"path: expected a submission .py or .ipynb file or a folder, got {args.path!r}, "
                         "which is not a .py file or a notebook (.ipynb)")
    if not path.is_dir():
        for dest in ("csv", "jobs", "report", "plot"):
            if dest in typed:
                raise ValueError(f"{_flag(dest)}: applies to a folder of submissions (a class), got the single "
                                 f"file {args.path!r}")
    if args.only:
        from mlp_ref.packs.dlsp_hw1 import config  # only here: the other checks must not pay its import

        try:
            args.only = config.sections_named([n.strip() for arg in args.only for n in arg.split(",") if n.strip()])
        except ValueError as e:
            raise ValueError(f"-k/--only: {e}") from None
    if args.case_timeout > args.timeout:
        raise ValueError(f"--case-timeout: expected at most --timeout ({args.timeout:g} s, the whole battery), "
                         f"got {args.case_timeout:g}")
    if args.plot is not None and importlib.util.find_spec("matplotlib") is None:
        raise ValueError("--plot: needs matplotlib, which is not installed; pip install 'mlp_ref[plot]'")
    outputs = [(flag, getattr(args, dest)) for flag, dest in (("--gradescope", "gradescope"), ("--csv", "csv"),
                                                              ("--report", "report"), ("--plot", "plot"),
                                                              ("--html", "html"))
               if getattr(args, dest) is not None]
    for flag, out in outputs:
        if path.is_dir():
            files.check_output(flag, out, graded=path, folder=flag == "--gradescope")
        else:
            files.check_output(flag, out, inputs=(path,))
    for i, (flag, out) in enumerate(outputs):
        for other, earlier in outputs[:i]:
            if files._same(out, earlier):
                raise ValueError(f"{flag}: expected a path other than {other}'s, got {out!r} for both")
    args._assignment = _assignment(args, typed) if args.config is not None else None


def autograder(args, typed):
    if args.run_in is not None:
        return  # run_autograder's call: whatever is wrong goes into results.json, never a refusal
    if Path(args.out).suffix != ".zip":
        raise ValueError(f"--out: expected a file name ending .zip, got {args.out!r}")
    files.check_output("--out", args.out, inputs=(args.config,))
    _assignment(args, typed)


COMMANDS = {"parity": parity, "explain": explain, "demo": demo, "check": check, "autograder": autograder}
