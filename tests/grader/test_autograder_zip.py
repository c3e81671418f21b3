"""The built zip, end to end: run_autograder in a folder laid out like Gradescope's (source/,
submission/, results/) on a correct file, a buggy one, a notebook, nothing, two candidates, and a
grader that breaks; setup.sh in a fresh venv (opt-in: it installs torch, 45 s to over a minute here)."""
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from mlp_ref.cli import main as cli

pytestmark = pytest.mark.slow
HERE = Path(__file__).parent
ZOO = HERE / "zoo"
HW1 = HERE / "configs" / "hw1.toml"
VISIBILITY = {"losses": "visible", "backward": "visible", "end to end": "after_due_date", "edge": "hidden",
              "contract": "after_published"}  # as hw1.toml says


@pytest.fixture(scope="module")
def zip_path(tmp_path_factory, once_per_run):
    """The zip, built once per run."""
    def build():
        out = tmp_path_factory.mktemp("built") / "autograder.zip"
        assert cli.main(["autograder", "--config", str(HW1), "--out", str(out)]) == 0
        return out

    return once_per_run("autograder_zip", build)


def gradescope_root(tmp_path, zip_path, files):
    """/autograder as Gradescope lays it out: the zip in source/, run_autograder copied up, the submission."""
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(root / "source")
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    os.chmod(root / "run_autograder", 0o755)
    for name, text in files.items():
        (root / "submission" / name).write_text(text)
    return root


def run_autograder(root, python=sys.executable):
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), MLP_REF_PYTHON=str(python))
    done = subprocess.run([str(root / "run_autograder")], env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads((root / "results" / "results.json").read_text())


def as_notebook(py_text):
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["# HW1\n"]},
             {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 1,
              "source": ["%matplotlib inline\n", "!pip install numpy\n"]}]
    cells += [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": part}
              for part in py_text.split("\n\n\n")]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def test_the_zip_has_gradescopes_two_scripts_at_its_root_executable(zip_path):
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
    assert {"setup.sh", "run_autograder", "assignment.toml", "assignment.json"} <= set(names)
    assert any(n.startswith("mlp_ref-") and n.endswith(".whl") for n in names)
    assert all(modes[n] & 0o111 for n in ("setup.sh", "run_autograder"))
    setup = zipfile.ZipFile(zip_path).read("setup.sh").decode()
    assert "torch==2.13.0" in setup and "numpy==" in setup and "@" not in setup.replace("$@", "")


def test_a_correct_submission_scores_exactly_the_total_with_the_configured_visibilities(tmp_path, zip_path):
    res = run_autograder(gradescope_root(tmp_path, zip_path, {"mlp.py": (ZOO / "correct_vectorised.py").read_text()}))
    assert res["score"] == 10.0
    tests = {t["name"]: t for t in res["tests"]}
    assert {name: tests[name]["visibility"] for name in VISIBILITY} == VISIBILITY
    assert sum(t["max_score"] for t in res["tests"]) == 10.0
    assert all(t["score"] == t["max_score"] for t in res["tests"])
    assert len(res["tests"]) <= 20 and res["stdout_visibility"] == "hidden"
    staff = next(t for t in res["tests"] if t["visibility"] == "hidden" and t["name"].startswith("staff"))
    assert "float64 probe (not scored):" in staff["output"] and "runs in float64: yes" in staff["output"]
    assert "headroom: the worst graded error is" in staff["output"]


def test_a_buggy_submission_scores_less_and_says_why_even_when_it_forges_results_json(tmp_path, zip_path):
    # It writes a full score to results.json by its absolute path at import: the grader's file replaces it.
    results = tmp_path / "autograder" / "results" / "results.json"
    forge = (f"import json, os\ntry:\n    os.makedirs({str(results.parent)!r}, exist_ok=True)\n"
             f"    json.dump({{'score': 10.0, 'tests': []}}, open({str(results)!r}, 'w'))\nexcept OSError:\n    pass\n")
    res = run_autograder(gradescope_root(tmp_path, zip_path, {"mlp.py": forge + (ZOO / "bug_half_mse.py").read_text()}))
    assert 0 < res["score"] < 10.0
    losses = next(t for t in res["tests"] if t["name"] == "losses")
    assert losses["score"] < losses["max_score"] and "half_mse" in losses["output"]


