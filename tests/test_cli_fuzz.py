"""Fuzz the command line: random flag values (numbers, signs, nan/inf, huge values, strings, missing
and clashing flags) for every subcommand, and random JSON for explain --input. Every run must end in
0, 1 or 2, quickly, with no traceback, and touch no file outside its temporary folder.

Sizes are drawn tiny or huge: tiny runs finish in milliseconds, huge ones must be refused by the
memory estimate (--max-memory keeps that limit small), so the whole file stays within seconds.
"""
import collections
import contextlib
import io
import json
import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlp_ref.cli.main import main

REPO = Path(__file__).resolve().parents[1]
# Exit codes seen per fuzzed command: a fuzz that only ever reaches refusals (or never does) tests little.
OUTCOMES = collections.defaultdict(collections.Counter)
SECONDS = 20  # per run; a tiny run takes well under one
CONTROL = "harness control"  # the planted misbehaviours' label, left out of the coverage count
FUZZ = settings(max_examples=40, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

def mostly(valid, invalid):
    """Valid values three times out of four: a run refused at its first bad flag tests nothing after it."""
    return st.one_of(valid, valid, valid, invalid)


SIZE = mostly(st.integers(1, 3), st.one_of(st.integers(-2, 0), st.sampled_from(
    ["10" * 9, str(2 ** 64), "0x10", "1e3", "", "nan"])))
STEPS = mostly(st.integers(1, 3), st.one_of(st.integers(-2, 0), st.sampled_from([str(10 ** 12), "1.5", "-0"])))
REAL = mostly(st.floats(0, 2, allow_nan=False).map(repr), st.one_of(
    st.sampled_from(["nan", "inf", "-inf", "-0.0", "1e308", "1e999", "-1", "abc", "", "0x1p-3"]),
    st.floats(-10, 10, allow_nan=False).map(repr)))
SEED = mostly(st.integers(0, 3), st.sampled_from([str(2 ** 70), "x", "1.5", "-1"]))
WORD = st.text(alphabet="abcxyz_-./%", max_size=8)


def _flags(table):
    """Some of the flags in `table` (flag -> strategy for its value, None for a switch), in any order."""
    return st.lists(st.sampled_from(sorted(table)), max_size=4, unique=True).flatmap(
        lambda chosen: st.tuples(*[st.just([f]) if table[f] is None else table[f].map(lambda v, f=f: [f, str(v)])
                                   for f in chosen]) if chosen else st.just(()))


PARITY = {"--n-in": SIZE, "--n-hidden": SIZE, "--n-out": SIZE, "--batch": SIZE, "--steps": STEPS, "--lr": REAL,
          "--seed": SEED, "--negative-slope": REAL,
          "--f": st.sampled_from(["relu", "leaky_relu", "tanh", "sigmoid", "identity", "softmax", "gelu"]),
          "--g": st.sampled_from(["identity", "sigmoid", "softmax", "relu", "tanh", "nope"]),
          "--loss": st.sampled_from(["mse", "bce", "ce", "l1"]), "--reduction": st.sampled_from(["sum", "mean", "x"]),
          "--dtype": st.sampled_from(["float64", "float32", "both", "float16"]),
          "--device": st.sampled_from(["cpu", "all", "cuda", "tpu"]),
          "--resync": st.sampled_from(["auto", "always", "never", "x"]), "--no-zero-grad": None, "--json": None,
          "--max-memory": st.sampled_from(["64M", "1K", "0", "-5G", "lots", "1e3"])}
EXPLAIN = {"--n-in": SIZE, "--n-hidden": SIZE, "--n-out": SIZE, "--batch": SIZE, "--seed": SEED,
           "--negative-slope": REAL, "--f": PARITY["--f"], "--g": PARITY["--g"], "--loss": PARITY["--loss"],
           "--reduction": PARITY["--reduction"], "--json": None, "--input": WORD, "--write-input": WORD,
           "--max-memory": PARITY["--max-memory"]}
DEMO = {"--seed": SEED, "--json": None, "--plot": st.sampled_from(["p.png", "noext", ".", "/proc/p.png", "x.gif", ""])}
SECONDS_FLAG = mostly(st.floats(5, 20).map(repr), REAL)
CHECK = {"--json": None, "--strict": None, "--jobs": SIZE, "--timeout": SECONDS_FLAG,
         "--case-timeout": mostly(st.floats(0.5, 5).map(repr), REAL),
         "--memory-mb": SIZE, "--gradescope": WORD, "--csv": WORD,
         "--template": st.sampled_from(["homework", "numpy", "other"])}


@pytest.fixture(scope="module")
def sandbox_dir(tmp_path_factory):
    """A temporary working folder with a few inputs, and a fingerprint of the repository to compare after."""
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "broken.py").write_text("def oops(:\n")  # grades in a blink: fails at import
    (folder / "notes.txt").write_text("not a submission")
    (folder / "empty").mkdir()
    (folder / "subs").mkdir()
    (folder / "subs" / "broken.py").write_text("def oops(:\n")
    before = _fingerprint()
    yield folder
    assert _fingerprint() == before, "a fuzzed run changed a file in the repository"
    for command, codes in OUTCOMES.items():
        if command == CONTROL:
            continue
        assert codes[2] >= 3 and codes[0] + codes[1] >= 1, (command, dict(codes))


