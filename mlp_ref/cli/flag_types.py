"""Argument types for the command line: each flag is checked as it is parsed, before any work.

A flag's rule is one `type=` in its add_argument line (a new flag is one line). A value that breaks
the rule becomes one line on stderr, `mlp-ref COMMAND: --flag: expected ..., got ...`, exit 2.
Combinations of flags are checked afterwards, in combos.py.
"""
import argparse
import math
import re

# Caps that keep a typo from meaning "run for a day": each is far above any sensible use.
MAX_STEPS = 100_000
MAX_SEED = 2 ** 63 - 1
MAX_SECONDS = 24 * 3600.0
MAX_JOBS = 256


class Parser(argparse.ArgumentParser):
    """argparse, with every refusal as one line (no usage block) and exit code 2."""

    def error(self, message):
        # argparse says "argument --batch: ..."; the flag alone reads better and matches the other refusals.
        message = re.sub(r"^argument ([^:]+): ", lambda m: m.group(1).split("/")[-1] + ": ", message)
        self.exit(2, f"{self.prog}: {message}\n")


def _got(text):
    return repr(text) if isinstance(text, str) else str(text)


def integer(lo, hi=None, what="an integer"):
    """An int in [lo, hi]: '3' and '3e0' no, '1.5' no, 'nan' no."""
    def parse(text):
        try:
            value = int(text, 10)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"expected {what}, got {_got(text)}") from None
        if value < lo or (hi is not None and value > hi):
            bound = "" if hi is None and what.startswith("a positive") else (
                f" >= {lo}" if hi is None else f" in [{lo}, {hi}]")
            raise argparse.ArgumentTypeError(f"expected {what}{bound}, got {value}")
        return value
    parse.__name__ = "integer"  # argparse names the type in some messages
    return parse


def count(hi=None, what="a positive integer"):
    """A size or count: an int >= 1 (0 samples or -2 steps have no meaning)."""
    return integer(1, hi, what)


def seed():
    return integer(0, MAX_SEED, "a seed (an integer)")


def real(lo=None, hi=None, *, lo_open=False, hi_open=False, what="a finite number"):
    """A finite float in [lo, hi] ((lo, .. with lo_open, .., hi) with hi_open): nan, inf and 1e999 are refused."""
    def parse(text):
        try:
            value = float(text)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"expected {what}, got {_got(text)}") from None
        below = lo is not None and (value <= lo if lo_open else value < lo)
        above = hi is not None and (value >= hi if hi_open else value > hi)
        if not math.isfinite(value) or below or above:
            low = "" if lo is None else (f"> {lo:g}" if lo_open else f">= {lo:g}")
            high = "" if hi is None else (f"< {hi:g}" if hi_open else f"<= {hi:g}")
            bound = " and ".join(b for b in (low, high) if b)
            raise argparse.ArgumentTypeError(f"expected {what}{' ' + bound if bound else ''}, got {_got(text)}")
        return value
    parse.__name__ = "real"
    return parse


def widths(text):
    """'64,32' -> [64, 32]: the hidden widths of a deep model, each a positive integer."""
    try:
        values = [int(part, 10) for part in str(text).split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected hidden widths separated by commas, like 64,32, "
                                         f"got {_got(text)}") from None
    if min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive widths, like 64,32, got {_got(text)}")
    return values


widths.__name__ = "widths"


def betas(text):
    """'0.9,0.999' -> (0.9, 0.999): Adam's two decay rates, each in [0, 1) as torch requires."""
    parts = str(text).split(",")
    try:
        values = tuple(float(part) for part in parts)
    except ValueError:
        values = ()
    if len(values) != 2:
        raise argparse.ArgumentTypeError(f"expected two numbers separated by a comma, like 0.9,0.999, got {_got(text)}")
    for i, b in enumerate(values):
        if not (math.isfinite(b) and 0 <= b < 1):
            raise argparse.ArgumentTypeError(f"expected beta{i + 1} in [0, 1), got {_got(text)}")
    return values


betas.__name__ = "betas"


def seconds(hi=MAX_SECONDS):
    return real(0.0, hi, lo_open=True, what="a finite number of seconds")


_UNITS = {"": 1, "b": 1, "k": 2 ** 10, "m": 2 ** 20, "g": 2 ** 30, "t": 2 ** 40}


def parse_bytes(text):
    """'2G', '512M', '1.5g', '1000000' -> bytes (binary units, an optional trailing 'B' or 'iB')."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([kmgt]?)(?:i?b)?\s*", str(text).lower())
    value = float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")
    if not (math.isfinite(value) and value >= 1):
        raise argparse.ArgumentTypeError(f"expected a memory size such as 2G, 512M or 1000000 (bytes), "
                                         f"got {_got(text)}")
    return int(value)


parse_bytes.__name__ = "memory size"
