"""Test-session set-up: mlp_ref.env puts the thread variables in the environment before numpy or
torch loads (see that module for why); `once_per_run` shares a costly result between the workers."""
import os
import pickle

import mlp_ref.env  # noqa: F401
import pytest
from filelock import FileLock


@pytest.fixture(scope="session")
def once_per_run(tmp_path_factory):
    """once_per_run(name, compute) -> compute(), computed once per test run.

    Kept for this process; under pytest-xdist the first worker to ask computes it and leaves it (plain
    data, pickled) in the run's common temporary folder, where the others wait for it and read it."""
    kept = {}
    workers = bool(os.environ.get("PYTEST_XDIST_WORKER"))
    if workers:
        # Made here, in the fixture's own thread: pytest creates its temporary folders lazily and
        # not thread-safely, and callers may ask from several threads at once.
        shared = tmp_path_factory.getbasetemp().parent / "once_per_run"  # one folder for every worker of this run
        shared.mkdir(exist_ok=True)

    def compute_or_read(name, compute):
        if not workers:
            return compute()
        with FileLock(str(shared / f"{name}.lock")):
            cache = shared / f"{name}.pickle"
            if cache.is_file():
                return pickle.loads(cache.read_bytes())
            value = compute()
            cache.write_bytes(pickle.dumps(value))
            return value

    def get(name, compute):
        if name not in kept:
            kept[name] = compute_or_read(name, compute)
        return kept[name]

    return get