def test_a_notebook_of_the_correct_code_scores_the_total(tmp_path, zip_path):
    nb = as_notebook((ZOO / "correct_vectorised.py").read_text())
    res = run_autograder(gradescope_root(tmp_path, zip_path, {"mlp.ipynb": nb}))
    assert res["score"] == 10.0
    staff = next(t for t in res["tests"] if t["visibility"] == "hidden" and t["name"].startswith("staff"))
    assert "no mlp.py was submitted: graded mlp.ipynb" in staff["output"]


def test_an_empty_submission_scores_0_with_a_clear_message(tmp_path, zip_path):
    res = run_autograder(gradescope_root(tmp_path, zip_path, {}))
    assert res["score"] == 0 and len(res["tests"]) == 1
    assert "no .py or .ipynb file was found" in res["tests"][0]["output"] and "mlp.py" in res["tests"][0]["output"]
    assert res["tests"][0]["visibility"] == "visible"


def test_a_submission_refused_before_grading_is_answered_without_loading_torch(tmp_path, zip_path):
    """Nothing to grade, nothing to compute: the message comes from the grader alone (about 0.4 s here,
    where loading torch for it took 2 s)."""
    root = gradescope_root(tmp_path, zip_path, {})
    probe = ("import sys\nfrom mlp_ref.cli.main import main\n"
             "code = main(['autograder', '--config', sys.argv[1], '--run-in', sys.argv[2]])\n"
             "assert 'torch' not in sys.modules, 'torch was loaded'\nsys.exit(code)\n")
    done = subprocess.run([sys.executable, "-c", probe, str(root / "source" / "assignment.json"), str(root)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "no .py or .ipynb file was found" in (root / "results" / "results.json").read_text()


def test_two_candidates_with_neither_the_expected_name_are_refused_not_guessed(tmp_path, zip_path):
    code = (ZOO / "correct_vectorised.py").read_text()
    res = run_autograder(gradescope_root(tmp_path, zip_path, {"a.py": code, "b.py": code}))
    assert res["score"] == 0 and "2 candidate files" in res["output"] and "mlp.py" in res["output"]


def test_two_candidates_one_of_them_the_expected_name_grades_it_and_says_so(tmp_path, zip_path):
    files = {"mlp.py": (ZOO / "correct_vectorised.py").read_text(), "scratch.py": "raise SystemExit(3)\n"}
    res = run_autograder(gradescope_root(tmp_path, zip_path, files))
    assert res["score"] == 10.0 and "also submitted, not graded: scratch.py" in res["output"]


def _python(tmp_path, fails_for):
    """An interpreter that fails (as a broken install would) when its arguments match `fails_for`."""
    broken = tmp_path / "python"
    broken.write_text(f'#!/bin/sh\ncase "$*" in {fails_for}) echo "Traceback: ImportError: boom" >&2; exit 1;; '
                      f'esac\nexec {sys.executable} "$@"\n')
    broken.chmod(0o755)
    return broken


def test_a_grader_that_breaks_still_leaves_results_json_with_the_traceback_for_staff(tmp_path, zip_path):
    root = gradescope_root(tmp_path, zip_path, {"mlp.py": "x = 1\n"})
    res = run_autograder(root, python=_python(tmp_path, "*--run-in*"))
    assert res["score"] == 0
    visible = [t for t in res["tests"] if t["visibility"] == "visible"]
    assert visible[0]["name"] == "The autograder failed; tell your instructor"
    assert any("ImportError: boom" in t["output"] for t in res["tests"] if t["visibility"] == "hidden")


def test_with_no_working_python_at_all_a_fixed_results_json_is_still_written(tmp_path, zip_path):
    root = gradescope_root(tmp_path, zip_path, {"mlp.py": "x = 1\n"})
    res = run_autograder(root, python=_python(tmp_path, "*"))
    assert res["score"] == 0 and res["tests"][0]["name"] == "The autograder failed; tell your instructor"


@pytest.mark.skipif(not os.environ.get("MLP_REF_SETUP_TEST"),
                    reason="installs torch into a fresh venv (45 s to over a minute here, a third of make test); set MLP_REF_SETUP_TEST=1 to run")
def test_setup_sh_installs_the_grader_into_a_fresh_venv_which_then_grades(tmp_path, zip_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    root = gradescope_root(tmp_path, zip_path, {"mlp.py": (ZOO / "correct_vectorised.py").read_text()})
    python = venv / "bin" / "python"
    # The default torch index is PyTorch's; here pip's own configuration (a local wheel folder) serves it.
    env = dict(os.environ, MLP_REF_PYTHON=str(python), MLP_REF_TORCH_INDEX="")
    done = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=env, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "installed: torch 2.13.0" in done.stdout
    res = run_autograder(root, python=python)
    assert res["score"] == 10.0
