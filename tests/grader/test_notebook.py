"""Notebook submissions: code cells in order, IPython magics and shell lines dropped, graded as the
module, lines reported as "cell C, line L"; a folder grades a notebook like a .py and says which of
a .py/.ipynb pair it graded."""
import json
from pathlib import Path

import pytest

from mlp_ref.grader import notebook
from mlp_ref.packs.dlsp_hw1 import battery, report, submission

ZOO = Path(__file__).parent / "zoo"
FEW = [c for c in battery.build(0) if c.kind == "train"][:2] + [c for c in battery.build(0) if c.kind == "loss"][:2]


def nb(*cells):
    """A notebook's JSON text; a cell is ("code" | "markdown", source); sources alternate str and list form."""
    return json.dumps({"cells": [{"cell_type": kind, "metadata": {}, "source": src if i % 2 else src.splitlines(True)}
                                 for i, (kind, src) in enumerate(cells)], "metadata": {}, "nbformat": 4,
                       "nbformat_minor": 5})


def as_notebook(py_text):
    """A .py split into code cells at its blank-line pairs, with a markdown cell and magics around them."""
    parts = py_text.split("\n\n\n")
    return nb(("markdown", "# HW1\nmy answers"), ("code", "%matplotlib inline\n!pip install torch\nimport numpy"),
              *[("code", p) for p in parts], ("code", "%%bash\necho not python\n"))


def test_magics_and_shell_lines_are_dropped_and_every_other_line_keeps_its_place():
    m = notebook.to_module(nb(("markdown", "text"), ("code", "%time x = 1\nif True:\n    !ls\n    y = 2\nz = !pwd\nz?"),
                              ("code", "%%writefile a.txt\nnot python\n"), ("code", "w = 3")))
    ns = {}
    exec(compile(m.source, "nb", "exec"), ns)
    assert ns["y"] == 2 and ns["w"] == 3 and "x" not in ns and "z" not in ns
    assert m.dropped == 6  # %time, !ls, z = !pwd, z?, and the %%writefile cell's two lines
    line_of_y = m.source.splitlines().index("    y = 2") + 1
    assert m.where(line_of_y) == "cell 2, line 4"
    assert m.where(m.source.splitlines().index("w = 3") + 1) == "cell 4, line 1"


@pytest.mark.parametrize("text, says", [("{not json", "not JSON"), ('{"cells": 3}', "list of 'cells'"),
                                         ('{"cells": [{"cell_type": "code", "source": 5}]}', "cell 1's source"),
                                         ('[1, 2]', "list of 'cells'"), ("[" * 100_000, "not JSON"),
                                         (" " * (notebook.MAX_CHARS + 1), "too large")])
def test_a_file_that_is_not_a_notebook_is_refused_with_the_reason(text, says):
    with pytest.raises(notebook.NotebookError, match=says):
        notebook.to_module(text)


def test_a_notebook_of_the_correct_code_passes_as_the_py_does(tmp_path):
    p = tmp_path / "hw.ipynb"
    p.write_text(as_notebook((ZOO / "correct_vectorised.py").read_text()))
    r = submission.grade_file(p, cases=FEW)
    assert r.passed and r.interface == "homework" and r.path == str(p)


def test_a_buggy_notebook_fails_with_the_same_diagnosis_as_its_py(tmp_path):
    p = tmp_path / "hw.ipynb"
    p.write_text(as_notebook((ZOO / "bug_wrong_sign.py").read_text()))
    r = submission.grade_file(p, cases=FEW)
    assert not r.passed and "wrong_sign" in [d for d, _, _ in r.diagnoses]


def test_an_error_in_a_notebook_is_reported_by_cell_and_line(tmp_path):
    p = tmp_path / "hw.ipynb"
    p.write_text(nb(("markdown", "intro"), ("code", "import numpy as np\n%who"), ("code", "x = 1\n\ndef f(:\n    pass")))
    r = submission.grade_file(p, cases=FEW)
    assert not r.passed and r.interface is None
    text = submission.notebook_lines(report.text(r), r.module)
    assert "cell 3, line 3: def f(:" in text and "line 6:" not in text  # the line of the module it became


def test_a_broken_notebook_fails_its_import_check_with_the_reason(tmp_path):
    p = tmp_path / "hw.ipynb"
    p.write_text("{ this is not json")
    r = submission.grade_file(p, cases=FEW)
    assert not r.passed and r.outcome == "import_error" and "not JSON" in r.problem


def test_a_folder_grades_notebooks_and_names_the_file_graded_of_a_pair(tmp_path):
    (tmp_path / "ann").mkdir()
    (tmp_path / "ann" / "mlp.py").write_text("x = 1\n")
    (tmp_path / "ann" / "mlp.ipynb").write_text(nb(("code", "x = 1")))
    (tmp_path / "bo.ipynb").write_text(nb(("code", "x = 1")))
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "bo-checkpoint.ipynb").write_text(nb(("code", "x = 1")))
    files = {str(p.relative_to(tmp_path)): note for p, note in submission.folder_files(tmp_path)}
    assert set(files) == {"ann/mlp.py", "bo.ipynb"}
    assert files["ann/mlp.py"] == "both mlp.py and mlp.ipynb were submitted: graded mlp.py" and files["bo.ipynb"] == ""


@pytest.mark.parametrize("names, wanted, graded, note", [
    (["mlp.py"], None, "mlp.py", ""),
    (["hw.ipynb"], "mlp.py", "hw.ipynb", ""),
    (["mlp.ipynb"], "mlp.py", "mlp.ipynb", "no mlp.py was submitted: graded mlp.ipynb"),
    (["mlp.py", "mlp.ipynb"], None, "mlp.py", "both mlp.py and mlp.ipynb were submitted: graded mlp.py"),
    (["mlp.py", "scratch.py"], "mlp.py", "mlp.py", "graded mlp.py; also submitted, not graded: scratch.py"),
])
def test_gradescope_picks_one_file_and_says_why(tmp_path, names, wanted, graded, note):
    for n in names:
        (tmp_path / n).write_text("x = 1\n")
    path, said = submission.pick(tmp_path, wanted)
    assert (path.name, said) == (graded, note)


@pytest.mark.parametrize("names, says", [([], "no .py or .ipynb file"), (["a.py", "b.py"], "2 candidate files"),
                                         (["notes.txt"], "no .py or .ipynb file")])
def test_gradescope_refuses_to_guess(tmp_path, names, says):
    for n in names:
        (tmp_path / n).write_text("x = 1\n")
    with pytest.raises(submission.NoSubmission, match=says):
        submission.pick(tmp_path, None)
