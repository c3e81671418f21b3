"""The integrity scan flags each listed token with its line quoted, sees through strings, ignores
comments and prose, and never costs points."""
from pathlib import Path

import pytest

from mlp_ref.grader import integrity
from mlp_ref.packs.dlsp_hw1 import battery, submission

ZOO = Path(__file__).parent / "zoo"
FEW = [c for c in battery.build(0) if c.kind == "train"][:2]


@pytest.mark.parametrize("line, kind", [
    ("loss.backward()", "autograd"),
    ("g = torch.autograd.grad(J, W)", "autograd"),
    ("from torch import autograd", "autograd"),
    ("import torch.func", "autograd"),
    ("from torch.func import grad", "autograd"),
    ("W = W.detach().requires_grad_()", "autograd"),
    ("t = torch.zeros(3, requires_grad=True)", "autograd"),
    ("engine = getattr(torch, 'autograd')", "autograd"),
    ("import gc", "introspection"),
    ("import ctypes", "introspection"),
    ("from inspect import getsource", "introspection"),
    ("cells = f.__closure__", "introspection"),
    ("sys.modules['torch'] = fake", "introspection"),
    ("del sys.modules['numpy']", "introspection"),
    ("sys.modules.pop('mlp_ref', None)", "introspection"),
    ("maps = open('/proc/self/maps').read()", "introspection"),
    ("pid = os.fork()", "process"),
    ("from os import fork", "process"),
    ("import subprocess", "process"),
    ("os.setsid()", "process"),
])
def test_each_listed_token_is_flagged_with_its_line_quoted(line, kind):
    source = "import os, sys, torch\n\n\ndef f(J, W):\n    " + line + "\n"
    flags = [f for f in integrity.scan(source) if f.line == 5]
    assert [f.kind for f in flags] == [kind], flags
    assert flags[0].quote == line


@pytest.mark.parametrize("line", [
    "# call loss.backward() here? no: requires_grad and torch.autograd are not allowed",
    "'''Hand-written backward: no autograd, no subprocess, nothing from /proc.'''",
    "self.func = func",
    "y = np.dot(a, b)",
    "modules = dict(sys.modules)",
    "pid = self.fork",
])
def test_comments_prose_and_lookalikes_are_not_flagged(line):
    assert integrity.scan("import sys\nimport numpy as np\n" + line + "\n") == []


def test_a_file_that_does_not_parse_is_still_scanned_by_tokens():
    flags = integrity.scan("import subprocess\nx = requires_grad\ndef f(:\n")
    assert {(f.kind, f.line) for f in flags} == {("process", 1), ("autograd", 2)}


def test_a_clean_correct_submission_has_no_flags():
    assert integrity.scan((ZOO / "correct_vectorised.py").read_text()) == []


def test_a_flag_costs_no_points(tmp_path):
    # correct_autograd_imported.py imports torch.autograd and never runs it: flagged, still full marks.
    r = submission.grade_file(ZOO / "correct_autograd_imported.py", cases=FEW)
    assert r.flags and {f.kind for f in r.flags} == {"autograd"}
    assert r.passed and r.score == r.max_score


def test_autograd_that_runs_is_flagged_and_fails_through_the_contract_check_not_the_flag():
    r = submission.grade_file(ZOO / "bug_autograd_used.py", cases=FEW)
    assert any(f.kind == "autograd" for f in r.flags)
    contract = [c for c in r.checks if c.section == "contract" and c.diagnosis == "autograd_used"]
    assert contract and not contract[0].passed


@pytest.mark.parametrize("source", ["x = " + "(" * 200_000 + ")" * 200_000, "\x00\x00 \"\"\"",
                                    "def f(:\n\t  \t return '''"])
def test_hostile_or_broken_source_never_breaks_the_scan(source):
    assert integrity.scan(source) == []


