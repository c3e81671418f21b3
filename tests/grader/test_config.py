"""assignment.toml: read with tomllib, every section name maps to the grader's, and a malformed
config is refused with one line that names the key (exit 2 from both subcommands)."""
from pathlib import Path

import pytest

from mlp_ref.cli import main as cli
from mlp_ref.packs.dlsp_hw1 import battery, config, gradescope

HW1 = Path(__file__).parent / "configs" / "hw1.toml"
GOOD = """
[assignment]
name = "HW"
total_points = 3
{extra}
[sections.losses]
points = 1
visibility = "visible"
[sections.end_to_end]
points = 2
visibility = "after_due_date"
"""


def _load(tmp_path, text):
    p = tmp_path / "assignment.toml"
    p.write_text(text)
    return config.load(p)


def test_the_task_config_reads_as_written():
    a = config.load(HW1)
    assert (a.name, a.total_points, a.dtype, a.file) == ("HW1: backprop by hand", 10.0, "float32", "mlp.py")
    assert a.sections["end_to_end"] == config.Section(4.0, "after_due_date")
    assert a.sections["losses"] == config.Section(2.0, "visible")
    assert a.stdout_visibility == "hidden" and a.strict is False


def test_every_section_of_the_battery_and_the_grader_has_a_config_name():
    # The float64 probe is staff-only: never a section with points.
    grader_sections = (set(battery.SECTIONS) - {"probe"}) | {"interface", "contract"}
    assert set(config.SECTIONS.values()) == grader_sections
    assert {"interface", "losses", "backward", "end_to_end", "edge", "contract", "robustness"} == set(config.SECTIONS)


def test_the_json_copy_in_the_zip_reads_back_to_the_same_assignment(tmp_path):
    a = config.load(HW1)
    p = tmp_path / "assignment.json"
    p.write_text(a.to_json())
    assert config.load(p) == a


@pytest.mark.parametrize("text, key", [
    (GOOD.format(extra="").replace("total_points = 3", "total_points = 4"), "assignment.total_points"),
    (GOOD.format(extra="").replace('name = "HW"\n', ""), "assignment.name"),
    (GOOD.format(extra='dtype = "float16"'), "assignment.dtype"),
    (GOOD.format(extra="timeout = -1"), "assignment.timeout"),
    (GOOD.format(extra="totl_points = 3"), "assignment.totl_points"),
    (GOOD.format(extra='file = "../mlp.py"'), "assignment.file"),
    (GOOD.format(extra="strict = 1"), "assignment.strict"),
    (GOOD.format(extra="").replace('visibility = "visible"', 'visibility = "students"'), "sections.losses.visibility"),
    (GOOD.format(extra="").replace("points = 1", 'points = "one"'), "sections.losses.points"),
    (GOOD.format(extra="").replace("points = 1", "points = true"), "sections.losses.points"),
    (GOOD.format(extra="").replace("points = 1", "points = nan"), "sections.losses.points"),
    (GOOD.format(extra="").replace("points = 1", "points = inf"), "sections.losses.points"),
    (GOOD.format(extra="").replace("total_points = 3", "total_points = nan"), "assignment.total_points"),
    (GOOD.format(extra="").replace("total_points = 3", "total_points = inf"), "assignment.total_points"),
    (GOOD.format(extra="").replace("[sections.losses]", "[sections.loss]"), "sections.loss"),
    (GOOD.format(extra="").replace("points = 2\n", "pts = 2\n"), "sections.end_to_end.pts"),
    (GOOD.format(extra="") + "[grading]\nx = 1\n", "(top level).grading"),
    ("[assignment\nname = 1", "assignment.toml"),
])
def test_a_malformed_config_is_refused_naming_the_key(tmp_path, text, key):
    with pytest.raises(config.ConfigError) as e:
        _load(tmp_path, text)
    assert e.value.key == key and str(e.value).startswith(key + ":") and "\n" not in str(e.value)


def test_points_on_a_section_with_no_case_in_the_dtype_are_refused(tmp_path):
    a = _load(tmp_path, GOOD.format(extra='dtype = "float64"'))
    float32_only = [c for c in battery.build() if c.dtype == "float32"]
    assert gradescope.unscorable(a, float32_only)[0] == "sections.losses.points"
    assert gradescope.unscorable(a) is None
    assert gradescope.unscorable(config.load(HW1)) is None


@pytest.mark.parametrize("command", [["autograder", "--out", "x.zip"], ["check", "FILE"]])
def test_both_subcommands_refuse_a_malformed_config_with_one_line_and_exit_2(tmp_path, capsys, command):
    bad = tmp_path / "assignment.toml"
    bad.write_text(GOOD.format(extra="").replace('visibility = "visible"', 'visibility = "public"'))
    sub = tmp_path / "mlp.py"
    sub.write_text("x = 1\n")
    argv = [a.replace("FILE", str(sub)).replace("x.zip", str(tmp_path / "x.zip")) for a in command]
    assert cli.main(argv + ["--config", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "sections.losses.visibility" in err and "public" in err
    assert not (tmp_path / "x.zip").exists()


def test_the_readme_config_is_a_valid_assignment(tmp_path):
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    text = readme.split("cat > assignment.toml <<'EOF'", 1)[1].split("\nEOF\n", 1)[0]
    a = _load(tmp_path, text.split("\n", 1)[1])
    # Formative: every section (its points and its cause) is visible before the deadline.
    assert a.total_points == 10 and {s.visibility for s in a.sections.values()} == {"visible"}
    assert "after_due_date would hide it" in readme


@pytest.mark.parametrize("out, words", [("x.txt", "--out: expected a file name ending .zip"),
                                        ("missing/x.zip", "--out: expected a file in an existing, writable folder")])
def test_the_zip_path_is_checked_before_any_build(tmp_path, capsys, out, words):
    assert cli.main(["autograder", "--config", str(HW1), "--out", str(tmp_path / out)]) == 2
    assert words in capsys.readouterr().err and not list(tmp_path.iterdir())


def test_folder_only_flags_on_one_file_are_refused_not_ignored(tmp_path, capsys):
    sub = tmp_path / "mlp.py"
    sub.write_text("x = 1\n")
    assert cli.main(["check", str(sub), "--jobs", "2"]) == 2
    assert "--jobs: applies to a folder of submissions" in capsys.readouterr().err
