"""`mlp-ref check`'s report modes (short, -q, -v, -x), -k to grade sections alone, and one verdict with a config:
the points decide, in the text, the JSON, the CSV and the class summary alike."""
import csv
import io
import json
from pathlib import Path

import pytest

from mlp_ref.cli import main as cli
from mlp_ref.packs.dlsp_hw1.templates import TEMPLATE_DIR

ZOO = Path(__file__).parent / "zoo"
CORRECT, HALF_MSE, MUTATES = ZOO / "correct_vectorised.py", ZOO / "bug_half_mse.py", ZOO / "bug_input_mutated.py"
# Every section but the contract carries points, so a file that only mutates its input earns full marks.
NO_CONTRACT = """[assignment]
name = "HW1"
total_points = 10
[sections.losses]
points = 2
[sections.backward]
points = 2
[sections.end_to_end]
points = 4
[sections.edge]
points = 2
"""


def check(capsys, *argv):
    code = cli.main(["check", *map(str, argv)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_passing_file_prints_a_short_report_and_v_lists_every_check(capsys):
    code, short, _ = check(capsys, CORRECT)
    lines = short.strip().splitlines()
    assert code == 0 and len(lines) <= 25 and lines[-1] == "score 66/66 -> PASS"
    assert not any(x.startswith("  ok") for x in lines)
    code, verbose, _ = check(capsys, CORRECT, "-v")
    assert code == 0 and sum(x.startswith("  ok") for x in verbose.splitlines()) >= 66
    code, quiet, _ = check(capsys, CORRECT, "-q")
    assert code == 0 and quiet.strip() == "score 66/66 -> PASS"


def test_q_prints_only_the_failures_with_their_diagnosis_and_the_verdict(capsys):
    code, out, _ = check(capsys, HALF_MSE, "-q")
    lines = out.strip().splitlines()
    assert code == 1 and lines[-1].startswith("score ") and lines[-1].endswith("-> FAIL")
    assert "diagnosis [half_mse]" in out and "FAIL mse loss alone" in out
    assert not any(x.startswith(("  ok", "mlp-ref check", "graded in", "all pass")) for x in lines)


def test_x_stops_at_the_first_failing_section(capsys):
    _, full, _ = check(capsys, HALF_MSE)
    code, first, _ = check(capsys, HALF_MSE, "-x")
    assert code == 1 and "end to end, with SGD steps" in full  # control: later sections fail too
    assert "end to end, with SGD steps" not in first and "stopped at the first failing section (-x)" in first
    assert first.strip().splitlines()[-1] == full.strip().splitlines()[-1]  # the verdict is the whole battery's


def test_k_grades_the_named_sections_alone(capsys, tmp_path):
    """A template with the losses written and nothing else passes -k losses; the whole battery fails it."""
    sub = tmp_path / "losses_only.py"
    sub.write_text((TEMPLATE_DIR / "homework_mlp.py").read_text()
                   .replace('raise NotImplementedError("mse_loss")',
                            "return ((y_hat - y) ** 2).mean(), 2 * (y_hat - y) / y.numel()")
                   .replace('raise NotImplementedError("bce_loss")',
                            "J = -(y * y_hat.clamp_min(1e-45).log().clamp_min(-100) + (1 - y) * "
                            "(1 - y_hat).clamp_min(1e-45).log().clamp_min(-100)).mean()\n"
                            "    return J, (y_hat - y) / (y_hat * (1 - y_hat)).clamp_min(1e-12) / y.numel()"))
    code, out, _ = check(capsys, sub, "-k", "losses", "--json")
    data = json.loads(out)
    assert code == 0 and data["passed"] and data["only"] == ["loss"]
    assert {c["section"] for c in data["checks"]} <= {"interface", "loss", "probe"}
    code, out, _ = check(capsys, sub, "--only", "loss,backward")
    assert code == 1 and "not implemented yet: forward" in out and "(only loss, backward: -k)" in out
    assert check(capsys, sub)[0] == 1


def test_k_refuses_an_unknown_section_naming_the_valid_ones(capsys):
    code, out, err = check(capsys, CORRECT, "-k", "losses,backwards")
    assert code == 2 and out == "" and "'backwards'" in err and "end_to_end" in err and "losses" in err


@pytest.mark.slow
def test_with_a_config_the_points_are_the_verdict_everywhere(capsys, tmp_path):
    """Full points pass although the (pointless) contract fails: its failure is a note, never a FAIL.
    Negative control: the same file, with a point on the contract, fails everywhere."""
    conf = tmp_path / "a.toml"
    conf.write_text(NO_CONTRACT)
    code, out, _ = check(capsys, MUTATES, "--config", conf)
    assert code == 0 and out.strip().splitlines()[-1] == "HW1: 10 / 10 points (65/66 graded checks pass) -> PASS"
    assert "FAIL" not in out and "note" in out and "diagnosis [input_mutated]" in out
    data = json.loads(check(capsys, MUTATES, "--config", conf, "--json")[1])
    assert data["passed"] is True and data["points"] == data["max_points"] == 10
    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("a.py", "b.py"):
        (folder / name).write_text(MUTATES.read_text())
    code, rows, err = check(capsys, folder, "--config", conf, "--quiet", "--jobs", "2")
    assert code == 0 and [r["passed"] for r in csv.DictReader(io.StringIO(rows))] == ["True", "True"]
    assert "2/2 submissions pass" in err and "2/2 pass (full marks)" in err

    conf.write_text(NO_CONTRACT.replace("total_points = 10", "total_points = 11")
                    + "[sections.contract]\npoints = 1\n")
    code, out, _ = check(capsys, MUTATES, "--config", conf)
    assert code == 1 and "FAIL inputs are not modified in place" in out and out.strip().endswith("-> FAIL")
    data = json.loads(check(capsys, MUTATES, "--config", conf, "--json")[1])
    assert data["passed"] is False and data["points"] < data["max_points"] == 11


@pytest.mark.parametrize("score, shown", [(50 / 9, "5.56"), (10.0, "10"), (2.5, "2.5")])
def test_scores_print_in_at_most_two_decimals(score, shown):
    from mlp_ref.grader import classreport
    from mlp_ref.packs.dlsp_hw1 import report

    assert report.number(score) == shown
    assert classreport.csv_columns([], [score])["assignment_score"] == [shown]


def test_a_shape_mismatch_is_said_as_such_not_as_inf_times_the_allowance(capsys):
    from mlp_ref.packs.dlsp_hw1 import gradescope, report, submission

    r = submission.grade_file(ZOO / "bug_transposed_gradient.py")
    assert r.headroom_graded() == float("inf")  # control: the headroom the words replace
    for text in (report.text(r, "short"), report.text(r, "verbose"), gradescope.staff_output(r)):
        assert "inf of its allowance" not in text and "shape" in text


def test_gradescope_shows_the_first_diagnosed_failure_not_a_shape_only_one():
    """A section whose first failure shows only a shape and whose second is diagnosed: the visible test
    leads with the diagnosis. Control: with no diagnosed failure, the first one is shown."""
    from mlp_ref.packs.dlsp_hw1 import battery, config, gradescope, grade
    from mlp_ref.packs.dlsp_hw1.verdict import Check

    cases = [c for c in battery.build() if c.section == "loss"][:2]
    shape = Check(cases[0].describe, "loss", False, case=cases[0], message="dJdy_hat: shape mismatch")
    named = Check(cases[1].describe, "loss", False, case=cases[1], diagnosis="half_mse", evidence="J is 1/2")
    conf = config.parse({"assignment": {"name": "A", "total_points": 1}, "sections": {"losses": {"points": 1}}})
    r = grade.Report("hw.py", checks=[Check("imports", "interface", True), shape, named], interface="homework")
    out = next(t for t in gradescope.results(r, conf)["tests"] if t["name"] == "losses")["output"]
    assert out.index(f"First failure: **{gradescope.escape(named.name)}**") < out.index("Also failing")
    assert "half_mse" in out.split("Also failing")[0]
    r.checks[2] = Check(cases[1].describe, "loss", False, case=cases[1], message="dJdy_hat: shape mismatch")
    out = next(t for t in gradescope.results(r, conf)["tests"] if t["name"] == "losses")["output"]
    assert f"First failure: **{gradescope.escape(shape.name)}**" in out
