"""Instructors: assignment.toml names its pack and its sections are checked against the pack's; a pack's
Gradescope and PrairieLearn results come from its units; the class report's per-unit pass-rate table;
the PrairieLearn external grader run in its documented layout (/grade/student in, /grade/results out)."""
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from mlp_ref.cli import main as cli
from mlp_ref.grader import classreport, config, results
from mlp_ref.packs import assignment as course
from mlp_ref.packs.report import PackReport, Unit

HERE = Path(__file__).parent
CS231N_ZOO = HERE / "cs231n_a2" / "zoo"
HW1 = HERE.parent / "grader" / "configs" / "hw1.toml"

CS231N_TOML = """
[assignment]
pack = "cs231n-a2"
name = "A2"
total_points = 20

[sections.layers]
points = 4
[sections.batchnorm]
points = 4
[sections.layernorm]
points = 2
visibility = "hidden"
[sections.dropout]
points = 2
[sections.optim]
points = 4
[sections.fc_net]
points = 4
visibility = "after_due_date"
"""


@pytest.fixture
def cs231n_toml(tmp_path):
    path = tmp_path / "assignment.toml"
    path.write_text(CS231N_TOML)
    return path


# --- the config and its pack ---------------------------------------------------------------------------
def test_a_config_naming_cs231n_takes_its_unit_groups(cs231n_toml):
    pack, a = course.load(cs231n_toml)
    assert pack.name == "cs231n-a2" and a.pack == "cs231n-a2"
    assert list(a.sections) == ["layers", "batchnorm", "layernorm", "dropout", "optim", "fc_net"]
    assert a.sections["layernorm"] == config.Section(2.0, "hidden")


def test_a_config_without_a_pack_is_the_homeworks():
    pack, a = course.load(HW1)
    assert pack.name == "dlsp-hw1" and a.pack is None and "end_to_end" in a.sections


@pytest.mark.parametrize("section", ["optimizers", "losses"])
def test_a_section_the_pack_has_not_is_refused_by_name(tmp_path, section):
    """Negative control of the test above: the homework's `losses` is no cs231n-a2 section, nor is a typo."""
    path = tmp_path / "bad.toml"
    path.write_text(CS231N_TOML.replace("[sections.optim]", f"[sections.{section}]"))
    with pytest.raises(config.ConfigError, match=rf"sections\.{section}: unknown section; expected one of layers, "
                                                 r"batchnorm, layernorm, dropout, optim, fc_net"):
        course.load(path)


