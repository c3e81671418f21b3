"""The grader against submissions that attack it: forged or malformed results, escaping processes,
writes outside the scratch folder, hidden autograd, and bad command lines.

Each grading here runs a few cases only (FEW), in one batch where possible: the claims are about the
grader's plumbing, not about the battery.
"""
import json
import multiprocessing.forkserver
import subprocess
import sys
import os
import time
from pathlib import Path

import pytest

from mlp_ref.cli import check as check_cli
from mlp_ref.cli import main as cli
from mlp_ref.grader import sandbox
from mlp_ref.packs.dlsp_hw1 import battery, grade

pytestmark = pytest.mark.slow  # real children, real limits: make test runs them, make test-fast does not

ZOO = Path(__file__).parent / "zoo"
CORRECT = (ZOO / "correct_vectorised.py").read_text()
FEW = [c for c in battery.build(0) if c.kind == "train"][:2] + [c for c in battery.build(0) if c.kind == "loss"][:1]
LIMITS = sandbox.Limits(timeout_s=15.0)
ROOT = pytest.mark.skipif(os.geteuid() != 0, reason="the child drops privileges only when the grader runs as root")

# Writes `line` to every pipe the child holds (its results pipe among them), then ends the process.
PIPE_WRITER = """
import os, stat
for fd in map(int, os.listdir("/proc/self/fd")):
    try:
        if stat.S_ISFIFO(os.fstat(fd).st_mode) and fd > 2:
            os.write(fd, LINE + b"\\n")
    except OSError:
        pass
os._exit(0)
"""
BAD_LINES = {
    "deep": b"[" * 100000 + b"]" * 100000,
    "bytes_not_int": json.dumps({"event": "output_flood", "bytes": "lots"}).encode(),
    "tracked_unhashable": json.dumps({"event": "case", "case": FEW[0].id, "arrays": {}, "error": None,
                                      "tracked": [[1]], "autograd_calls": 0}).encode(),
    "error_not_dict": json.dumps({"event": "case", "case": FEW[0].id, "arrays": {}, "error": [1]}).encode(),
    "too_long": b'{"event": "x", "pad": "' + b"a" * (sandbox.MAX_LINE + 1) + b'"}',
}


def write(folder, name, source):
    path = Path(folder) / name
    path.write_text(source)
    return path


def graded(paths):
    return grade.grade_many(paths, jobs=2, limits=LIMITS, cases=FEW)


# --- results that would crash the grader ---------------------------------------------------------
@pytest.mark.parametrize("name", sorted(BAD_LINES))
def test_malformed_result_line_is_counted_bad_and_the_rest_kept(name):
    run = sandbox.ChildRun()
    good = json.dumps({"event": "done", "output_bytes": 3}).encode()
    sandbox._read_events(run, BAD_LINES[name] + b"\n" + good + b"\n")
    assert run.bad_lines == 1 and run.events == [{"event": "done", "output_bytes": 3}]


def test_malformed_lines_in_the_pipe_fail_their_submission_and_spare_the_folder(tmp_path):
    bad = [write(tmp_path, f"{n}.py", f"LINE = {BAD_LINES[n]!r}\n{PIPE_WRITER}")
           for n in ("deep", "bytes_not_int", "tracked_unhashable")]
    good = write(tmp_path, "good.py", CORRECT)
    reports = graded(bad + [good])
    assert [r.passed for r in reports] == [False, False, False, True]


# Prints the descriptors the child holds that lead to another process (pipes and sockets).
PIPE_LISTER = """
import os, stat
held = []
for fd in sorted(map(int, os.listdir("/proc/self/fd"))):
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        continue  # the listing's own descriptor, closed by now
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        held.append(fd)
print("pipes held:", held)
"""


def test_the_submission_holds_no_pipe_but_its_results_pipe(tmp_path):
    """Forked from the fork server, a child inherits the server's alive pipe, its resource tracker's
    pipe and multiprocessing's sentinel; all are closed before the submission runs."""
    r = graded([write(tmp_path, "lister.py", PIPE_LISTER + CORRECT)])[0]
    held = next(line for line in r.output_head.splitlines() if line.startswith("pipes held:"))
    assert len(eval(held.partition(":")[2])) == 1, held  # the results pipe
    assert r.passed


def test_a_submission_writing_into_every_pipe_it_holds_leaves_the_fork_server_running(tmp_path):
    """Data in the fork server's alive pipe ends the server (and the next grading starts another, paying
    torch's import again); the child can no longer reach it: the server that graded the file before
    grades the file after."""
    graded([write(tmp_path, "warm.py", CORRECT)])  # the fork server is running
    server = multiprocessing.forkserver._forkserver._forkserver_pid
    assert not graded([write(tmp_path, "writer.py", "LINE = b'{}'\n" + PIPE_WRITER)])[0].passed
    assert graded([write(tmp_path, "after.py", CORRECT)])[0].passed
    assert multiprocessing.forkserver._forkserver._forkserver_pid == server, "the fork server was restarted"


