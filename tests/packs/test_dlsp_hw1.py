"""The homework as a pack: the registry's default, one unit per section, each unit read from the Report's
checks of that section (built here by hand: no grading run)."""
from mlp_ref import packs
from mlp_ref.packs.dlsp_hw1 import grade, units
from mlp_ref.packs.dlsp_hw1.verdict import Check


def test_the_homework_is_the_default_pack_with_the_configs_sections():
    pack = packs.get(packs.DEFAULT)
    assert pack.name == "dlsp-hw1" and tuple(packs.BUILTIN)[0] == "dlsp-hw1"
    assert list(pack.sections) == ["interface", "losses", "backward", "end_to_end", "edge", "contract", "robustness"]
    assert pack.sections["end_to_end"] == ("end-to-end",) and set(pack.templates) == {"homework", "numpy"}


def test_each_section_is_a_unit_its_first_failure_deciding_status_and_diagnosis():
    checks = [Check("imports", "interface", True),
              Check("mse", "loss", True), Check("bce", "loss", True),
              Check("backward a", "backward", True),
              Check("backward b", "backward", False, message="dW1 disagrees", diagnosis="derivative_at_wrong_point"),
              Check("train", "end-to-end", False, error={"outcome": "timeout", "stage": "forward"}),
              Check("edge", "edge", None, message="the numpy interface has no edge check"),
              Check("inputs unchanged", "contract", False, diagnosis="input_mutated", message="forward modified x")]
    got = {u.section: u for u in units(grade.Report("alice.py", checks=checks))}
    assert {s: u.status for s, u in got.items()} == {"interface": "pass", "losses": "pass", "backward": "fail",
                                                     "end_to_end": "timeout", "edge": "n/a", "contract": "fail",
                                                     "robustness": "n/a"}
    assert got["backward"].diagnosis == "derivative_at_wrong_point" and "1/2 checks fail" in got["backward"].message
    assert got["contract"].diagnosis == "input_mutated" and got["losses"].diagnosis is None
