"""mlp-ref: the entry point. Parse arguments, call one subcommand, return its exit code.

Each subcommand lives in its own module with `add_arguments(parser)` and `run(args) -> exit code`;
COMMANDS maps the name to that module, imported only when the command runs.
"""
import mlp_ref.env  # noqa: F401  (first: the thread variables must precede numpy and torch)

import functools  # noqa: E402
import importlib  # noqa: E402
import importlib.metadata  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

from mlp_ref.cli import combos  # noqa: E402
from mlp_ref.cli.flag_types import Parser  # noqa: E402
from mlp_ref.cli.output import BAD_INPUT, refuse  # noqa: E402

COMMANDS = {
    "parity": ("mlp_ref.cli.parity", "run the reference and its torch twin side by side and compare every step"),
    "explain": ("mlp_ref.cli.explain", "print one small MLP's gradients as products of explicit Jacobians, three ways side by side"),
    "demo": ("mlp_ref.cli.demo", "measure a textbook claim about MLPs (vanishing, softmax, ..., or all) and say if the numbers support it"),
    "check": ("mlp_ref.cli.check", "grade a hand-written backprop (a .py or .ipynb, or a folder of them) against torch, with diagnoses"),
    "autograder": ("mlp_ref.cli.autograder", "build a Gradescope autograder zip from an assignment config (assignment.toml)"),
}


def build_parser():
    parser = Parser(prog="mlp-ref", description="A NumPy MLP with hand-coded backprop, checked against torch.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module)
        importlib.import_module(module).add_arguments(p)
    return parser


@functools.cache  # importlib.metadata reads the installed distributions at every call (about 1 ms)
def _version():
    try:
        return importlib.metadata.version("mlp_ref")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:
            raise ValueError(f"unrecognized arguments: {' '.join(extra)} (see mlp-ref {args.command} --help)")
        # Flags that clash, outputs that cannot be written, sizes past the memory limit: before any work.
        combos.COMMANDS[args.command](args, combos.given(parser, argv))
    except SystemExit as e:  # argparse: --help, --version (0) or a refused value (2, already printed)
        return e.code if isinstance(e.code, int) else BAD_INPUT
    except ValueError as e:
        return refuse(args.command, e)
    try:
        return importlib.import_module(args._module).run(args)
    except BrokenPipeError:
        # The reader (`| head`) went away: not an error of ours; silence the interpreter's flush too.
        sys.stdout = open(os.devnull, "w")
        return 0


if __name__ == "__main__":
    sys.exit(main())