def test_a_huge_file_is_scanned_in_whole_lines_up_to_the_cap():
    line = "import gc  # " + "x" * 1000 + "\n"
    flags = integrity.scan(line * (3 * integrity.MAX_SOURCE // len(line)))
    assert len(flags) == integrity.MAX_SOURCE // len(line)  # every whole line within the cap, none after


def test_the_homeworks_own_backward_is_not_autograd():
    """Training with the submission's own model calls its hand-written backward(dJdy_hat): no flag.
    Negative control: the same call on a tensor, as autograd takes it, is flagged."""
    source = ("class MLP:\n    def backward(self, d):\n        return d\n"
              "    def train(self, d):\n        self.backward(d)\n"
              "net = MLP()\nnet.backward(1)\n")
    assert integrity.scan(source) == []
    flags = integrity.scan(source + "y_hat.backward(d)\n")
    assert [(f.kind, f.line) for f in flags] == [("autograd", 8)]


def test_the_scans_parse_one_thread_at_a_time(monkeypatch):
    """CPython 3.11's parser is not thread-safe (a folder run once failed a correct file with
    "SystemError: AST constructor recursion depth mismatch"): every parse the scans make, those inside
    ast.literal_eval included, runs under the one parse lock."""
    import ast

    from mlp_ref.grader import source
    from mlp_ref.packs.dlsp_hw1 import probe

    held, seen = [False], []

    class Lock:
        def __enter__(self):
            held[0] = True

        def __exit__(self, *exc):
            held[0] = False

    real = ast.parse
    monkeypatch.setattr(source, "_PARSE", Lock())
    monkeypatch.setattr(ast, "parse", lambda *a, **k: (seen.append(held[0]), real(*a, **k))[1])
    integrity.scan((ZOO / "correct_vectorised.py").read_text() + "x = 'torch.autograd'\n")
    probe.scan((ZOO / "correct_default_dtype_helpers.py").read_text())
    assert len(seen) >= 3 and all(seen), seen  # the two trees and a literal, each under the lock


def test_every_parse_in_the_grading_process_goes_through_the_one_lock():
    """The packs grade in threads too (the cs231n-a2 variant detection parses each package's layers):
    outside mlp_ref/grader/source.py no module calls ast.parse or ast.literal_eval itself."""
    import re
    from pathlib import Path

    import mlp_ref

    root = Path(mlp_ref.__file__).parent
    calls = [f"{p.relative_to(root)}:{n}" for p in sorted(root.rglob("*.py")) if p.name != "source.py"
             for n, line in enumerate(p.read_text().splitlines(), 1) if re.search(r"\bast\.(parse|literal_eval)\(", line)]
    assert calls == []


def test_backward_on_the_submissions_own_objects_is_not_autograd_on_a_tensor_it_is():
    """An activation object's own backward (`self.g_function.backward(dJdy_hat, z3)`, the instance of a
    class the file defines, set directly or picked from a table of them) is hand-written: no flag.
    Negative controls: a tensor's .backward() (a loss, a call's result, torch.autograd.backward) is flagged."""
    source = ("class Sigmoid:\n    def backward(self, dout, z):\n        return dout\n"
              "ACTS = {'sigmoid': Sigmoid()}\n"
              "class MLP:\n"
              "    def __init__(self, g):\n"
              "        self.g_function = Sigmoid()\n"
              "        self.f_function = ACTS[g]\n"
              "    def backward(self, dJdy_hat, z3):\n"
              "        d = self.g_function.backward(dJdy_hat, z3)\n"
              "        return self.f_function.backward(d, z3)\n"
              "net = MLP('sigmoid')\nnet.backward(1, 2)\nnet.g_function.backward(1, 2)\n")
    assert integrity.scan(source) == []
    tensors = ["loss.backward()", "y_hat.sum().backward()", "torch.autograd.backward(loss)", "self.loss.backward()"]
    flags = integrity.scan(source + "\n".join(tensors) + "\n")
    first = len(source.splitlines()) + 1
    assert [(f.kind, f.line) for f in flags] == [("autograd", first + i) for i in range(len(tensors))]
