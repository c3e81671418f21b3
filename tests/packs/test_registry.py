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
    with pytest.raises(ValueError, match=r"--assignment: expected one of cs231n-a2, got 'dlsp-hw9'"):
        packs.get("dlsp-hw9")


def test_a_pack_is_frozen():
    with pytest.raises(Exception, match="cannot assign"):
        packs.get("cs231n-a2").name = "other"


def test_an_installed_distribution_adds_a_pack_without_a_fork(installed):
    assert packs.get("toy-hw") is installed.PACK
    assert packs.names() == ("cs231n-a2", "broken", "toy-hw")


def test_an_installed_pack_cannot_take_a_built_in_name(installed):
    assert packs.get("cs231n-a2") is not installed.PACK


def test_an_entry_point_that_is_not_a_pack_is_refused(installed):
    with pytest.raises(TypeError, match="expected a mlp_ref.packs.Pack"):
        packs.get("broken")
