"""One submission's full battery (66 graded checks in float32, 62 float64 probe cases), timed two ways
(group "check").

cold: `mlp-ref check FILE` as a student runs it, a fresh process: Python, torch's import, the child,
      torch's answers, the verdict. The goal: under 5 s on 2 cores.
warm: grade() again in a process whose fork server and torch answers are ready, as each submission
      after the first in `mlp-ref check DIR/`.
"""
import os
import subprocess
import sys
from pathlib import Path

from mlp_ref.env import THREAD_VARIABLES
from mlp_ref.packs.dlsp_hw1 import grade

SUBMISSION = Path(__file__).parent.parent / "grader" / "zoo" / "correct_vectorised.py"


def label(benchmark, side):
    # size/dtype/side as the other benchmarks label theirs, so mlp_ref.bench.summary can read the file.
    benchmark.group = "check"
    benchmark.extra_info.update(size="check", dtype="float32+float64 probe", side=side)


def test_check_one_submission_cold(benchmark):
    label(benchmark, "check-cold")
    env = dict(os.environ, **THREAD_VARIABLES)
    cmd = [sys.executable, "-m", "mlp_ref.cli.main", "check", str(SUBMISSION)]
    done = benchmark.pedantic(subprocess.run, args=(cmd,), kwargs=dict(env=env, capture_output=True, text=True),
                              rounds=3, iterations=1)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def test_check_one_submission_warm(benchmark):
    label(benchmark, "check-warm")
    grade.grade(SUBMISSION)  # fork server up, torch's answers cached
    report = benchmark.pedantic(grade.grade, args=(SUBMISSION,), rounds=5, iterations=1)
    assert report.passed and len(report.graded) > 60
