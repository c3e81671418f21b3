"""One grading run of every zoo entry, shared by the pack's tests (a session fixture)."""
from pathlib import Path

import pytest

from mlp_ref import packs
from mlp_ref.grader.sandbox import Limits

from .zoo import manifest
from .zoo.packaging import submission_zip

HERE = Path(__file__).parent
ZOO = HERE / "zoo"
# A correct case takes milliseconds; 2 s leaves room on a loaded machine and bounds the looping entry.
LIMITS = Limits(timeout_s=60, case_timeout_s=2)


@pytest.fixture(scope="session")
def pack():
    return packs.get("cs231n-a2")


@pytest.fixture(scope="session")
def zoo_reports(pack, tmp_path_factory, once_per_run):
    """{entry name: PackReport} for every entry of the zoo's manifest, graded two at a time, once per
    run, the work shared with any other worker that asks (once_per_run.each)."""
    zips = tmp_path_factory.mktemp("zips")

    def grade(name):
        e = manifest.ENTRIES[name]
        path = submission_zip(ZOO / e["path"], zips / f"{name.replace(':', '_')}.zip") if e.get("zip") \
            else ZOO / e["path"]
        return packs.grade_many(pack, [path], limits=LIMITS, seed=0)[0]

    return once_per_run.each("cs231n_zoo_", list(manifest.ENTRIES), grade, jobs=2)
