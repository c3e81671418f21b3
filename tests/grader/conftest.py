"""Shared by the grader's tests: the zoo, its manifest and one grading of every entry.

The manifest is imported once, as the module `zoo.manifest` (pytest puts this folder on sys.path),
so a test can use it at collection time, for parametrize, as `from zoo import manifest`; the
`manifest` fixture hands the same module to a test body.
"""
import threading
from pathlib import Path

import pytest

from mlp_ref.grader.sandbox import Limits
from mlp_ref.packs.dlsp_hw1 import grade
from zoo import manifest as _manifest

ZOO = Path(__file__).parent / "zoo"
# Loops that never end: 1 s per case and 4 s in all is enough for the containment to show
# (an unkillable loop is stopped by the 4 s limit whatever the machine's load).
SHORT = Limits(timeout_s=4.0, case_timeout_s=1.0)


def limits_for(name):
    """The limits a zoo entry is graded under: the defaults, short ones for the loops that never end."""
    return SHORT if _manifest.EXPECTED.get(name, {}).get("contained") == "timeout" else Limits()


@pytest.fixture(scope="session")
def manifest():
    return _manifest


@pytest.fixture(scope="session")
def zoo():
    return ZOO


@pytest.fixture(scope="session")
def zoo_report(once_per_run):
    """zoo_report(name) -> the entry's Report, graded once per run under limits_for(name) and shared by
    every module and worker that asks for it."""
    return lambda name: once_per_run(f"homework_zoo_{name}", lambda: _graded(name))


_answers_once = threading.Lock()


def _graded(name):
    with _answers_once:  # torch's answers, computed by the first grading thread alone
        grade.expected()
    return grade.grade(ZOO / name, limits=limits_for(name))


@pytest.fixture(scope="session")
def zoo_reports(once_per_run):
    """{entry name: Report} for every entry of the manifest, two at a time from one warm fork server, the
    work shared with any other worker that asks (once_per_run.each)."""
    names = sorted(_manifest.EXPECTED, key=lambda n: (limits_for(n) is not SHORT, n))  # the slow ones first
    return once_per_run.each("homework_zoo_", names, _graded, jobs=2)