def test_an_unknown_pack_is_refused_naming_the_key_and_the_packs(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(CS231N_TOML.replace('pack = "cs231n-a2"', 'pack = "cs231n-a3"'))
    with pytest.raises(config.ConfigError, match=r"assignment\.pack: expected one of dlsp-hw1, cs231n-a2.*'cs231n-a3'"):
        course.load(path)


def test_the_built_zip_carries_the_pack_so_the_grader_in_it_grades_with_it(cs231n_toml, tmp_path):
    _, a = course.load(cs231n_toml)
    (tmp_path / "assignment.json").write_text(a.to_json())
    pack, again = course.load(tmp_path / "assignment.json")
    assert pack.name == "cs231n-a2" and again == a


# --- results from units --------------------------------------------------------------------------------
SECTIONS = {"layers": ("relu", "affine"), "optim": ("sgd", "adam"), "extra": ("svm",)}


def report(statuses, diagnosis=None):
    """A PackReport with each unit's status; a failing unit carries `diagnosis`."""
    section = {u: s for s, us in SECTIONS.items() for u in us}
    units = [Unit(u, section[u], st, diagnosis if st == "fail" else None, f"{u} disagrees" if st == "fail" else "",
                  "the fix" if st == "fail" else "") for u, st in statuses.items()]
    return PackReport("alice", "toy", units=units, variant="2019", variant_why="its keywords")


ASSIGNMENT = config.parse({"assignment": {"name": "toy", "total_points": 10},
                           "sections": {"layers": {"points": 4}, "optim": {"points": 6, "visibility": "hidden"}}},
                          SECTIONS)


def test_a_sections_points_are_shared_by_its_graded_units():
    r = report({"relu": "pass", "affine": "fail", "sgd": "pass", "adam": "pass", "svm": "n/a"}, "transposed_dw")
    out = results.gradescope(r, ASSIGNMENT, SECTIONS)
    tests = {t["name"]: t for t in out["tests"]}
    assert (tests["layers"]["score"], tests["layers"]["max_score"], tests["layers"]["status"]) == (2.0, 4.0, "failed")
    assert (tests["optim"]["score"], tests["optim"]["visibility"]) == (6.0, "hidden")
    assert out["score"] == 8.0
    assert "FAIL affine [transposed_dw]" in tests["layers"]["output"] and "fix: the fix" in tests["layers"]["output"]
    # A section with no graded unit and no points is not a test; the staff facts are hidden.
    assert "extra" not in tests and tests["staff: the grader's facts (not scored)"]["visibility"] == "hidden"


def test_the_staff_facts_name_the_package_graded_inside_a_course_repository():
    r = report({"relu": "pass", "affine": "pass", "sgd": "pass", "adam": "pass", "svm": "n/a"})
    r.package = "assignment2/cs231n"
    staff = results.gradescope(r, ASSIGNMENT, SECTIONS)["tests"][-1]
    assert staff["output"].splitlines() == ["variant: 2019 (its keywords)", "graded: assignment2/cs231n/"]
    assert staff["visibility"] == "hidden"


def test_every_unit_passing_earns_the_total():
    """Control of the partial score above: the same assignment, every unit passing."""
    out = results.gradescope(report({u: "pass" for u in ("relu", "affine", "sgd", "adam")}), ASSIGNMENT, SECTIONS)
    assert out["score"] == 10.0 and all(t["status"] == "passed" for t in out["tests"] if t["max_score"])


def test_a_section_not_in_the_submissions_variant_earns_its_points_but_nothing_graded_earns_nothing():
    """A year without layer norm cannot be marked down for it; a report with no units at all (the grader
    could not grade) earns nothing: never a pass by omission."""
    with_extra = config.parse({"assignment": {"name": "toy", "total_points": 3},
                               "sections": {"layers": {"points": 2}, "extra": {"points": 1}}}, SECTIONS)
    r = report({"relu": "pass", "affine": "fail", "svm": "n/a"})
    assert {t["name"]: t["score"] for t in results.gradescope(r, with_extra, SECTIONS)["tests"]
            if t["max_score"]} == {"layers": 1.0, "extra": 1.0}
    empty = PackReport("bob", "toy", problem="grading failed")
    assert results.gradescope(empty, with_extra, SECTIONS)["score"] == 0.0


def test_prairielearn_gets_a_fraction_and_no_hidden_output():
    r = report({"relu": "pass", "affine": "pass", "sgd": "pass", "adam": "fail"}, "adam_no_bias_correction")
    pl = results.prairielearn(results.gradescope(r, ASSIGNMENT, SECTIONS), ASSIGNMENT.total_points)
    assert pl["gradable"] is True and pl["score"] == pytest.approx(0.7)
    tests = {t["name"]: t for t in pl["tests"]}
    assert set(tests) == {"layers", "optim"}  # the staff-only test is left out
    assert (tests["optim"]["points"], tests["optim"]["max_points"]) == (3.0, 6.0)
    assert tests["optim"]["output"] == "(shown to staff only)" and "adam" not in json.dumps(pl)
    assert "pass: relu, affine" in tests["layers"]["output"]
    assert set(tests["layers"]) == {"name", "points", "max_points", "output"} and "1/2 sections" in pl["message"]


def test_nothing_submitted_is_not_gradable_in_prairielearn():
    pl = results.prairielearn(results.no_submission("expected one submission, found 0"), 10.0, gradable=False)
    assert pl["gradable"] is False and "score" not in pl and pl["format_errors"] == ["expected one submission, found 0"]


# --- the class report's units table --------------------------------------------------------------------
def test_the_units_table_puts_what_the_class_got_wrong_first():
    reports = [report({"relu": "pass", "affine": "pass", "sgd": "fail", "svm": "n/a"}, "sgd_sign"),
               report({"relu": "pass", "affine": "fail", "sgd": "fail", "svm": "n/a"}, "sgd_sign"),
               report({"relu": "pass", "affine": "crash", "sgd": "missing", "svm": "n/a"})]
    rows = classreport.unit_rows(reports, {"layers": ("relu", "affine"), "optim": ("sgd",), "extra": ("svm",)})
    assert [(r.name, r.pass_rate) for r in rows] == [("sgd", 0.0), ("affine", pytest.approx(1 / 3)), ("relu", 1.0),
                                                     ("svm", None)]
    assert rows[0].diagnoses == [("sgd_sign", 2)] and rows[0].counts["missing"] == 1
    text = classreport.units_markdown(reports, {"layers": ("relu", "affine"), "optim": ("sgd",)},
                                      points=([3.0, 1.0, 1.0], 3.0))
    assert "0/3 pass every unit. Mean points 1.67 / 3; 1/3 full marks." in text
    assert "| `sgd` | optim | 0% | 0 | 2 | 1 | 0 | 0 | 0 | `sgd_sign` (2) |" in text
    assert text.index("`sgd`") < text.index("`affine`") < text.index("`relu`")


# --- PrairieLearn's documented layout, end to end --------------------------------------------------------
@pytest.fixture(scope="module")
def pl_bundle(tmp_path_factory, once_per_run):
    """The PrairieLearn bundle, built once per run."""
    def build():
        folder = tmp_path_factory.mktemp("pl")
        (folder / "assignment.toml").write_text(CS231N_TOML)
        out = folder / "grader.zip"
        assert cli.main(["autograder", "--target", "prairielearn", "--config", str(folder / "assignment.toml"),
                         "--out", str(out)]) == 0
        return out

    return once_per_run("prairielearn_bundle", build)


def grade_root(tmp_path, bundle, student=None):
    """/grade as PrairieLearn lays it out: the bundle under serverFilesCourse/mlp_ref, the student's files in
    student/, data/data.json; results/ is left for the grader to make."""
    root = tmp_path / "grade"
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(root / "serverFilesCourse" / "mlp_ref")
    os.chmod(root / "serverFilesCourse" / "mlp_ref" / "run.sh", 0o755)
    (root / "student").mkdir()
    if student is not None:
        shutil.copytree(student, root / "student" / "cs231n")
    (root / "data").mkdir()
    (root / "data" / "data.json").write_text(json.dumps({"params": {}, "submitted_answers": {}}))
    return root


def run_entrypoint(root, python=sys.executable):
    env = dict(os.environ, GRADE_ROOT=str(root), MLP_REF_PYTHON=str(python))
    done = subprocess.run([str(root / "serverFilesCourse" / "mlp_ref" / "run.sh")], env=env, capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads((root / "results" / "results.json").read_text())


def test_the_bundle_has_the_entrypoint_the_info_json_names(pl_bundle):
    with zipfile.ZipFile(pl_bundle) as zf:
        names = set(zf.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
        info = json.loads(zf.read("info.json"))["externalGradingOptions"]
    assert {"run.sh", "setup.sh", "Dockerfile", "assignment.json"} <= names and modes["run.sh"] & 0o111
    assert info["entrypoint"] == "/grade/serverFilesCourse/mlp_ref/run.sh" and info["serverFilesCourse"] == ["mlp_ref/"]
    assert 0 < info["timeout"] <= 600


def test_a_one_bug_package_scores_its_share_and_names_the_bug(tmp_path, pl_bundle):
    root = grade_root(tmp_path, pl_bundle, CS231N_ZOO / "bugs" / "adam_bias_correction_no_power" / "cs231n")
    res = run_entrypoint(root)
    assert res["gradable"] is True and res["score"] == pytest.approx(19 / 20)
    tests = {t["name"]: t for t in res["tests"]}
    assert (tests["optim"]["points"], tests["optim"]["max_points"]) == (3.0, 4.0)
    assert "adam [adam_bias_correction_no_power]" in tests["optim"]["output"]
    assert all(t["points"] == t["max_points"] for name, t in tests.items() if name != "optim")


def test_an_empty_submission_is_not_gradable(tmp_path, pl_bundle):
    res = run_entrypoint(grade_root(tmp_path, pl_bundle))
    assert res["gradable"] is False and "found 0" in res["format_errors"][0]


def test_a_package_refused_before_grading_is_answered_without_loading_torch(tmp_path, pl_bundle):
    """Nothing to grade, nothing to compute: the cs231n pack imports torch only where answers are made."""
    root = grade_root(tmp_path, pl_bundle)
    probe = ("import sys\nfrom mlp_ref.cli.main import main\n"
             "code = main(['autograder', '--target', 'prairielearn', '--config', sys.argv[1], '--run-in', sys.argv[2]])\n"
             "assert 'torch' not in sys.modules, 'torch was loaded'\nsys.exit(code)\n")
    done = subprocess.run([sys.executable, "-c", probe, str(root / "serverFilesCourse" / "mlp_ref" / "assignment.json"),
                           str(root)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "found 0" in (root / "results" / "results.json").read_text()


def test_with_no_working_python_a_not_gradable_results_json_is_still_written(tmp_path, pl_bundle):
    res = run_entrypoint(grade_root(tmp_path, pl_bundle), python=tmp_path / "no-python")
    assert res["gradable"] is False and "not your fault" in res["format_errors"][0]


# --- the command line refuses before any grading -----------------------------------------------------------
def test_check_with_a_cs231n_config_refuses_an_unknown_pack_and_a_report_for_one_submission(tmp_path, capsys,
                                                                                               cs231n_toml):
    one = CS231N_ZOO / "bases" / "b2019_einsum"
    bad = tmp_path / "bad.toml"
    bad.write_text(CS231N_TOML.replace('pack = "cs231n-a2"', 'pack = "cs231n-a3"'))
    assert cli.main(["check", "--config", str(bad), str(one)]) == 2
    assert "assignment.pack: expected one of dlsp-hw1, cs231n-a2" in capsys.readouterr().err
    assert cli.main(["check", "--config", str(cs231n_toml), "--report", str(tmp_path / "class.md"), str(one)]) == 2
    assert "--report: applies to a folder of submissions" in capsys.readouterr().err
    assert cli.main(["check", "--config", str(cs231n_toml), "--assignment", "dlsp-hw1", str(one)]) == 2
    assert "its pack is 'cs231n-a2' but --assignment is 'dlsp-hw1'" in capsys.readouterr().err


def test_the_smallest_pack_in_the_docs_gets_points_and_a_prairielearn_grader_with_nothing_more(monkeypatch, tmp_path):
    """docs/packs.md's example pack, installed through the entry-point group, named by a config: a right ReLU
    earns the points, a wrong one none (its message shown), graded as PrairieLearn's grader would."""
    import importlib.metadata
    import re
    import types

    from mlp_ref import packs

    docs = (HERE.parents[1] / "docs" / "packs.md").read_text()
    source = re.search(r"```python\n# my_course/hw3_pack.py\n(.*?)```", docs, re.S).group(1)
    module = types.ModuleType("hw3_pack_for_config")
    exec(compile(source, "docs/packs.md", "exec"), module.__dict__)
    monkeypatch.setitem(sys.modules, "hw3_pack_for_config", module)
    ep = importlib.metadata.EntryPoint("my-course-hw3", "hw3_pack_for_config", packs.ENTRY_POINT_GROUP)
    real = importlib.metadata.entry_points
    monkeypatch.setattr(importlib.metadata, "entry_points",
                        lambda **kw: [ep] if kw.get("group") == packs.ENTRY_POINT_GROUP else real(**kw))
    toml = tmp_path / "assignment.toml"
    toml.write_text('[assignment]\npack = "my-course-hw3"\nname = "HW3"\ntotal_points = 5\n'
                    '[sections.layers]\npoints = 5\n')
    got = {}
    for name, body in (("right", "np.maximum(x, 0)"), ("wrong", "np.abs(x)")):
        (tmp_path / name / "student").mkdir(parents=True)
        (tmp_path / name / "student" / "hw3.py").write_text(f"import numpy as np\ndef relu(x):\n    return {body}\n")
        assert cli.main(["autograder", "--target", "prairielearn", "--config", str(toml),
                         "--run-in", str(tmp_path / name)]) == 0
        got[name] = json.loads((tmp_path / name / "results" / "results.json").read_text())
    assert (got["right"]["score"], got["right"]["tests"][0]["points"]) == (1.0, 5.0)
    assert got["wrong"]["score"] == 0.0 and "relu(x) != max(x, 0)" in got["wrong"]["tests"][0]["output"]


# --- a class, through the command line -----------------------------------------------------
def test_a_class_under_a_config_gets_a_csv_and_a_report_by_unit(tmp_path, cs231n_toml, capsys):
    """The command line's wiring (the points and the table themselves: cs231n_a2/test_course_results.py)."""
    shutil.copytree(CS231N_ZOO / "bugs" / "adam_bias_correction_no_power", tmp_path / "class" / "bob")
    csv, md = tmp_path / "grades.csv", tmp_path / "class.md"
    assert cli.main(["check", "--config", str(cs231n_toml), "-q", "--csv", str(csv), "--report", str(md),
                     str(tmp_path / "class")]) == 1
    rows = csv.read_text().splitlines()
    assert len(rows) == 2 and "adam_bias_correction_no_power" in rows[1] and rows[1].split(",")[1] == "False"
    report = md.read_text()
    assert "1 submission graded; 0/1 pass every unit. Mean points 19.00 / 20; 0/1 full marks." in report
    worst = next(line for line in report.splitlines() if line.startswith("| `"))
    assert worst.startswith("| `adam` | optim | 0% |") and "`adam_bias_correction_no_power` (1)" in worst
