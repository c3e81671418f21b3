"""A folder run shows its progress on stderr and ends with the class report: score histogram,
diagnoses by how many students have them (with one example file), the slowest, the flagged files."""
import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from mlp_ref.cli import main as cli
from mlp_ref.grader import classreport
from mlp_ref.packs.dlsp_hw1 import grade
from mlp_ref.packs.dlsp_hw1.verdict import Check

HERE = Path(__file__).parent
ZOO = HERE / "zoo"
HW1 = HERE / "configs" / "hw1.toml"
# Five kinds of student, two of each graded in full, and 40 that do not compile: 50 submissions.
COPIES = 2
KINDS = {"correct_vectorised.py": None, "bug_wrong_sign.py": "wrong_sign", "bug_half_mse.py": "half_mse",
         "bug_transposed_gradient.py": "transposed_gradient", "correct_autograd_imported.py": None}


def _fake(path, diagnosis=None, seconds=1.0):
    return grade.Report(path, checks=[Check("x", "loss", diagnosis is None, diagnosis=diagnosis)], seconds=seconds)


def test_the_histogram_puts_each_score_in_its_bin_and_the_top_score_in_the_last():
    reports = [_fake(f"s{i}.py") for i in range(5)]
    s = classreport.summarise(reports, [0, 0.9, 5, 9.99, 10], 10)
    assert [count for _, _, count in s.histogram] == [2, 0, 0, 0, 0, 1, 0, 0, 0, 2]
    assert s.mean == pytest.approx(25.89 / 5)


def test_diagnoses_count_students_not_checks_and_keep_one_example():
    reports = [_fake("a.py", "wrong_sign"), _fake("b.py", "wrong_sign"), _fake("c.py", "half_mse")]
    reports[0].checks.append(Check("y", "loss", False, diagnosis="wrong_sign"))  # twice in one student: counted once
    s = classreport.summarise(reports, [0, 0, 0], 10)
    assert s.diagnoses == [("wrong_sign", 2, "a.py"), ("half_mse", 1, "c.py")]


def test_the_slowest_come_first_and_the_progress_line_has_an_eta():
    reports = [_fake(f"s{i}.py", seconds=i) for i in range(8)]
    s = classreport.summarise(reports, [10] * 8, 10)
    assert [p for p, _ in s.slowest] == ["s7.py", "s6.py", "s5.py", "s4.py", "s3.py"]
    assert classreport.progress_line(10, 50, 20.0, "x.py") == "graded 10/50  elapsed 0:20  ETA 1:20  now: x.py"
    assert "ETA ?" in classreport.progress_line(0, 50, 1.0, "x.py")


@pytest.fixture(scope="module")
def class_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    # 50 students: 2 of each kind graded in full, and 40 whose file does not compile (graded in a
    # blink), so the run stays a few seconds long and still has every part of the report to show.
    for i in range(COPIES):
        for name in KINDS:
            shutil.copy(ZOO / name, folder / f"student{i:02d}_{name}")
    for i in range(50 - COPIES * len(KINDS)):
        shutil.copy(ZOO / "broken_syntax.py", folder / f"late{i:02d}_broken_syntax.py")
    out = tmp_path_factory.mktemp("out")
    return folder, out


@pytest.mark.slow
def test_a_folder_of_50_shows_progress_and_ends_with_the_class_report(class_run, capsys):
    folder, out = class_run
    code = cli.main(["check", str(folder), "--config", str(HW1), "--jobs", "2", "--csv", str(out / "grades.csv"),
                     "--report", str(out / "class.md"), "--plot", str(out / "class.png")])
    captured = capsys.readouterr()
    assert code == 1  # not everyone passes
    progress = [x for x in captured.err.splitlines() if x.startswith("graded ")]
    assert len(progress) == 50 and progress[-1].startswith("graded 50/50") and "ETA" in progress[0]
    report = (out / "class.md").read_text()
    assert report in captured.err
    for heading in ("## Scores", "## Diagnoses", "## Slowest submissions", "## Flagged for review"):
        assert heading in report
    for diagnosis in ("wrong_sign", "half_mse", "transposed_gradient"):
        assert f"| `{diagnosis}` | {COPIES} | " in report
    assert "9.00 -  10.00 |" in report and report.count("correct_autograd_imported.py\n") == COPIES
    assert (out / "class.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text())))
    assert len(rows) == 50
    full = [r for r in rows if r["assignment_score"] == "10"]
    assert len(full) == 2 * COPIES  # both kinds of correct submission
    assert sum(r["assignment_score"] == "0" for r in rows) >= 50 - COPIES * len(KINDS)
    assert all(("autograd" in r["flags"]) == r["path"].endswith("correct_autograd_imported.py") for r in rows)


def test_quiet_turns_the_progress_line_off(tmp_path, capsys):
    shutil.copy(ZOO / "correct_vectorised.py", tmp_path / "a.py")
    assert cli.main(["check", str(tmp_path), "--quiet", "--json"]) == 0
    captured = capsys.readouterr()
    assert "graded 1/1" not in captured.err and "# Class report" in captured.err
    assert json.loads(captured.out)["passed"] is True


@pytest.mark.parametrize("flag", ["--report", "--plot"])
def test_a_class_report_for_one_file_is_refused(tmp_path, capsys, flag):
    assert cli.main(["check", str(ZOO / "correct_vectorised.py"), flag, str(tmp_path / "x")]) == 2
    assert f"{flag}: applies to a folder of submissions (a class)" in capsys.readouterr().err


def test_the_plot_counts_students_in_whole_numbers():
    """Two students: the count axes tick at whole numbers only. Control: matplotlib's default ticks for the
    same bars are fractional, so the check can fail."""
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    reports = [_fake("a.py", "half_mse"), _fake("b.py", "half_mse")]
    fig = classreport.figure(classreport.summarise(reports, [5.0, 10.0], 10))
    fig.canvas.draw()
    left, right = fig.axes
    for ticks in (left.get_yticks(), right.get_xticks()):
        assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks), ticks
    plt.close(fig)
    control, ax = plt.subplots()
    ax.bar([0, 1], [1, 2])
    control.canvas.draw()
    assert not all(float(t).is_integer() for t in ax.get_yticks())
    plt.close(control)
