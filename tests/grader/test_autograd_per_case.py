"""A case answered with autograd earns nothing, case by case: every backward, train and twice check of a
submission whose backward calls autograd fails with autograd_used and scores 0 (the contract row that
says so apart), while its loss cases, which never reach autograd, keep their points.
"""
from dataclasses import replace

import pytest

from mlp_ref.packs.dlsp_hw1 import verdict

BACKWARD_KINDS = ("backward", "train", "twice")


FILES = ("bug_autograd_used.py", "bug_autograd_used_backward.py")


@pytest.fixture(scope="module")
def reports(zoo_report):
    """The two files as the zoo's one grading per run grades them, under the default limits."""
    return {n: zoo_report(n) for n in FILES}


@pytest.fixture(params=FILES)
def report(request, reports):
    return reports[request.param]


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


def test_negative_control_checks_with_no_autograd_call_keep_their_verdict(reports):
    """The same checks, passed, with events that count no autograd call: autograd_cases leaves every one alone;
    one call in one case fails that case alone."""
    checks = [replace(c, passed=True, diagnosis=None) for c in reports[FILES[0]].checks if c.case is not None]
    events = {c.case.id: {"autograd_calls": 0} for c in checks}
    assert verdict.autograd_cases(checks, events) == checks
    events[checks[3].case.id] = {"autograd_calls": 1}
    out = verdict.autograd_cases(checks, events)
    assert [c.passed for c in out] == [i != 3 for i in range(len(checks))] and out[3].diagnosis == "autograd_used"
