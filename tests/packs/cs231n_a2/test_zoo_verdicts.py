"""Every zoo entry gets the verdicts its manifest states, unit by unit, with the diagnosis ids.

The manifest names the units as the zoo sees them: FullyConnectedNet[config] is the net end to end with
the student's own layers, which the pack reports as "FullyConnectedNet[config] (own layers)". Beside
it the pack grades the net with its reference layers in place of the student's: that unit fails only
where the bug is in fc_net.py itself, so a wrong layer costs its own unit and not the net's.
"""
import pytest

from mlp_ref.packs.cs231n_a2 import bugs
from mlp_ref.packs.cs231n_a2.interface import OWN, UNITS
from mlp_ref.packs.report import STATUSES

from .zoo import manifest

FC_FILE = "cs231n/classifiers/fc_net.py"
# Where the pack's verdict differs from the manifest's, on purpose: (entry, unit) -> (status, diagnosis, why).
DISAGREEMENTS = {
    ("bug:dropout_scaled_in_test", "FullyConnectedNet[dropout]" + OWN): (
        "fail", "dropout_scaled_in_test",
        "the pack also judges the dropout net's test-mode scores (dropout off), which this bug scales by p; "
        "the manifest judges that net in training mode only"),
}


def expected_units(name, entry):
    """{pack unit: (status, diagnosis or None)} from the manifest's entry."""
    out = {}
    for unit, status in entry["expected"].items():
        diagnosis = entry.get("diagnosis", {}).get(unit)
        if unit.startswith("FullyConnectedNet"):
            out[unit + OWN] = (status, diagnosis)
            in_net = entry.get("file") == FC_FILE
            out[unit] = (status, diagnosis) if in_net else ("n/a" if status == "n/a" else "pass", None)
        else:
            out[unit] = (status, diagnosis)
    for (entry_name, unit), (status, diagnosis, _) in DISAGREEMENTS.items():
        if entry_name == name:
            out[unit] = (status, diagnosis)
    return out


@pytest.mark.parametrize("name", list(manifest.ENTRIES))
def test_each_unit_gets_the_manifests_verdict(name, zoo_reports):
    entry, report = manifest.ENTRIES[name], zoo_reports[name]
    got = {u.name: u for u in report.units}
    assert set(got) == set(UNITS)
    wrong = [f"{unit}: expected {status} [{diagnosis}], got {got[unit].status} [{got[unit].diagnosis}]: "
             f"{got[unit].message}" for unit, (status, diagnosis) in expected_units(name, entry).items()
             if got[unit].status != status or (diagnosis is not None and got[unit].diagnosis != diagnosis)]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("name", list(manifest.ENTRIES))
def test_the_variant_is_detected_and_explained(name, zoo_reports):
    report = zoo_reports[name]
    assert report.variant == manifest.ENTRIES[name]["variant"], report.variant_why
    assert report.variant_why


def test_every_base_passes_every_unit_of_its_year(zoo_reports):
    for name, entry in manifest.BASES.items():
        report = zoo_reports[name]
        assert report.passed, report.summary()
        assert {u.status for u in report.units} <= {"pass", "n/a"}


def test_hostile_packages_are_contained_not_fatal(zoo_reports):
    """Each hostile entry gets a report with every unit judged; the looping one is stopped by the time limit."""
    for name in manifest.HOSTILE:
        report = zoo_reports[f"hostile:{name}"]
        assert not report.passed and len(report.units) == len(UNITS)
        assert all(u.status in STATUSES for u in report.units)
    loop = {u.name: u for u in zoo_reports["hostile:infinite_loop"].units}
    assert loop["relu_backward"].status == "timeout" and "limit" in loop["relu_backward"].message
    flood = {u.name: u for u in zoo_reports["hostile:print_flood"].units}
    assert "output limit" in flood["affine_forward"].message


def test_every_diagnosis_the_zoo_exercises_is_given_and_has_a_fix(zoo_reports):
    given = {u.diagnosis for r in zoo_reports.values() for u in r.units if u.diagnosis}
    assert set(manifest.DIAGNOSES) <= given
    assert given <= set(bugs.WORDS)
    assert all(fix for _, fix in bugs.WORDS.values())


def test_a_failing_unit_says_why(zoo_reports):
    for report in zoo_reports.values():
        for u in report.units:
            assert u.status == "pass" or u.message, (report.path, u.name)