def _fingerprint():
    out = {}
    for root, dirs, files in os.walk(REPO):
        dirs[:] = [d for d in dirs if d not in (".git", ".venv", "__pycache__", ".pytest_cache", ".hypothesis")]
        for f in files:
            p = os.path.join(root, f)
            out[p] = os.stat(p).st_mtime_ns
    return out


def run_cli(argv, folder):
    """main(argv) with cwd in `folder`; its exit code, stderr and seconds."""
    err = io.StringIO()
    cwd = os.getcwd()
    os.chdir(folder)
    t0 = time.perf_counter()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            code = main(argv)
    finally:
        os.chdir(cwd)
    return code, err.getvalue(), time.perf_counter() - t0


def assert_clean(argv, folder, label=None):
    code, err, seconds = run_cli(argv, folder)
    OUTCOMES[label or argv[0]][code] += 1
    assert code in (0, 1, 2), (argv, code, err)
    assert "Traceback" not in err, (argv, err)
    assert seconds < SECONDS, (argv, seconds)
    if code == 2:
        assert err.strip() and err.strip().splitlines()[-1].startswith("mlp-ref"), (argv, err)
    return code, err


def _argv(command, head, pairs):
    return [command, *head, *[x for pair in pairs for x in pair]]


@FUZZ
@given(pairs=_flags(PARITY))
def test_parity_flags(sandbox_dir, pairs):
    # The memory limit keeps every huge size a quick refusal; a user-given --max-memory replaces it.
    argv = _argv("parity", [], pairs)
    # Left out, --steps would be the default 100: kept tiny here; huge sizes meet a small memory limit.
    argv += [] if "--steps" in argv else ["--steps", "2"]
    argv += [] if "--max-memory" in argv else ["--max-memory", "64M"]
    assert_clean(argv, sandbox_dir)


@FUZZ
@given(pairs=_flags(EXPLAIN))
def test_explain_flags(sandbox_dir, pairs):
    argv = _argv("explain", [], pairs)
    if "--max-memory" not in argv:
        argv += ["--max-memory", "64M"]
    assert_clean(argv, sandbox_dir)


@settings(FUZZ, max_examples=10)
@given(name=st.sampled_from(["vanishing", "linear-collapse", "dead-relu", "activations", "softmax", "nope", ""]),
       pairs=_flags(DEMO))
def test_demo_flags(sandbox_dir, name, pairs):
    assert_clean(_argv("demo", [name], pairs), sandbox_dir)


@settings(FUZZ, max_examples=20)
@given(path=st.sampled_from([[], ["broken.py"], ["broken.py"], ["notes.txt"], ["empty"], ["subs"], ["subs"],
                             ["missing.py"], ["x.ipynb"]]),
       pairs=_flags(CHECK))
def test_check_flags(sandbox_dir, path, pairs):
    before = (sandbox_dir / "broken.py").read_bytes()
    assert_clean(_argv("check", path, pairs), sandbox_dir)
    assert (sandbox_dir / "broken.py").read_bytes() == before, "a submission was overwritten"


# --- explain --input with random JSON -------------------------------------------------------------
LEAF = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=True, allow_infinity=True),
                 st.text(max_size=4), st.sampled_from(["1.0", "relu", "sigmoid", "bce", "mse", "ce", "mean"]))
JSON = st.recursive(LEAF, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                  st.dictionaries(st.text(max_size=5), inner, max_size=4)),
                    max_leaves=20)
KEYS = ("x", "y", "W1", "b1", "W2", "b2", "f", "g", "loss", "reduction", "negative_slope", "mine")


@pytest.fixture(scope="module")
def valid_problem(sandbox_dir):
    code, err, _ = run_cli(["explain", "--write-input", "valid.json"], sandbox_dir)
    assert code == 0, err
    # The unmodified problem runs through: the coverage count then never rests on a lucky draw.
    assert assert_clean(["explain", "--input", "valid.json"], sandbox_dir, "explain --input")[0] == 0
    return json.loads((sandbox_dir / "valid.json").read_text())


@FUZZ
@given(replace=st.dictionaries(st.sampled_from(KEYS), JSON, max_size=3),
       drop=st.lists(st.sampled_from(KEYS), max_size=2), whole=st.one_of(st.none(), JSON))
def test_explain_input_random_json(sandbox_dir, valid_problem, replace, drop, whole):
    data = whole if whole is not None else {k: v for k, v in {**valid_problem, **replace}.items() if k not in drop}
    (sandbox_dir / "fuzz.json").write_text(json.dumps(data))  # NaN and Infinity tokens included on purpose
    code, err = assert_clean(["explain", "--input", "fuzz.json"], sandbox_dir, "explain --input")
    if not isinstance(data, dict) or any(k not in data for k in KEYS[:9]):
        assert code == 2, (data, err)


def test_the_harness_catches_a_crash_a_bad_exit_code_and_a_silent_refusal(sandbox_dir, monkeypatch):
    """Negative control: the assertions above must fail for each kind of misbehaviour they look for."""
    from mlp_ref.cli import demo

    def crash(args):
        raise RuntimeError("planted")

    for planted, expected in ((crash, RuntimeError), (lambda args: 3, AssertionError), (lambda args: 2, AssertionError)):
        monkeypatch.setattr(demo, "run", planted)
        with pytest.raises(expected):
            assert_clean(["demo", "softmax"], sandbox_dir, CONTROL)