def test_a_grading_that_raises_fails_that_submission_alone(tmp_path, monkeypatch):
    real = grade.grade
    good, bad = write(tmp_path, "good.py", CORRECT), write(tmp_path, "bad.py", CORRECT)

    def flaky(path, **kwargs):
        if Path(path) == bad:
            raise RuntimeError("could not start the child process")
        return real(path, **kwargs)

    monkeypatch.setattr(grade, "grade", flaky)
    r_bad, r_good = grade.grade_many([bad, good], jobs=2, limits=LIMITS, cases=FEW)
    assert r_good.passed
    assert not r_bad.passed and r_bad.problem.startswith("results unreadable: RuntimeError")


# --- forged results, escapes, writes outside the scratch folder ----------------------------------
def test_forged_results_file_and_grader_imports_do_not_pass():
    # hostile_forge_results.py in the zoo is graded on the whole battery there; this says why it fails.
    r = graded([ZOO / "hostile_forge_results.py"])[0]
    assert not r.passed and r.score == 0 and r.interface is None


def test_grader_modules_are_out_of_the_submissions_reach(tmp_path):
    importer = write(tmp_path, "importer.py", "import mlp_ref.packs.dlsp_hw1.oracle\n" + CORRECT)
    looker = write(tmp_path, "looker.py", "import sys\nassert not [m for m in sys.modules if m.startswith('mlp_ref')]"
                   ", 'grader modules in sys.modules'\n" + CORRECT)
    r_import, r_look = graded([importer, looker])
    assert not r_import.passed and "the grader's own modules are not available to a submission" in r_import.problem
    assert r_look.passed, r_look.problem


@ROOT
def test_submission_cannot_write_where_only_root_can(tmp_path):
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    target = private / "planted.txt"
    sub = write(tmp_path, "sub.py", f"try:\n    open({str(target)!r}, 'w').write('x')\nexcept OSError:\n    pass\n"
                + CORRECT)
    r = graded([sub])[0]
    assert r.interface == "homework"  # it ran
    assert not target.exists()


@ROOT
def test_processes_a_submission_leaves_behind_are_killed(tmp_path):
    marker = tmp_path / "alive"
    os.chmod(tmp_path, 0o777)  # the escaped processes, running as the child's uid, touch the marker here
    escape = f"""
import os, time
for _ in range(10):
    if os.fork() == 0:
        os.setsid()
        for _ in range(15):
            open({str(marker)!r}, "a").close()
            os.utime({str(marker)!r})
            time.sleep(0.2)
        os._exit(0)
"""
    sub = write(tmp_path, "sub.py", escape + CORRECT)
    graded([sub])
    assert marker.exists(), "the escape never ran: the test proves nothing"
    seen = marker.stat().st_mtime
    time.sleep(0.6)
    assert marker.stat().st_mtime == seen, "a process the submission forked is still running"


# --- autograd the guard must see -----------------------------------------------------------------
FORWARD_MODE = {
    "make_dual": "import torch.autograd.forward_ad as fwAD\n"
                 "with fwAD.dual_level():\n    fwAD.make_dual(torch.ones(1), torch.ones(1))\n",
    "jacfwd": "torch.func.jacfwd(torch.sin)(torch.ones(2))\n",
    "jvp": "torch.func.jvp(torch.sin, (torch.ones(2),), (torch.ones(2),))\n",
}
IN_BACKWARD = """
_hand_written = MLP.backward


def _backward(self, dJdy_hat):
{body}    return _hand_written(self, dJdy_hat)


MLP.backward = _backward
"""
AUTOGRAD = {
    "import_time_backward": "import torch\ntorch.ones(2, requires_grad=True).sum().backward()\n" + CORRECT,
    "import_time_engine_restored": "from torch.autograd.variable import Variable\n"
                                   "Variable._execution_engine = Variable._execution_engine.__class__.__dict__"
                                   "['run_backward'].__closure__[0].cell_contents\n" + CORRECT,
    **{f"forward_mode_{k}": CORRECT + IN_BACKWARD.format(body="".join("    " + line + "\n" for line in v.splitlines()))
       for k, v in FORWARD_MODE.items()},
    # A new engine of torch's own C type, not the one the guard wraps.
    "fresh_engine": CORRECT + IN_BACKWARD.format(body="    t = torch.ones(2, requires_grad=True)\n"
                                                      "    torch._C._ImperativeEngine().run_backward("
                                                      "((t * t).sum(),), (torch.ones(()),), False, False, (t,), "
                                                      "False, False)\n"),
}


