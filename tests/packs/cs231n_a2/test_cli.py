"""`mlp-ref check --assignment cs231n-a2`: one package, a zip, a class folder; JSON and text; templates;
refusals with exit 2 naming the valid values; --variant overriding the detection."""
import json
import shutil

import pytest

from mlp_ref.cli.main import main

from .conftest import HERE, ZOO
from .zoo.packaging import submission_zip

CORRECT = HERE / "packages" / "student2021"
BUG = ZOO / "bugs" / "eps_outside_sqrt"
FAST = ["--case-timeout", "2"]


def check(argv, capsys):
    code = main(["check", "--assignment", "cs231n-a2", *FAST, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_has_passed_and_one_row_per_unit(capsys):
    code, out, _ = check(["--json", str(CORRECT)], capsys)
    data = json.loads(out)
    assert code == 0 and data["passed"] is True
    assert data["variant"] == "2021" and "dropout_keep_ratio" in data["variant_why"]
    assert len(data["units"]) == 27
    for unit in data["units"]:
        assert {"name", "status", "diagnosis", "message"} <= set(unit)
        assert unit["status"] == "pass" and unit["diagnosis"] is None


def test_a_bug_fails_with_its_diagnosis_and_fix_first(capsys):
    code, out, _ = check([str(BUG)], capsys)
    lines = out.splitlines()
    assert code == 1
    assert lines[2] == "failures:" and "batchnorm_forward" in lines[3]
    assert "diagnosis [eps_outside_sqrt]" in out and "fix: divide by np.sqrt(var + eps)" in out
    assert lines[-1].endswith("-> FAIL") and "units pass" in lines[-1]


def test_the_course_zip_is_graded_like_its_folder(tmp_path, capsys):
    path = submission_zip(CORRECT, tmp_path / "assignment2.zip")
    code, out, _ = check(["--json", str(path)], capsys)
    assert code == 0 and json.loads(out)["passed"] is True


def test_a_class_folder_gets_one_row_each(tmp_path, capsys):
    shutil.copytree(CORRECT, tmp_path / "alice")
    shutil.copytree(BUG, tmp_path / "bob")
    submission_zip(CORRECT, tmp_path / "carol.zip")
    (tmp_path / "notes.txt").write_text("not a submission")
    code, out, err = check(["--jobs", "2", "--quiet", str(tmp_path)], capsys)
    rows = out.splitlines()
    assert code == 1 and len(rows) == 4
    assert rows[0].startswith("path,passed,score,max_score,variant,affine_forward")
    by_name = {r.split(",")[0].rsplit("/", 1)[-1]: r for r in rows[1:]}
    assert set(by_name) == {"alice", "bob", "carol.zip"}
    assert ",True," in by_name["alice"] and ",True," in by_name["carol.zip"]
    assert "fail [eps_outside_sqrt]" in by_name["bob"]
    assert "2/3 submissions pass" in err


@pytest.mark.parametrize("argv, words", [
    (["--assignment", "cs231n-a3", str(CORRECT)], ["--assignment", "expected one of dlsp-hw1, cs231n-a2", "'cs231n-a3'"]),
    (["--assignment", "cs231n-a2", "--variant", "2016", str(CORRECT)], ["--variant", "2017, 2019, 2021", "'2016'"]),
    (["--assignment", "cs231n-a2", "--gradescope", "r.json", str(CORRECT)], ["--gradescope", "homework"]),
    (["--assignment", "cs231n-a2", "--template", "2020", "--out", "x"], ["--template", "2017, 2019, 2021"]),
    (["--assignment", "cs231n-a2", str(HERE / "conftest.py")], ["path", "a folder or a .zip"]),
    (["--variant", "2019", str(CORRECT)], ["--variant", "applies to --assignment"]),
])
def test_bad_input_is_refused_with_exit_2(argv, words, capsys):
    code = main(["check", *argv])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    for w in words:
        assert w in err


@pytest.mark.parametrize("variant", ["2017", "2019", "2021"])
def test_a_template_is_a_package_of_its_variant_that_grades_to_nothing(variant, tmp_path, capsys):
    out_dir = tmp_path / "blank"
    assert main(["check", "--assignment", "cs231n-a2", "--template", variant, "--out", str(out_dir)]) == 0
    capsys.readouterr()
    code, out, _ = check(["--json", str(out_dir)], capsys)
    data = json.loads(out)
    assert code == 1 and data["variant"] == variant
    statuses = {u["name"]: u["status"] for u in data["units"]}
    assert set(statuses.values()) <= {"missing", "n/a"}  # every function not implemented yet, none crashed
    assert all("not implemented yet" in u["message"] for u in data["units"] if u["status"] == "missing")
    assert (statuses["layernorm_forward"] == "n/a") == (variant == "2017")


def test_variant_overrides_the_detection(capsys):
    """The 2021 package read as 2017: p = 0.3 now means keep 0.7, and its mask keeps 0.3."""
    code, out, _ = check(["--json", "--variant", "2017", str(CORRECT)], capsys)
    data = json.loads(out)
    units = {u["name"]: u for u in data["units"]}
    assert code == 1 and data["variant"] == "2017" and data["variant_why"] == "given with --variant"
    assert units["dropout_forward"]["status"] == "fail"
    assert units["dropout_forward"]["diagnosis"] == "dropout_mask_distribution"
    assert units["affine_forward"]["status"] == "pass"
