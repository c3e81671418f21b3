"""The safety nets exercised for real: a crash of any kind inside grading still gives Gradescope a
results.json (a visible plea, the traceback for staff only); a submission that hangs or allocates too
much in one case fails that case alone, by the per-case limit, and every other case still passes.
"""
import json
from pathlib import Path

import pytest

from mlp_ref.cli import main as cli
from mlp_ref.grader import sandbox
from mlp_ref.packs.dlsp_hw1 import battery, grade, submission
from mlp_ref.packs.dlsp_hw1 import runner
from mlp_ref.grader.sandbox import Limits

ZOO = Path(__file__).parent / "zoo"
HW1 = Path(__file__).parent / "configs" / "hw1.toml"
# The one float32 case with x of shape (4, 4) and f = relu: the square relu-sigmoid edge case.
ONE_CASE = "        if tuple(x.shape) == (4, 4) and x.dtype == torch.float32 and self.f_function == 'relu':\n"
FORWARD = '        """y_hat = g(f(x W1^T + b1) W2^T + b2).   x: (N, D) -> y_hat: (N, K)"""\n'
TARGET = "train/relu-sigmoid/mse/N4-D4-H4-K4/square/float32"


class NotAnOSError(Exception):
    """Neither OSError nor ValueError: what a narrowed catch-all would let through."""


@pytest.mark.parametrize("exc", [NotAnOSError, KeyError, ZeroDivisionError, AssertionError])
def test_any_exception_inside_grading_still_writes_results_json(exc, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise exc("grader internals broke: secret_staff_detail")

    monkeypatch.setattr(submission, "grade_file", broken)
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "mlp.py").write_text((ZOO / "correct_vectorised.py").read_text())
    assert cli.main(["autograder", "--config", str(HW1), "--run-in", str(tmp_path)]) == 0
    res = json.loads((tmp_path / "results" / "results.json").read_text())
    assert res["score"] == 0 and res["stdout_visibility"] == "hidden"
    visible = [t for t in res["tests"] if t.get("visibility") == "visible"]
    hidden = [t for t in res["tests"] if t.get("visibility") == "hidden"]
    assert [t["name"] for t in visible] == ["The autograder failed; tell your instructor"]
    assert visible[0]["status"] == "failed" and "not your fault" in visible[0]["output"]
    # The traceback, with the exception's type and message, reaches staff alone.
    assert len(hidden) == 1 and exc.__name__ in hidden[0]["output"] and "secret_staff_detail" in hidden[0]["output"]
    shown = json.dumps(visible) + res["output"]
    assert "Traceback" not in shown and "secret_staff_detail" not in shown


@pytest.mark.parametrize("layer", ["gradescope.run", "assignment.grade"])
def test_each_of_the_two_nets_alone_turns_any_exception_into_results(layer, tmp_path, monkeypatch):
    """The homework's Gradescope run and the packs' platform entry each promise never to raise: each is
    called on its own (the other cannot catch for it) with an exception neither OSError nor ValueError."""
    from mlp_ref.packs import assignment
    from mlp_ref.packs.dlsp_hw1 import gradescope

    def broken(*args, **kwargs):
        raise NotAnOSError("grader internals broke: secret_staff_detail")

    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "mlp.py").write_text((ZOO / "correct_vectorised.py").read_text())
    if layer == "gradescope.run":
        monkeypatch.setattr(submission, "grade_file", broken)
        out = gradescope.run(tmp_path, HW1)
    else:
        monkeypatch.setattr(assignment, "load", broken)
        out = assignment.grade(tmp_path, HW1)
    assert out["score"] == 0 and out["tests"][0]["name"] == "The autograder failed; tell your instructor"
    assert "NotAnOSError" in out["tests"][-1]["output"] and out["tests"][-1]["visibility"] == "hidden"


def _one_case(tmp_path, body):
    source = (ZOO / "correct_vectorised.py").read_text()
    assert FORWARD in source
    sub = tmp_path / "one_case.py"
    sub.write_text(source.replace(FORWARD, FORWARD + ONE_CASE + body, 1))
    return sub


def _only_target_fails(report):
    graded = [c for c in report.checks if c.case is not None and c.section not in ("probe", "robustness")]
    failing = [c for c in graded if c.passed is False]
    assert [c.case.id for c in failing] == [TARGET], [c.name for c in failing]
    assert sum(c.passed is True for c in graded) == len(graded) - 1
    return failing[0]


def test_a_hang_in_one_case_fails_that_case_by_the_per_case_limit(tmp_path):
    """case_timeout 0.5 s inside a 20 s battery: the per-case alarm ends the loop, every other case runs and
    passes. A per-case limit 100x longer (50 s) would leave the 20 s battery limit to end the child first,
    and the cases after this one would not pass."""
    sub = _one_case(tmp_path, "            while True:\n                pass\n")
    r = grade.grade(sub, limits=Limits(timeout_s=20.0, case_timeout_s=0.5))
    c = _only_target_fails(r)
    assert c.error["outcome"] == "timeout"
    assert "still running after the 0.5 s limit for one case" in c.error["message"]
    assert "timeout" in r.containment


def test_an_allocation_in_one_case_fails_that_case_by_the_memory_limit(tmp_path):
    """1 GiB in one case under --memory-mb 256 fails that case as memory_limit; the others pass. Without the
    limit the allocation succeeds and the case passes (so this stays safe on the machine either way)."""
    sub = _one_case(tmp_path, "            self._ballast = torch.ones(2 ** 28)\n")
    r = grade.grade(sub, limits=Limits(memory_mb=256))
    c = _only_target_fails(r)
    assert c.error["outcome"] == "memory_limit", c.error
    assert "memory_limit" in r.containment


def test_a_loop_in_every_case_costs_the_per_case_limit_twice_then_the_rest_are_not_run(tmp_path):
    """Two per-case timeouts and the child gives up on the cases left, saying so, long before the battery
    limit: a child that kept trying (0.3 s times ~150 cases) would run into the 20 s limit instead."""
    source = (ZOO / "correct_vectorised.py").read_text()
    sub = tmp_path / "loops.py"
    sub.write_text(source.replace(FORWARD, FORWARD + "        while True:\n            pass\n", 1))
    limits = Limits(timeout_s=20.0, case_timeout_s=0.3)
    r = grade.grade(sub, limits=limits)
    cases = [c for c in r.checks if c.case is not None and c.case.kind != "loss" and c.section != "contract"]
    timed_out = [c for c in cases if (c.error or {}).get("outcome") == "timeout"]
    skipped = [c for c in cases if "not run: 2 earlier cases ran out of time" in (c.message + c.note)]
    assert len(timed_out) == 2 and len(skipped) == len(cases) - 2, (len(timed_out), len(skipped), len(cases))
    assert r.seconds < limits.timeout_s / 2 and "timeout" in r.containment


def test_a_loop_that_ignores_the_per_case_alarm_is_ended_at_the_battery_limit(tmp_path):
    """SIGALRM ignored, every exception swallowed: the per-case limit cannot stop it, the battery limit (2 s)
    does, with the child's whole group killed. A limit 10x longer would leave it to the CPU-seconds rlimit
    (the limit + 5 s of CPU), past the bound below."""
    limits = Limits(timeout_s=2.0, case_timeout_s=0.5)
    ids = [c.id for c in battery.build(0)]
    sandbox.fork_server()  # started before the clock: the child's own run is timed
    run = sandbox.finish(runner.start_child(str(ZOO / "hostile_unkillable_loop.py"), ids, limits))
    assert run.timed_out and run.ending == "timeout"
    assert run.seconds < 2.75 * limits.timeout_s
