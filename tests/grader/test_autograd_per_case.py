"""A case answered with autograd earns nothing, case by case: every backward, train and twice check of a
submission whose backward calls autograd fails with autograd_used and scores 0 (the contract row that
says so apart), while its loss cases, which never reach autograd, keep their points.
"""
from pathlib import Path

import pytest

from mlp_ref.grader import grade

ZOO = Path(__file__).parent / "zoo"
BACKWARD_KINDS = ("backward", "train", "twice")


@pytest.fixture(scope="module", params=["bug_autograd_used.py", "bug_autograd_used_backward.py"])
def report(request):
    return grade.grade(ZOO / request.param)


def test_every_case_that_ran_backward_scores_zero_with_autograd_used(report):
    cases = [c for c in report.checks if c.case is not None and c.section != "contract"]
    backward = [c for c in cases if c.case.kind in BACKWARD_KINDS]
    assert len(backward) >= 50
    for c in backward:
        assert (c.passed, c.score, c.diagnosis) == (False, 0, "autograd_used"), c.name
        assert "torch's autograd ran" in c.message, c.message


def test_cases_autograd_never_reached_keep_their_points_and_the_total_is_theirs(report):
    loss = [c for c in report.checks if c.case is not None and c.case.kind == "loss"]
    assert loss and all(c.passed and c.diagnosis is None for c in loss)
    # 7 graded loss checks (4 in losses, 3 in edge), the interface row and 2 of the 3 contract rows: 1 point each.
    assert report.score == 10 and report.max_score == 66
    unaffected = [c for c in report.checks if c.passed]
    assert report.score == sum(c.max_score for c in unaffected)
    contract = {c.diagnosis for c in report.checks if c.section == "contract" and c.passed is False}
    assert contract == {"autograd_used"}


def test_negative_control_the_same_file_without_autograd_keeps_every_point():
    r = grade.grade(ZOO / "correct_vectorised.py")
    assert r.score == r.max_score == 66 and not any(c.diagnosis == "autograd_used" for c in r.checks)
