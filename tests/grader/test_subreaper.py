"""A process that leaves the child's group with setsid() (and loses its parent) is still killed when
the grader is not root, because the child is a subreaper; without that, it survives the group kill.

Each run is a fresh interpreter that plays a grader which is not root (so no uid of its own is
given to the child) and forks the child itself: the subreaper is the only thing that can find it.
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # children that time out for real

# Double fork after setsid: the grandchild is in its own session and its parent is gone.
ESCAPE = """
import os, time
pid = os.fork()
if pid == 0:
    os.setsid()
    if os.fork() == 0:
        os.closerange(3, 4096)  # not holding the child's pipes: the grader is not kept waiting for it
        with open({pidfile!r} + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.rename({pidfile!r} + ".tmp", {pidfile!r})
        time.sleep(120)
        os._exit(0)
    os._exit(0)
os.waitpid(pid, 0)
while not os.path.exists({pidfile!r}):
    time.sleep(0.01)
{after}
"""
GRADER = """
import os, sys
os.geteuid = lambda: 1000  # play a grader that is not root: no uid of its own for the child
from mlp_ref.grader import child
from mlp_ref.packs.dlsp_hw1 import runner as sandbox
if sys.argv[2] == "off":
    child.become_subreaper = lambda: False
# torch is imported before the fork, so the submission starts at once: 2 s is ample for the escape.
run = sandbox.finish(sandbox.start_child(sys.argv[1], [], sandbox.Limits(timeout_s=2.0), from_parent=True))
print(run.ending or "finished", run.timed_out)
"""


def _alive(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            state = next(line for line in f if line.startswith("State:"))
    except (OSError, StopIteration):
        return False
    return "Z" not in state.split()[1]


def _escape(tmp_path, reaper, after):
    pidfile = tmp_path / "escaped.pid"
    sub = tmp_path / "escaper.py"
    sub.write_text(ESCAPE.format(pidfile=str(pidfile), after=after))
    done = subprocess.run([sys.executable, "-c", GRADER, str(sub), reaper], capture_output=True, text=True,
                          timeout=60, cwd=Path(__file__).parents[2])
    assert done.returncode == 0, done.stderr[-2000:]
    pid = int(pidfile.read_text())
    time.sleep(0.2)  # a killed process becomes a zombie until someone reaps it
    return pid, done.stdout


# The child that times out sleeps rather than spins: the claim is about what is killed at the limit, and a
# sleeping child reaches it as surely, without two seconds of CPU.
@pytest.mark.parametrize("after", ["", "while True:\n    time.sleep(1)"], ids=["child-finishes", "child-times-out"])
def test_a_setsid_escapee_is_killed_when_the_child_is_a_subreaper(tmp_path, after):
    pid, out = _escape(tmp_path, "on", after)
    alive = _alive(pid)
    if alive:
        os.kill(pid, signal.SIGKILL)
    assert not alive, f"the escaped process {pid} outlived the grading ({out.strip()})"
    assert ("timeout" in out) == bool(after)


def test_negative_control_without_the_subreaper_the_escapee_survives(tmp_path):
    # The reason the subreaper exists: the group kill misses a process in its own session.
    pid, _ = _escape(tmp_path, "off", "")
    try:
        assert _alive(pid), "the escapee died anyway: this test could not tell the subreaper's work apart"
    finally:
        os.kill(pid, signal.SIGKILL)
