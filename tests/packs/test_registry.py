"""The pack registry: built-in packs by name, unknown names refused with the valid ones, and packs an
instructor's own distribution adds through the entry-point group `mlp_ref.packs`."""
import importlib.metadata
import types

import pytest

from mlp_ref import packs


def toy_pack(name="toy-hw"):
    return packs.Pack(name=name, title="a toy", sections={"only": ("unit",)}, grade=lambda path, **kw: None,
                      discover=lambda folder: [folder])


@pytest.fixture
def installed(monkeypatch):
    """A fake distribution's entry points in the group, as importlib.metadata would list them."""
    module = types.ModuleType("toy_course_pack")
    module.PACK = toy_pack()
    module.NOT_A_PACK = object()
    monkeypatch.setitem(__import__("sys").modules, "toy_course_pack", module)
    eps = [importlib.metadata.EntryPoint("toy-hw", "toy_course_pack", packs.ENTRY_POINT_GROUP),
           importlib.metadata.EntryPoint("broken", "toy_course_pack:NOT_A_PACK", packs.ENTRY_POINT_GROUP),
           importlib.metadata.EntryPoint("cs231n-a2", "toy_course_pack", packs.ENTRY_POINT_GROUP)]
    real = importlib.metadata.entry_points

    def entry_points(**kwargs):
        if kwargs.get("group") == packs.ENTRY_POINT_GROUP:
            return [e for e in eps if e.group == kwargs["group"]]
        return real(**kwargs)
    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    return module


def test_the_built_in_pack_loads_by_name():
    pack = packs.get("cs231n-a2")
    assert pack.name == "cs231n-a2"
    assert "FullyConnectedNet[reg]" in pack.units and pack.units[0] == "affine_forward"
    assert set(pack.variants) == {"2017", "2019", "2021"}


def test_an_unknown_name_is_refused_with_the_valid_names():
    with pytest.raises(ValueError, match=r"--assignment: expected one of dlsp-hw1, cs231n-a2, got 'dlsp-hw9'"):
        packs.get("dlsp-hw9")


def test_a_pack_is_frozen():
    with pytest.raises(Exception, match="cannot assign"):
        packs.get("cs231n-a2").name = "other"


def test_an_installed_distribution_adds_a_pack_without_a_fork(installed):
    assert packs.get("toy-hw") is installed.PACK
    assert packs.names() == ("dlsp-hw1", "cs231n-a2", "broken", "toy-hw")


def test_an_installed_pack_cannot_take_a_built_in_name(installed):
    assert packs.get("cs231n-a2") is not installed.PACK


def test_an_entry_point_that_is_not_a_pack_is_refused(installed):
    with pytest.raises(TypeError, match="expected a mlp_ref.packs.Pack"):
        packs.get("broken")


def test_the_smallest_pack_in_the_docs_runs_through_the_command_line(monkeypatch, tmp_path, capsys):
    """docs/packs.md's example pack, installed through the entry-point group, grades a right and a wrong ReLU."""
    import re
    import sys
    from pathlib import Path

    from mlp_ref.cli.main import main

    docs = (Path(__file__).resolve().parents[2] / "docs" / "packs.md").read_text()
    source = re.search(r"```python\n# my_course/hw3_pack.py\n(.*?)```", docs, re.S).group(1)
    module = types.ModuleType("hw3_pack_from_docs")
    exec(compile(source, "docs/packs.md", "exec"), module.__dict__)
    monkeypatch.setitem(sys.modules, "hw3_pack_from_docs", module)
    ep = importlib.metadata.EntryPoint("my-course-hw3", "hw3_pack_from_docs", packs.ENTRY_POINT_GROUP)
    real = importlib.metadata.entry_points
    monkeypatch.setattr(importlib.metadata, "entry_points",
                        lambda **kw: [ep] if kw.get("group") == packs.ENTRY_POINT_GROUP else real(**kw))
    (tmp_path / "right").mkdir()
    (tmp_path / "right" / "hw3.py").write_text("import numpy as np\ndef relu(x):\n    return np.maximum(x, 0)\n")
    (tmp_path / "wrong").mkdir()
    (tmp_path / "wrong" / "hw3.py").write_text("import numpy as np\ndef relu(x):\n    return np.abs(x)\n")
    assert main(["check", "--assignment", "my-course-hw3", "--json", str(tmp_path / "right")]) == 0
    assert '"passed": true' in capsys.readouterr().out
    assert main(["check", "--assignment", "my-course-hw3", str(tmp_path / "wrong")]) == 1
    assert "relu(x) != max(x, 0)" in capsys.readouterr().out
