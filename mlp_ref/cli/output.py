"""How every subcommand speaks: strict JSON on stdout, and refusals as one line on stderr.

Exit codes mean the same in every subcommand: 0 ok, 1 a real failure (a mismatch, a failed
submission, an unsupported claim), 2 bad input or environment.
"""
import json
import math
import sys

OK, FAILED, BAD_INPUT = 0, 1, 2


def strict_json(value):
    """JSON has no NaN or Infinity: non-finite floats become the strings "nan", "inf", "-inf"."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    return value


def dumps(value, **kwargs):
    """Strict JSON text (no NaN or Infinity tokens, which strict parsers and Gradescope reject)."""
    return json.dumps(strict_json(value), indent=1, allow_nan=False, **kwargs)


def refuse(command, message):
    """One line on stderr, `mlp-ref COMMAND: message`; returns the bad-input exit code."""
    print(f"mlp-ref {command}: {message}", file=sys.stderr)
    return BAD_INPUT
