"""mlp-ref: parse arguments, set the thread variables, call one thing.

Each subcommand lives in its own module with `add_arguments(parser)` and `run(args) -> exit code`;
COMMANDS maps the name to that module, imported only when the command runs.
"""
import argparse
import importlib
import os
import sys

# Before numpy or torch can load (mlp_ref/__init__ sets them too; here for a reader of the entry point).
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

COMMANDS = {
    "parity": ("mlp_ref.parity_cli", "run the reference and its torch twin side by side and compare every step"),
    "explain": ("mlp_ref.explain_cli", "print one small MLP's gradients as products of explicit Jacobians, three ways side by side"),
    "demo": ("mlp_ref.demos.cli", "measure a textbook claim about MLPs (vanishing, softmax, ..., or all) and say if the numbers support it"),
    "check": ("mlp_ref.grader.check_cli", "grade a hand-written backprop (a file, or every *.py in a folder) against torch, with diagnoses"),
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
