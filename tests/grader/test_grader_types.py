"""The grader judges what an answer is, not only its values; reads source as Python does; and
names what is missing instead of grading around it.

Each submission is the correct einsum one with one planted change, graded on a few cases.
"""
from pathlib import Path

import pytest

from mlp_ref.grader import sandbox
from mlp_ref.packs.dlsp_hw1 import battery, grade
from mlp_ref.packs.dlsp_hw1.templates import TEMPLATE_DIR

ZOO = Path(__file__).parent / "zoo"
CORRECT = (ZOO / "correct_einsum.py").read_text()
ALL = battery.build(0)
CASES = ([next(c for c in ALL if c.kind == "train" and c.dtype == dt and c.loss == loss)
          for dt in ("float64", "float32") for loss in ("mse", "bce")]
         + [next(c for c in ALL if c.kind == "loss" and c.loss == loss) for loss in ("mse", "bce")])
LIMITS = sandbox.Limits(timeout_s=20.0)


def graded(tmp_path, source, name="sub.py", raw=None):
    path = tmp_path / name
    if raw is None:
        path.write_text(source)
    else:
        path.write_bytes(raw)
    return grade.grade(path, limits=LIMITS, cases=CASES)


def case_checks(report):
    return [c for c in report.checks if c.case is not None]


def test_the_unchanged_submission_passes_every_case(tmp_path):
    """Positive control: each failure below is the planted change's, not the harness's."""
    r = graded(tmp_path, CORRECT)
    assert r.passed and all(c.passed for c in case_checks(r)) and not any(c.note for c in r.checks)


@pytest.mark.parametrize("change, words", [
    (("        return y_hat\n", "        return y_hat + 5j\n"), "is a torch.complex"),
    (("        return y_hat\n", "        return y_hat.long()\n"), "is a torch.int64 tensor"),
    (("        return y_hat\n", "        return y_hat.bool()\n"), "is a torch.bool tensor"),
    (("        return y_hat\n", "        return y_hat.numpy()\n"), "is a numpy.ndarray: the homework interface returns torch tensors"),
    (("        return y_hat\n", "        return y_hat.tolist()\n"), "is a builtins.list: the homework interface returns torch tensors"),
])
def test_an_answer_of_the_wrong_type_fails_naming_its_type(tmp_path, change, words):
    r = graded(tmp_path, CORRECT.replace(*change))
    forward_cases = [c for c in case_checks(r) if c.case.kind == "train"]
    assert forward_cases and all(c.passed is False for c in forward_cases)
    assert all(words in (c.error or {}).get("message", "") for c in forward_cases), forward_cases[0].error
    assert not r.passed


def test_a_float64_answer_in_a_float32_case_passes_with_a_note(tmp_path):
    r = graded(tmp_path, CORRECT.replace("        return y_hat\n", "        return y_hat.double()\n"))
    f32 = [c for c in case_checks(r) if c.case.kind == "train" and c.case.dtype == "float32"]
    assert f32 and all(c.passed for c in f32)
    assert all("returned float64 in a float32 case" in c.note for c in f32)
    assert r.passed


def test_a_python_float_loss_value_is_accepted(tmp_path):
    r = graded(tmp_path, CORRECT.replace("    return J, 2 * diff / diff.numel()", "    return J.item(), 2 * diff / diff.numel()"))
    assert r.passed
    # The interface allows a Python float J; a number has no dtype of its own, so no dtype note.
    assert not any("returned float64" in c.note for c in r.checks)


def test_a_float64_tensor_loss_value_in_a_float32_case_keeps_the_note(tmp_path):
    """Negative control for the Python float: a real float64 tensor J is still noted."""
    r = graded(tmp_path, CORRECT.replace("    return J, 2 * diff / diff.numel()",
                                         "    return J.double(), 2 * diff / diff.numel()"))
    assert r.passed
    assert any("returned float64 in a float32 case" in c.note for c in r.checks if c.case and c.case.loss == "mse")


@pytest.mark.parametrize("template", ["homework_mlp.py", "numpy_mlp.py"])
def test_the_unfilled_template_scores_zero(tmp_path, template):
    r = graded(tmp_path, (TEMPLATE_DIR / template).read_text())
    assert r.score == 0 and not r.passed
    # Nothing is written yet, so nothing is counted, and the reason says so.
    assert any(c.message == grade.NOT_WRITTEN for c in r.checks)
    # Control: a file whose every case raises (not unwritten) is told that no case ran to the end.
    crashes = graded(tmp_path, (TEMPLATE_DIR / template).read_text().replace("NotImplementedError", "ValueError"))
    assert crashes.score == 0 and any(c.message == grade.NOT_COUNTED for c in crashes.checks)


def test_a_latin1_file_without_an_encoding_line_fails_as_python_does(tmp_path):
    raw = ("# caf\xe9\n" + CORRECT).encode("latin-1")
    r = graded(tmp_path, None, raw=raw)
    assert r.score == 0 and "SyntaxError" in r.problem and "Non-UTF-8 code starting with '\\xe9'" in r.problem
    # With the encoding line, Python reads it, and so does the grader.
    r = graded(tmp_path, None, name="declared.py", raw=b"# -*- coding: latin-1 -*-\n" + raw)
    assert r.passed


def test_a_constructor_with_other_arguments_is_named_as_a_constructor_mismatch(tmp_path):
    source = CORRECT.replace("    def __init__(self, linear_1_in_features, linear_1_out_features, f_function,\n"
                             "                 linear_2_in_features, linear_2_out_features, g_function):",
                             "    def __init__(self, n_in, n_hidden, n_out, f_function, g_function):\n"
                             "        linear_1_in_features, linear_1_out_features = n_in, n_hidden\n"
                             "        linear_2_in_features, linear_2_out_features = n_hidden, n_out")
    r = graded(tmp_path, source)
    assert r.score == 0
    assert r.problem.startswith("constructor mismatch: MLP.__init__ takes (n_in, n_hidden, n_out, f_function, "
                                "g_function), but the homework interface constructs MLP(linear_1_in_features=")


def test_a_missing_loss_function_costs_only_the_cases_that_call_it(tmp_path):
    r = graded(tmp_path, CORRECT[:CORRECT.index("def bce_loss")])
    by_loss = {}
    for c in case_checks(r):
        by_loss.setdefault(c.case.loss, []).append(c)
    assert all(c.passed for c in by_loss["mse"])
    assert all(c.passed is False and "defines no function bce_loss" in c.error["message"] for c in by_loss["bce"])
    assert r.interface == "homework"


def test_a_wrong_but_running_submission_keeps_its_contract_points(tmp_path):
    """Negative control for the rule above: a submission whose cases ran (wrongly) is judged on the
    contract, so the zero comes from nothing having run, not from failing cases."""
    r = graded(tmp_path, CORRECT.replace("        return y_hat\n", "        return -y_hat\n"))
    contract = [c for c in r.checks if c.section == "contract"]
    assert contract and all(c.passed for c in contract) and r.score > 0
