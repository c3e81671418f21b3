"""results.json from a Report and an assignment: the section's points shared by its checks, only the
assignment's dtype scored, left-out sections reported for 0, the staff-only test hidden, Markdown
a student can act on, and Gradescope's field names."""
import json
from pathlib import Path

import pytest

from mlp_ref.cli import main as cli
from mlp_ref.packs.dlsp_hw1 import battery, config, grade, gradescope, submission
from mlp_ref.packs.dlsp_hw1.verdict import Check

ZOO = Path(__file__).parent / "zoo"
HW1 = config.load(Path(__file__).parent / "configs" / "hw1.toml")
CASES = battery.build()
FEW = [c for c in CASES if c.kind == "train"][:4] + [c for c in CASES if c.kind == "loss"][:4] + \
    [c for c in CASES if c.kind == "backward"][:2]
TEST_FIELDS = {"name", "score", "max_score", "status", "output", "output_format", "visibility"}


def _report(passes):
    """A Report whose loss section has float32 checks passing as given, and one float64 probe of them failing."""
    loss32 = [c for c in CASES if c.section == "loss"]
    checks = [Check("imports", "interface", True)]
    checks += [Check(c.describe, "loss", ok, case=c) for c, ok in zip(loss32, passes)]
    probe = loss32[0].probe()
    checks.append(Check(probe.describe, "probe", False, case=probe, message="off"))
    return grade.Report("hw.py", checks=checks, interface="homework")


@pytest.mark.parametrize("passes, points", [([True] * 4, 2.0), ([True, True, True, False], 1.5),
                                            ([False] * 4, 0.0)])
def test_a_sections_points_are_shared_by_its_checks_and_the_probe_is_not_scored(passes, points):
    # 2 points over 4 float32 loss checks: 0.5 each; the failing float64 probe of one of them counts nowhere.
    scores = gradescope.sections(_report(passes), HW1)
    losses = next(s for s in scores if s.name == "losses")
    assert losses.score == points and len(losses.graded) == 4
    assert all(c.section != "probe" for s in scores for c in s.graded)


def test_a_left_out_section_is_reported_to_staff_only_for_no_points():
    r = _report([True] * 4)
    res = gradescope.results(r, HW1)
    interface = next(t for t in res["tests"] if t["name"] == "interface")
    assert interface["max_score"] == 0 and interface["score"] == 0 and "carries no points" in interface["output"]
    # Its diagnoses could give away a hidden or later section: students do not see it.
    assert interface["visibility"] == "hidden"


def test_a_failing_row_says_failed_even_at_zero_points():
    """Gradescope counts score >= max_score as passed: a failing 0-point row needs status "failed"."""
    res = gradescope.results(_report([True, False, True, True]), HW1)
    assert {t["name"]: t["status"] for t in res["tests"] if t["name"] == "losses"} == {"losses": "failed"}
    interface = next(t for t in res["tests"] if t["name"] == "interface")
    assert interface["status"] == "passed"  # negative control: the same row passes when its checks do


def test_the_fields_are_gradescopes_and_the_staff_test_is_hidden():
    res = gradescope.results(_report([True] * 4), HW1)
    assert {"score", "execution_time", "output", "stdout_visibility", "tests", "extra_data"} <= set(res)
    assert res["extra_data"]["sections"]["losses"] == [2.0, 2.0]
    assert res["stdout_visibility"] == "hidden"
    assert all(set(t) == TEST_FIELDS and t["output_format"] == "md" for t in res["tests"])
    staff = [t for t in res["tests"] if t["name"].startswith("staff only")]
    assert len(staff) == 1 and staff[0]["visibility"] == "hidden" and staff[0]["max_score"] == 0
    assert "float64 probe (not scored): 0 / 1 pass" in staff[0]["output"]


def test_a_buggy_submissions_row_shows_the_first_failure_numbers_and_the_diagnosis():
    r = submission.grade_file(ZOO / "bug_wrong_sign.py", cases=FEW)
    res = gradescope.results(r, HW1)
    assert len(res["tests"]) <= 20
    assert res["score"] < HW1.total_points
    e2e = next(t for t in res["tests"] if t["name"] == "end to end")
    assert e2e["visibility"] == "after_due_date" and e2e["score"] < e2e["max_score"] == 4
    out = e2e["output"]
    assert "checks pass" in out and "First failure:" in out and "mismatched" in out and "torch =" in out
    assert "**Diagnosis `wrong_sign`**" in out


