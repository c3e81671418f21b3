"""Finding submissions: a folder holding cs231n/ (at some depth), a zip of one, a class folder; a zip
that tries to write outside its folder is unpacked without that member; nothing found is reported."""
import os
import zipfile

from mlp_ref.packs.cs231n_a2 import grade, submission

from .conftest import HERE, LIMITS

CORRECT = HERE / "packages" / "student2021"


def test_the_package_may_sit_below_the_submission_folder(tmp_path):
    (tmp_path / "alice" / "assignment2" / "cs231n").mkdir(parents=True)
    assert submission.package_root(tmp_path / "alice") == tmp_path / "alice" / "assignment2"
    assert submission.discover(tmp_path) == [tmp_path / "alice"]
    assert submission.discover(tmp_path / "alice" / "assignment2") == [tmp_path / "alice" / "assignment2"]


def test_in_a_whole_course_repository_the_package_of_this_assignment_is_chosen(tmp_path):
    """assignment1/ sorts first and assignment3/ has a layers.py too: the cs231n/ that defines most of this
    assignment is graded. Control: with nothing to tell them apart the shallowest, then the first by name."""
    repo = tmp_path / "repo"
    for a in ("assignment1", "assignment2", "assignment3"):
        (repo / a / "cs231n" / "classifiers").mkdir(parents=True)
    (repo / "assignment3" / "cs231n" / "layers.py").write_text("def affine_forward(x, w, b):\n    pass\n")
    (repo / "assignment2" / "cs231n" / "layers.py").write_text(
        "def affine_forward(x, w, b):\n    pass\ndef batchnorm_forward(x, gamma, beta, bn_param):\n    pass\n")
    (repo / "assignment2" / "cs231n" / "classifiers" / "fc_net.py").write_text("class FullyConnectedNet(object):\n    pass\n")
    assert submission.package_root(repo) == repo / "assignment2"
    (repo / "cs231n").mkdir()
    assert submission.package_root(repo) == repo / "assignment2"
    plain = tmp_path / "plain"
    for a in ("b", "a", "deep/er"):
        (plain / a / "cs231n").mkdir(parents=True)
    assert submission.package_root(plain) == plain / "a"


def test_the_report_names_the_package_it_graded_inside_a_folder_or_a_zip(tmp_path):
    """A whole course repository holds one cs231n/ per assignment: the report says which one was graded
    (in the text and the JSON), as a path inside the submission."""
    from mlp_ref.packs import report as pack_report

    repo = tmp_path / "repo"
    (repo / "assignment1" / "cs231n").mkdir(parents=True)
    (repo / "assignment2" / "cs231n").mkdir(parents=True)
    (repo / "assignment2" / "cs231n" / "layers.py").write_text("def affine_forward(x, w, b):\n    pass\n")
    with submission.unpacked(repo) as (root, problem, package):
        assert (root, package) == (repo / "assignment2", "assignment2/cs231n")
    zipped = tmp_path / "repo.zip"
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("mine/assignment2/cs231n/layers.py", "def affine_forward(x, w, b):\n    pass\n")
        z.writestr("mine/assignment1/cs231n/__init__.py", "")
    with submission.unpacked(zipped) as (root, problem, package):
        assert package == "mine/assignment2/cs231n"
    report = grade.grade(repo, limits=LIMITS, only=("affine_forward",))
    assert report.package == "assignment2/cs231n"
    assert "graded: assignment2/cs231n/" in pack_report.text(report).splitlines()[1]
    assert pack_report.as_json(report)["package"] == "assignment2/cs231n"
    # At the submission's top the text says nothing more; the JSON still names it.
    top = grade.grade(repo / "assignment2", limits=LIMITS, only=("affine_forward",))
    assert top.package == "cs231n" and "graded:" not in pack_report.text(top)
    # Control: nothing found, nothing named.
    with submission.unpacked(tmp_path / "repo" / "assignment1" / "cs231n") as (root, problem, package):
        assert (root, package) == (None, "")


def test_a_zip_member_outside_the_folder_is_skipped(tmp_path):
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("cs231n/__init__.py", "")
        z.writestr("../escaped.py", "print('out')")
    with submission.unpacked(path) as (root, problem, package):
        assert problem == "" and (root / "cs231n" / "__init__.py").exists()
        assert not (root.parent / "escaped.py").exists()
    assert not (tmp_path / "escaped.py").exists()


def test_a_zip_too_large_once_unpacked_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(submission, "MAX_UNZIPPED", 1000)
    path = tmp_path / "big.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("cs231n/layers.py", "#" * 5000)
    with submission.unpacked(path) as (root, problem, package):
        assert root is None and "expands past" in problem


def test_no_package_gives_every_unit_missing_and_says_why(tmp_path):
    (tmp_path / "notes.txt").write_text("no code here")
    report = grade.grade(tmp_path, limits=LIMITS)
    assert {u.status for u in report.units} == {"missing"} and not report.passed
    assert "no cs231n/ package found" in report.problem


def test_a_package_that_exits_at_import_is_contained(tmp_path):
    root = tmp_path / "sub" / "cs231n"
    root.mkdir(parents=True)
    for name in os.listdir(CORRECT / "cs231n"):
        if name.endswith(".py"):
            (root / name).write_text((CORRECT / "cs231n" / name).read_text())
    (root / "__init__.py").write_text("import os\nos._exit(3)\n")
    report = grade.grade(tmp_path / "sub", limits=LIMITS, from_parent=False)
    assert {u.status for u in report.units} == {"crash"}
    assert "ended before it was imported" in report.problem


def test_only_grades_the_named_units(tmp_path):
    report = grade.grade(CORRECT, limits=LIMITS, only=("sgd", "FullyConnectedNet[reg]"))
    assert [(u.name, u.status) for u in report.units] == [("sgd", "pass"), ("FullyConnectedNet[reg]", "pass")]
