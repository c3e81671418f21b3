"""Test-session set-up: mlp_ref.env puts the thread variables in the environment before numpy or
torch loads (see that module for why); `once_per_run` shares a costly result between the workers."""
import concurrent.futures
import os
import pickle
import re

import mlp_ref.env  # noqa: F401
import pytest
from filelock import FileLock, Timeout

STARTED_ELSEWHERE = object()  # OncePerRun._get without waiting: another worker holds the entry


class OncePerRun:
    """once_per_run(name, compute) -> compute(), computed once per test run.

    Kept for this process; under pytest-xdist the first worker to ask computes it and leaves it (plain
    data, pickled) in the run's common temporary folder, where the others wait for it and read it.
    once_per_run.each(prefix, names, compute) shares a list of such results, see there."""

    def __init__(self, shared, worker):
        self.shared, self.worker, self.kept = shared, worker, {}

    def _get(self, name, compute, wait=True):
        """The kept value, or the one another worker left, or compute() left for the others; with
        wait=False, STARTED_ELSEWHERE instead of waiting while another worker computes it."""
        if name in self.kept:
            return self.kept[name]
        if self.shared is None:
            self.kept[name] = compute()
            return self.kept[name]
        stem = re.sub(r"[^\w.-]", "_", name)
        lock, cache = FileLock(str(self.shared / f"{stem}.lock")), self.shared / f"{stem}.pickle"
        try:
            lock.acquire(timeout=None if wait else 0)
        except Timeout:
            return STARTED_ELSEWHERE
        try:
            if cache.is_file():
                self.kept[name] = pickle.loads(cache.read_bytes())
            else:
                self.kept[name] = compute()
                cache.write_bytes(pickle.dumps(self.kept[name]))
        finally:
            lock.release()
        return self.kept[name]

    def __call__(self, name, compute):
        return self._get(name, compute)

    def each(self, prefix, names, compute, jobs=2):
        """{name: compute(name)} for every name, each kept as once_per_run(prefix + name), `jobs` at a time.

        A worker takes first the entries no other worker has started, the second worker going from the
        far end of the list, then reads the others as they are written: a worker that asks while another
        is at it shares the work instead of waiting for all of it."""
        order = list(names) if self.worker % 2 == 0 else list(names)[::-1]
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            first = pool.map(lambda n: self._get(prefix + n, lambda: compute(n), wait=False), order)
            started_elsewhere = [n for n, value in zip(order, list(first)) if value is STARTED_ELSEWHERE]
            list(pool.map(lambda n: self._get(prefix + n, lambda: compute(n)), started_elsewhere))
        return {name: self.kept[prefix + name] for name in names}


@pytest.fixture(scope="session")
def once_per_run(tmp_path_factory):
    """The session's OncePerRun (see there)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return OncePerRun(None, 0)
    # Made here, in the fixture's own thread: pytest creates its temporary folders lazily and
    # not thread-safely, and callers may ask from several threads at once.
    shared = tmp_path_factory.getbasetemp().parent / "once_per_run"  # one folder for every worker of this run
    shared.mkdir(exist_ok=True)
    return OncePerRun(shared, int(re.sub(r"\D", "", worker) or 0))