def test_integrity_flags_go_to_the_staff_test_only():
    r = submission.grade_file(ZOO / "correct_autograd_imported.py", cases=FEW)
    res = gradescope.results(r, HW1)
    staff = next(t for t in res["tests"] if t["visibility"] == "hidden" and t["name"].startswith("staff"))
    assert "torch.autograd" in staff["output"]
    assert not any("torch.autograd" in t["output"] for t in res["tests"] if t is not staff)
    assert res["score"] == gradescope.total(r, HW1)


def test_the_grader_failing_still_gives_a_visible_plea_and_a_hidden_traceback():
    res = gradescope.grader_failed("Traceback (most recent call last):\n  boom")
    assert res["score"] == 0
    visible = [t for t in res["tests"] if t["visibility"] == "visible"]
    hidden = [t for t in res["tests"] if t["visibility"] == "hidden"]
    assert visible[0]["name"] == "The autograder failed; tell your instructor" and "boom" in hidden[0]["output"]


def test_run_never_raises_on_a_broken_config(tmp_path):
    (tmp_path / "submission").mkdir()
    (tmp_path / "assignment.json").write_text("{ broken")
    res = gradescope.run(tmp_path, tmp_path / "assignment.json")
    assert res["score"] == 0 and res["tests"][0]["name"] == gradescope.FAILED_NAME
    assert "JSONDecodeError" in res["tests"][1]["output"]


def test_the_staff_test_shows_the_headroom_the_grader_measured():
    class Measured(grade.Report):
        def headroom_graded(self):
            return 0.25

    r = _report([True] * 4)
    assert "headroom" not in gradescope.staff_output(r)  # nothing compared: no headroom to show
    m = Measured("hw.py", checks=r.checks, interface="homework")
    assert "worst graded error is 0.25 of its allowance" in gradescope.staff_output(m)


def test_check_with_a_config_writes_the_sectioned_results_json(tmp_path, capsys):
    out = tmp_path / "results.json"
    hw1 = Path(__file__).parent / "configs" / "hw1.toml"
    code = cli.main(["check", str(ZOO / "correct_vectorised.py"), "--config", str(hw1), "--gradescope", str(out)])
    assert code == 0 and "HW1: backprop by hand: 10 / 10 points" in capsys.readouterr().out
    res = json.loads(out.read_text())
    assert res["score"] == 10.0 and {t["name"] for t in res["tests"]} >= {"losses", "end to end", "contract"}


def test_a_submission_that_does_not_import_tells_each_row_why_once(tmp_path):
    p = tmp_path / "mlp.py"
    p.write_text("import numpy\n\ndef forward(x:\n    pass\n")
    res = gradescope.results(submission.grade_file(p, cases=FEW), HW1)
    assert res["score"] == 0
    losses = next(t for t in res["tests"] if t["name"] == "losses")
    assert "not run, because the submission did not import" in losses["output"]
    assert "SyntaxError" in losses["output"] and "line 3" in losses["output"] and "Also failing" not in losses["output"]


def test_a_partly_failing_section_says_which_activation_pairs_pass():
    pairs = [c for c in CASES if c.section == "backward" and c.dtype == "float32"][:3]
    checks = [Check("imports", "interface", True)] + [Check(c.describe, "backward", i != 1, case=c)
                                                       for i, c in enumerate(pairs)]
    r = grade.Report("hw.py", checks=checks, interface="homework")
    out = next(t for t in gradescope.results(r, HW1)["tests"] if t["name"] == "backward")["output"]
    expected = ", ".join(f"{c.f}-{c.g} {int(i != 1)}/1" for i, c in enumerate(pairs))
    assert f"Passing by f-g: {expected}" in out


def test_a_numpy_interface_assignment_scores_the_total_without_losses_or_backward_points():
    numpy_hw = config.parse({"assignment": {"name": "HW numpy", "total_points": 10},
                             "sections": {"end_to_end": {"points": 6}, "edge": {"points": 2},
                                          "contract": {"points": 2}}})
    cases = [c for c in CASES if c.section == "end-to-end"][:2] + [c for c in CASES if c.section == "edge"
                                                                  and c.kind != "loss"][:2]
    r = submission.grade_file(ZOO / "correct_numpy.py", cases=cases)
    assert r.interface == "numpy" and gradescope.total(r, numpy_hw) == 10.0
    # The same file under the homework assignment: its losses and backward have nothing to run.
    losses = next(t for t in gradescope.results(r, HW1)["tests"] if t["name"] == "losses")
    assert losses["score"] == 0 and "no check of this section applies to the numpy interface" in losses["output"]
