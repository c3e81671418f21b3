"""mlp-ref: the entry point. Parse arguments, call one subcommand, return its exit code.

Each subcommand lives in its own module with `add_arguments(parser)` and `run(args) -> exit code`;
COMMANDS maps the name to that module, imported only when the command runs.
"""
import mlp_ref.env  # noqa: F401  (first: the thread variables must precede numpy and torch)

import argparse  # noqa: E402
import importlib  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

COMMANDS = {
    "parity": ("mlp_ref.cli.parity", "run the reference and its torch twin side by side and compare every step"),
    "explain": ("mlp_ref.cli.explain", "print one small MLP's gradients as products of explicit Jacobians, three ways side by side"),
    "demo": ("mlp_ref.cli.demo", "measure a textbook claim about MLPs (vanishing, softmax, ..., or all) and say if the numbers support it"),
    "check": ("mlp_ref.cli.check", "grade a hand-written backprop (a file, or every *.py in a folder) against torch, with diagnoses"),
}


def build_parser():
    parser = argparse.ArgumentParser(prog="mlp-ref", description="A NumPy MLP with hand-coded backprop, checked against torch.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module)
        importlib.import_module(module).add_arguments(p)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return importlib.import_module(args._module).run(args)
    except BrokenPipeError:
        # The reader (`| head`) went away: not an error of ours; silence the interpreter's flush too.
        sys.stdout = open(os.devnull, "w")
        return 0


if __name__ == "__main__":
    sys.exit(main())
