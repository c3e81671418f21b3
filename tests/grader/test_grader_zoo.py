"""The grader against the bug zoo: each correct submission passes (float64 and float32), each buggy
one fails with the diagnosis the manifest names, each hostile one is contained and reported.

The zoo is graded once per module, two submissions at a time, children forked from one warm fork
server. Submissions that must time out get short limits, so the module stays fast.
"""
import concurrent.futures
import importlib.util
from pathlib import Path

import pytest

from mlp_ref.grader import grade
from mlp_ref.grader.sandbox import Limits

ZOO = Path(__file__).parent / "zoo"
SPEC = importlib.util.spec_from_file_location("zoo_manifest", ZOO / "manifest.py")
manifest = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(manifest)
EXPECTED = manifest.EXPECTED
# Loops that never end: 1 s per case and 4 s in all is enough for the containment to show
# (an unkillable loop is stopped by the 4 s limit whatever the machine's load).
SHORT = Limits(timeout_s=4.0, case_timeout_s=1.0)


def limits_for(name):
    return SHORT if EXPECTED.get(name, {}).get("contained") == "timeout" else Limits()


@pytest.fixture(scope="module")
def reports():
    # The slow ones first, so the rest run beside them.
    names = sorted(EXPECTED, key=lambda n: (limits_for(n) is not SHORT, n))
    grade.expected()
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        done = pool.map(lambda n: grade.grade(ZOO / n, limits=limits_for(n)), names)
        return dict(zip(names, done))


@pytest.fixture(scope="module")
def strict_reports(reports):
    return {n: grade.rescore(reports[n], strict=True) for n in manifest.EXPECTED_STRICT}


def primary(report):
    return report.diagnoses[0][0] if report.diagnoses else None


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_zoo_verdict(name, reports):
    want, r = EXPECTED[name], reports[name]
    assert r.passed is want["passed"], f"{name}: passed={r.passed}; first failure: {r.first_failure()}"
    if "diagnosis" in want:
        assert primary(r) == want["diagnosis"], f"{name}: diagnoses {r.diagnoses}"
    if "contained" in want:
        assert want["contained"] in r.containment, f"{name}: contained {r.containment}"


@pytest.mark.parametrize("name", sorted(n for n, w in EXPECTED.items() if w["passed"]))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_correct_submissions_pass_in_each_dtype(name, dtype, reports):
    ran = [c for c in reports[name].checks if c.case is not None and c.case.dtype == dtype and c.passed is not None
           and c.case.section != "robustness"]
    assert len(ran) >= 40 and all(c.passed for c in ran)
    # Negative control for the containment and the diagnoses: nothing to contain, nothing to name.
    assert reports[name].containment == [] and reports[name].diagnoses == []


@pytest.mark.parametrize("name", sorted(n for n, w in EXPECTED.items() if not w["passed"]))
def test_failing_submissions_lose_points(name, reports):
    r = reports[name]
    assert r.score < r.max_score and r.first_failure() is not None


@pytest.mark.parametrize("name", sorted(manifest.MESSAGE_MENTIONS))
def test_broken_submission_says_what_and_where(name, reports):
    from mlp_ref.grader import report

    text = report.text(reports[name])
    for word in manifest.MESSAGE_MENTIONS[name]:
        assert word in text, f"{name}: {word!r} missing from the report"
    if name in manifest.ERROR_LINES:
        assert f"line {manifest.ERROR_LINES[name]}" in text


@pytest.mark.parametrize("name", sorted(manifest.FORGED_FILES))
def test_forged_verdict_files_stay_in_the_scratch_folder(name, reports):
    assert reports[name].passed is False
    for forged in manifest.FORGED_FILES[name]:
        assert not Path(forged).exists() and not (ZOO / forged).exists()


@pytest.mark.parametrize("name", sorted(manifest.EXPECTED_STRICT))
def test_strict_grades_numerical_robustness(name, reports, strict_reports):
    want = manifest.EXPECTED_STRICT[name]
    r = strict_reports[name]
    assert r.passed is want["passed"] and primary(r) == want["diagnosis"]
    # Without --strict the same failures are reported and not graded.
    lax = reports[name]
    assert any(c.passed is False and c.section == "robustness" for c in lax.checks)


def test_containment_outcomes_seen_across_the_zoo(reports):
    seen = {o for r in reports.values() for o in r.containment}
    assert {"timeout", "exited", "memory_limit", "import_error", "output_flood", "crashed"} <= seen