def test_autograd_anywhere_fails_with_autograd_used(tmp_path):
    names = sorted(AUTOGRAD)
    reports = graded([write(tmp_path, f"{n}.py", AUTOGRAD[n]) for n in names])
    for name, r in zip(names, reports):
        assert r.interface == "homework", f"{name}: {r.problem}"
        assert not r.passed and "autograd_used" in [d for d, _, _ in r.diagnoses], name


def test_correct_submission_is_not_flagged_by_the_autograd_guard(tmp_path):
    # Negative control for the test above: the same source without the autograd calls passes.
    assert graded([write(tmp_path, "correct.py", CORRECT)])[0].passed


# --- the command line ----------------------------------------------------------------------------
def check(argv, capsys):
    code = cli.main(["check", *argv])
    return code, capsys.readouterr()


@pytest.mark.parametrize("argv, words", [
    (["tests/grader/zoo/correct_einsum.py", "--gradescope", "no/such/folder/results.json"],
     "--gradescope: expected a file in an existing, writable folder"),
    (["pyproject.toml"], "not a .py file"),
])
def test_unusable_paths_exit_2_before_grading(argv, words, capsys):
    code, out = check(argv, capsys)
    assert code == 2 and words in out.err and out.out == ""


def test_failed_import_scores_nothing_not_even_the_output_check(tmp_path):
    r = graded([write(tmp_path, "broken.py", "def oops(:\n")])[0]
    assert r.score == 0 and not r.passed


def test_json_reports_are_strict_json_with_non_finite_values():
    # ReLU'(0) computed as relu(z) / z: NaN in dW1 exactly where the zero-preactivation cases put z1 = 0.
    zeros = [c for c in battery.build(0) if "zero-preactivation" in c.describe][:1]
    r = grade.grade(ZOO / "bug_non_finite.py", limits=LIMITS, cases=zeros)
    assert "NaN" in json.dumps(check_cli.report.as_json(r)) or "Infinity" in json.dumps(check_cli.report.as_json(r)), \
        "no non-finite value in this report: the test proves nothing"
    text = check_cli.dumps(check_cli.report.as_json(r))

    def refuse(token):
        raise ValueError(f"non-standard JSON token {token}")

    json.loads(text, parse_constant=refuse)
    json.loads(check_cli.dumps(check_cli.report.gradescope(r)), parse_constant=refuse)


# --- writing into the child's inherited pipes, then carrying on ---------------------------------
LONE_GRADER = """
import sys, time
from mlp_ref.packs.dlsp_hw1 import runner as sandbox
from mlp_ref.packs.dlsp_hw1 import battery
ids = [c.id for c in battery.build(0)]  # enough results to fill the pipe
t0 = time.perf_counter()
run = sandbox.finish(sandbox.start_child(sys.argv[1], ids, sandbox.Limits(timeout_s=6.0), from_parent=True))
print(round(time.perf_counter() - t0, 1), run.ending or "finished")
"""


def test_a_line_written_into_the_childs_pipes_cannot_hang_the_grader(tmp_path):
    """A lone `mlp-ref check FILE` forks the child itself, which inherits every descriptor the grader holds,
    multiprocessing's sentinel pipe among them (a line written there would make the sentinel readable
    while the child lives, and a join() wait for it forever). The child closes all but its results pipe,
    and whatever it writes into the pipes it holds, the grader ends it within its time limit. Negative
    control: without the writes, the run finishes well inside it."""
    sub = write(tmp_path, "sentinel_writer.py", PIPE_WRITER.replace("os._exit(0)\n", "").replace(
        "import os, stat", "import os, stat\nLINE = b'{}'") + CORRECT)
    control = write(tmp_path, "control.py", CORRECT)
    for path in (sub, control):
        done = subprocess.run([sys.executable, "-c", LONE_GRADER, str(path)], capture_output=True, text=True,
                              timeout=60, cwd=Path(__file__).parents[2])
        seconds, ending = done.stdout.split()
        # The limit is 6 s, the bound 12 s: room for a busy machine, and far below a join() that never returns.
        assert float(seconds) < 12.0, (path.name, done.stdout, done.stderr[-500:])
        if path == control:
            assert ending == "finished", done.stdout


def test_a_case_answered_with_autograd_earns_nothing():
    """Autograd in backward fails every case it ran in, not just the one contract check; a case it did
    not run in (the loss alone) keeps its point. Control: the same cases of a correct file all pass."""
    r = grade.grade(ZOO / "bug_autograd_used_backward.py", limits=LIMITS, cases=FEW)
    by_kind = {c.case.kind: c for c in r.checks if c.case is not None and c.section != "probe"}
    assert not by_kind["train"].passed and by_kind["train"].diagnosis == "autograd_used"
    assert by_kind["loss"].passed
    assert all(c.passed for c in grade.grade(ZOO / "correct_vectorised.py", limits=LIMITS, cases=FEW).checks
               if c.case is not None and c.section != "probe")
