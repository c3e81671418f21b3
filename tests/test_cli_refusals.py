"""Bad command lines: each refused before any work with one line on stderr naming the flag, what was
expected and what came (exit 2); a run that fails exits 1; outputs never overwrite an input."""
import json
import re
import shutil
from pathlib import Path

import pytest

from mlp_ref.cli.main import main

ZOO = Path(__file__).parent / "grader" / "zoo"
CORRECT = ZOO / "correct_einsum.py"


def refused(argv, capsys, *words):
    code = main(argv)
    out = capsys.readouterr()
    lines = out.err.strip().splitlines()
    assert code == 2, (code, out.err)
    assert len(lines) == 1 and lines[0].startswith("mlp-ref "), out.err
    assert "Traceback" not in out.err and out.out == ""
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


@pytest.mark.parametrize("argv, words", [
    (["parity", "--steps", "0"], ["--steps", "expected a positive integer", "got 0"]),
    (["parity", "--steps", "-5"], ["--steps", "got -5"]),
    (["parity", "--batch", "0"], ["--batch", "expected a positive integer, got 0"]),
    (["parity", "--batch", "-2"], ["--batch", "got -2"]),
    (["parity", "--lr", "nan"], ["--lr", "expected a finite number >= 0", "got 'nan'"]),
    (["parity", "--lr", "inf"], ["--lr", "got 'inf'"]),
    (["parity", "--lr", "-0.5"], ["--lr", "got '-0.5'"]),
    (["parity", "--negative-slope", "nan", "--f", "leaky_relu"], ["--negative-slope", "finite", "got 'nan'"]),
    (["parity", "--negative-slope", "0.5"], ["--negative-slope", "only leaky_relu uses it"]),
    (["parity", "--loss", "bce", "--g", "identity"], ["--g", "'bce' takes log(y_hat) and log(1 - y_hat), so it needs outputs in [0, 1]", "got 'identity'"]),
    (["parity", "--loss", "bce", "--g", "relu"], ["--g", "got 'relu'"]),
    (["parity", "--loss", "bce", "--g", "tanh"], ["--g", "got 'tanh'"]),
    (["parity", "--loss", "ce", "--g", "sigmoid"], ["--g", "expected softmax", "got 'sigmoid'"]),
    (["parity", "--seed", "1.5"], ["--seed", "got '1.5'"]),
    (["parity", "--n-hidden", "100000000"], ["--n-hidden 100000000", "would need about", "GiB", "memory limit"]),
    (["parity", "--batch", "100000000"], ["--batch 100000000", "would need about"]),
    (["parity", "--n-in", "100000", "--n-hidden", "100000"], ["--n-in 100000", "would need about"]),
    (["parity", "--max-memory", "lots"], ["--max-memory", "expected a memory size", "got 'lots'"]),
    (["parity", "--steps", "10", "--max-memory", "1K"], ["would need about", "over the memory limit of 1.0 KiB"]),
    (["explain", "--n-hidden", "100000000"], ["--n-hidden 100000000", "would need about"]),
    (["explain", "--n-hidden", "0"], ["--n-hidden", "got 0"]),
    (["explain", "--loss", "bce", "--g", "relu"], ["--g", "got 'relu'"]),
    (["explain", "--input", ""], ["--input", "cannot read ''"]),
    (["explain", "--write-input", ""], ["--write-input", "which is a folder"]),
    (["explain", "--write-input", "p.json", "--json"], ["--json", "expected one or the other"]),
    (["demo", "vanishing", "--seed", "-1"], ["--seed", "got -1"]),
    (["demo", "softmax", "--seed", "x"], ["--seed", "got 'x'"]),
    (["check", str(CORRECT), "--timeout", "inf"], ["--timeout", "finite number of seconds", "got 'inf'"]),
    (["check", str(CORRECT), "--case-timeout", "inf"], ["--case-timeout", "got 'inf'"]),
    (["check", str(CORRECT), "--case-timeout", "1e12"], ["--case-timeout", "got '1e12'"]),
    (["check", str(CORRECT), "--case-timeout", "50"], ["--case-timeout", "at most --timeout"]),
    (["check", str(CORRECT), "--timeout", "0"], ["--timeout", "got '0'"]),
    (["check", str(CORRECT), "--jobs", "0"], ["--jobs", "got 0"]),
    (["check", str(CORRECT), "--memory-mb", "10"], ["--memory-mb", "got 10"]),
    (["check", str(CORRECT), "--csv", "x.csv"], ["--csv", "applies to a folder"]),
    (["check", str(CORRECT), "--jobs", "2"], ["--jobs", "applies to a folder"]),
    (["check", str(CORRECT), "--template", "homework"], ["--template", "a path would be ignored"]),
    (["check", "--template", "homework", "--json"], ["--template", "--json would be ignored"]),
    (["check"], ["path", "got nothing"]),
    (["parity", "--no-such-flag"], ["mlp-ref parity: unrecognized arguments: --no-such-flag"]),
])
def test_bad_input_is_one_line_naming_the_flag(argv, words, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    refused(argv, capsys, *words)


def test_version_and_help_exit_0(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("mlp-ref ")
    assert main(["parity", "--help"]) == 0
    help_text = capsys.readouterr().out
    assert "--dtype" in help_text and "floating-point type of both sides" in help_text
    assert main(["check", "--help"]) == 0
    assert "the CPU count, here" in " ".join(capsys.readouterr().out.split())


def test_one_step_is_not_called_steps(capsys):
    assert main(["parity", "--steps", "1", "--dtype", "float64", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "1 step, lr" in out and "1 steps" not in out


def test_no_zero_grad_with_the_defaults_does_not_diverge_and_divergence_exits_1(capsys):
    assert main(["parity", "--no-zero-grad", "--device", "cpu"]) == 0
    assert capsys.readouterr().out.strip().endswith("-> OK")
    # The old default lr with accumulation overflows: a failed run, exit 1, one line, no traceback.
    assert main(["parity", "--no-zero-grad", "--lr", "0.02", "--dtype", "float64", "--device", "cpu"]) == 1
    err = capsys.readouterr().err
    assert "training diverged" in err and "Traceback" not in err


# --- outputs: never an input, never inside the graded folder, checked before grading ----------
def test_gradescope_onto_the_submission_is_refused_and_the_file_is_unchanged(tmp_path, capsys):
    sub = tmp_path / "sub.py"
    shutil.copy(CORRECT, sub)
    before = sub.read_bytes()
    refused(["check", str(sub), "--gradescope", str(sub)], capsys, "--gradescope", "is the input")
    assert sub.read_bytes() == before


def test_csv_inside_the_graded_folder_is_refused(tmp_path, capsys):
    (tmp_path / "subs").mkdir()
    shutil.copy(CORRECT, tmp_path / "subs" / "a.py")
    before = (tmp_path / "subs" / "a.py").read_bytes()
    refused(["check", str(tmp_path / "subs"), "--csv", str(tmp_path / "subs" / "a.py")], capsys,
            "--csv", "outside the folder being graded")
    refused(["check", str(tmp_path / "subs"), "--gradescope", str(tmp_path / "subs" / "out")], capsys,
            "--gradescope", "outside the folder being graded")
    assert (tmp_path / "subs" / "a.py").read_bytes() == before


@pytest.mark.parametrize("flag, target, words", [
    ("--csv", "SOMEDIR", "which is a folder"),
    ("--csv", "/nonexistent/x.csv", "missing or not writable"),
    ("--gradescope", "/proc/r", "not a writable folder"),
])
def test_unwritable_outputs_are_refused_before_grading(tmp_path, capsys, flag, target, words):
    (tmp_path / "subs").mkdir()
    (tmp_path / "SOMEDIR").mkdir()
    shutil.copy(CORRECT, tmp_path / "subs" / "a.py")
    target = str(tmp_path / target) if target == "SOMEDIR" else target
    refused(["check", str(tmp_path / "subs"), flag, target], capsys, flag, words)


def test_single_file_gradescope_into_proc_is_refused(tmp_path, capsys):
    refused(["check", str(CORRECT), "--gradescope", "/proc/r.json"], capsys, "--gradescope")


def test_csv_and_gradescope_may_not_be_the_same_file(tmp_path, capsys):
    (tmp_path / "subs").mkdir()
    shutil.copy(CORRECT, tmp_path / "subs" / "a.py")
    refused(["check", str(tmp_path / "subs"), "--csv", str(tmp_path / "o"), "--gradescope", str(tmp_path / "o")],
            capsys)


def test_per_submission_result_names_cannot_collide(tmp_path, capsys):
    for rel in ("x__y/z.py", "x/y__z.py"):
        (tmp_path / "coll" / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(CORRECT, tmp_path / "coll" / rel)
    code = main(["check", str(tmp_path / "coll"), "--gradescope", str(tmp_path / "out"), "--jobs", "2"])
    out = capsys.readouterr()
    assert code == 0, out.out[-3000:] + out.err[-2000:]
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["x%2Fy__z.json", "x__y%2Fz.json"]
    assert all(json.loads((tmp_path / "out" / n).read_text())["score"] > 0 for n in names)


def test_notebooks_are_graded_not_skipped(tmp_path, capsys):
    (tmp_path / "subs").mkdir()
    shutil.copy(CORRECT, tmp_path / "subs" / "a.py")
    (tmp_path / "subs" / "hw.ipynb").write_text("{}")
    assert main(["check", str(tmp_path / "subs"), "--jobs", "1", "--quiet"]) == 1  # hw.ipynb is no notebook
    out = capsys.readouterr().out
    assert "hw.ipynb,False" in out and "not a notebook" in out and "a.py,True" in out
    assert main(["check", str(tmp_path / "subs" / "hw.ipynb")]) == 1
    assert "not a notebook: no list of 'cells'" in capsys.readouterr().out


# --- explain --input ------------------------------------------------------------------------------
@pytest.fixture
def problem(tmp_path):
    path = tmp_path / "p.json"
    assert main(["explain", "--write-input", str(path)]) == 0
    return json.loads(path.read_text())


@pytest.mark.parametrize("edit, words", [
    (lambda d: d["x"][0].__setitem__(0, "1.0"), ['x[0][0]: expected a finite number, got "1.0"']),
    (lambda d: d["b1"].__setitem__(0, True), ["b1[0]: expected a finite number, got true"]),
    (lambda d: d["W2"][1].__setitem__(0, None), ["W2[1][0]: expected a finite number, got null"]),
    (lambda d: d.__setitem__("negative_slope", "a"), ['negative_slope: expected a finite number, got "a"']),
    (lambda d: d.__setitem__("mine", None), ["mine: expected an object", "got null"]),
    # A whole value null is "not filled yet" (the --write-input stub); null inside a matrix is no number.
    (lambda d: d.__setitem__("mine", {"z1": [[None, 0, 0]]}), ["mine['z1'][0][0]: expected a finite number, got null"]),
    # 1e999 is valid JSON that parses to inf.
    (lambda d: d.__setitem__("mine", {"z1": [[12345.5, 0, 0]]}), ["mine['z1'][0][0]: expected a finite number"]),
])
def test_explain_input_values_that_are_not_numbers_are_bad_input(problem, edit, words, tmp_path, capsys):
    capsys.readouterr()
    edit(problem)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(problem).replace("12345.5", "1e999"))
    refused(["explain", "--input", str(path)], capsys, *words)


def test_explain_input_nan_token_and_non_utf8_name_the_file(problem, tmp_path, capsys):
    capsys.readouterr()
    nan = tmp_path / "nan.json"
    nan.write_text(json.dumps(problem).replace('"negative_slope": 0.01', '"negative_slope": NaN'))
    refused(["explain", "--input", str(nan)], capsys, "--input", "nan.json", "holds NaN")
    latin = tmp_path / "latin.json"
    latin.write_bytes(json.dumps(problem).encode()[:-1] + b', "f": "caf\xe9"}')
    refused(["explain", "--input", str(latin)], capsys, "--input", "latin.json", "expected a UTF-8 JSON file")


@pytest.mark.parametrize("flag", [["--f", "sigmoid"], ["--n-hidden", "7"], ["--seed", "3"], ["--loss", "mse"]])
def test_explain_input_with_problem_flags_is_refused(problem, tmp_path, capsys, flag):
    capsys.readouterr()
    path = tmp_path / "p.json"
    refused(["explain", "--input", str(path), *flag], capsys, flag[0], "would be ignored")


def test_explain_write_input_onto_the_input_is_refused(problem, tmp_path, capsys):
    capsys.readouterr()
    path = tmp_path / "p.json"
    before = path.read_bytes()
    refused(["explain", "--input", str(path), "--write-input", str(path)], capsys, "--write-input", "is the input")
    assert path.read_bytes() == before


# --- demo --plot ------------------------------------------------------------------------------------
def test_demo_plot_refuses_a_folder_and_reports_the_real_path(tmp_path, capsys):
    refused(["demo", "softmax", "--plot", str(tmp_path)], capsys, "--plot", "which is a folder")
    pytest.importorskip("matplotlib", reason="the 'plot' extra is not installed")
    assert main(["demo", "softmax", "--plot", str(tmp_path / "noext")]) == 0
    out = capsys.readouterr().out
    assert f"plot written to {tmp_path / 'noext.png'}" in out and (tmp_path / "noext.png").stat().st_size > 0
    assert not (tmp_path / "noext").exists()


def test_an_output_that_fails_after_grading_loses_nothing(tmp_path, capsys, monkeypatch):
    """A disk that fills during grading: the report still reaches stdout and the exit code is 2."""
    from mlp_ref.cli import files

    def full(path, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files, "write_atomic", full)
    code = main(["check", str(CORRECT), "--gradescope", str(tmp_path / "r.json")])
    out = capsys.readouterr()
    assert code == 2 and re.search(r"score (\d+)/\1 -> PASS", out.out)
    assert out.err.strip() == (f"mlp-ref check: --gradescope: could not write {str(tmp_path / 'r.json')!r} "
                               "after grading: No space left on device")
