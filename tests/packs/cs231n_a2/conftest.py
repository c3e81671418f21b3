"""One grading run of every zoo entry, shared by the pack's tests (a session fixture)."""
import os
import pickle
from pathlib import Path

import pytest
from filelock import FileLock

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
def zoo_reports(pack, tmp_path_factory):
    """{entry name: PackReport} for every entry of the zoo's manifest, graded two at a time.

    Under pytest-xdist the workers share one grading: the first to ask grades the zoo and leaves the
    reports (plain data) in the run's common temporary folder; the others read them."""
    def grade():
        zips = tmp_path_factory.mktemp("zips")
        names = list(manifest.ENTRIES)
        paths = [submission_zip(ZOO / e["path"], zips / f"{n.replace(':', '_')}.zip") if e.get("zip")
                 else ZOO / e["path"] for n, e in ((n, manifest.ENTRIES[n]) for n in names)]
        return dict(zip(names, packs.grade_many(pack, paths, jobs=2, limits=LIMITS, seed=0)))

    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return grade()
    shared = tmp_path_factory.getbasetemp().parent  # one folder for every worker of this run
    with FileLock(str(shared / "cs231n_zoo.lock")):
        cache = shared / "cs231n_zoo.pickle"
        if cache.is_file():
            return pickle.loads(cache.read_bytes())
        reports = grade()
        cache.write_bytes(pickle.dumps(reports))
        return reports
