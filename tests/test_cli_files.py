"""Outputs are written whole or not at all, with one-to-one names; sizes parse as a user writes them."""
import argparse
import os

import pytest

from mlp_ref import memory
from mlp_ref.cli import files
from mlp_ref.cli.flag_types import parse_bytes


def test_an_atomic_write_replaces_the_file_whole_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "results.json"
    target.write_text("old")
    os.chmod(target, 0o640)
    files.write_atomic(target, "new")
    assert target.read_text() == "new" and os.stat(target).st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_a_write_that_fails_midway_leaves_the_old_file(tmp_path, monkeypatch):
    """Negative control for the rename: if writing fails, the old results survive intact."""
    target = tmp_path / "results.json"
    target.write_text("old")

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        files.write_atomic(target, "new")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["results.json"]


@pytest.mark.parametrize("a, b", [("x__y/z.py", "x/y__z.py"), ("a%2Fb.py", "a/b.py"), ("a%252F.py", "a%2F.py")])
def test_result_names_are_one_to_one(a, b):
    assert files.result_name(a) != files.result_name(b)
    assert "/" not in files.result_name(a)


@pytest.mark.parametrize("text, expected", [("2G", 2 * 2 ** 30), ("512M", 512 * 2 ** 20), ("1.5g", 3 * 2 ** 29),
                                            ("1000000", 10 ** 6), ("64MiB", 64 * 2 ** 20), ("4kb", 4096)])
def test_memory_sizes_parse(text, expected):
    assert parse_bytes(text) == expected


@pytest.mark.parametrize("text", ["", "lots", "-5G", "0", "nan", "inf", "1e999", "2X"])
def test_bad_memory_sizes_are_refused(text):
    with pytest.raises(argparse.ArgumentTypeError, match="expected a memory size"):
        parse_bytes(text)


def test_the_memory_check_names_the_estimate_and_the_limit():
    assert memory.check("run", 10, limit=10) == 10
    with pytest.raises(memory.TooLarge, match=r"run: would need about 2.0 KiB, over the memory limit of 1.0 KiB"):
        memory.check("run", 2048, limit=1024)
    assert memory.default_limit() > 0


def _traced_peak(fn):
    import tracemalloc

    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_parity_estimate_bounds_what_numpy_and_python_allocate():
    """tracemalloc sees NumPy's arrays and Python's objects (not torch's): those alone must fit."""
    from mlp_ref.parity import ParityConfig, run_parity

    run_parity(ParityConfig(steps=1))  # torch's import and first-call caches are not the run's
    config = ParityConfig(n_in=40, n_hidden=120, n_out=10, batch=200, steps=4)
    peak = _traced_peak(lambda: run_parity(config).to_dict())
    assert peak <= memory.parity_bytes((40, 120, 10), 200, 4, as_json=True)
    long = ParityConfig(n_in=3, n_hidden=4, n_out=2, batch=2, steps=300)
    assert _traced_peak(lambda: run_parity(long)) <= memory.parity_bytes((3, 4, 2), 2, 300)


def test_the_parity_estimate_bounds_a_deep_adam_run_and_counts_its_comparisons():
    from mlp_ref.parity import ParityConfig, run_parity

    run_parity(ParityConfig(steps=1, n_hidden=[4, 4], optim="adam"))  # first-call caches are not the run's
    config = ParityConfig(n_in=20, n_hidden=[30, 25, 20], n_out=5, batch=50, steps=200, optim="adam", lr=1e-3)
    report = None

    def run():
        nonlocal report
        report = run_parity(config)
    peak = _traced_peak(run)
    widths = (20, 30, 25, 20, 5)
    assert len(report.steps[0].comparisons) == memory.compared_per_step(widths, state_buffers=2)
    assert peak <= memory.parity_bytes(widths, 50, 200, state_buffers=3)


def test_the_parity_estimate_bounds_a_batch_norm_dropout_run_and_counts_its_comparisons():
    from mlp_ref.parity import ParityConfig, run_parity

    run_parity(ParityConfig(steps=1, n_hidden=[4, 4], norm="batch", dropout=0.2, optim="adam"))
    config = ParityConfig(n_in=20, n_hidden=[30, 25], n_out=5, batch=50, steps=40, optim="adam", lr=1e-3,
                          norm="batch", dropout=0.3)
    report = None

    def run():
        nonlocal report
        report = run_parity(config)
    peak = _traced_peak(run)
    widths = (20, 30, 25, 5)
    assert len(report.steps[0].comparisons) == memory.compared_per_step(widths, 2, "batch", True)
    assert peak <= memory.parity_bytes(widths, 50, 40, state_buffers=3, norm="batch", dropout=True)
    layer = run_parity(ParityConfig(n_hidden=[6, 5], norm="layer", steps=1))
    assert len(layer.steps[0].comparisons) == memory.compared_per_step((5, 6, 5, 3), 0, "layer", False)


def test_the_explain_estimate_bounds_the_derivation_and_its_json():
    from mlp_ref.cli.explain import to_json
    from mlp_ref.cli.output import dumps
    from mlp_ref.explain.derivation import default_problem, derive

    dumps(to_json(derive(default_problem())))  # first-call caches are not the run's
    problem = default_problem(n_in=6, n_hidden=40, n_out=5, batch=8)
    peak = _traced_peak(lambda: dumps(to_json(derive(problem))))
    assert peak <= memory.explain_bytes(6, 40, 5, 8)
