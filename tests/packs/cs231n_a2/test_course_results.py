"""The zoo's reports (graded once per session) under an instructor's config: Gradescope's tests per unit
group and the class report's per-unit table, with no grading of their own."""
import pytest

from mlp_ref.grader import classreport, config, results

from .zoo import manifest

ASSIGNMENT = {"assignment": {"pack": "cs231n-a2", "name": "A2", "total_points": 20},
              "sections": {"layers": {"points": 4}, "batchnorm": {"points": 4},
                           "layernorm": {"points": 2, "visibility": "hidden"}, "dropout": {"points": 2},
                           "optim": {"points": 4}, "fc_net": {"points": 4, "visibility": "after_due_date"}}}


@pytest.fixture(scope="module")
def assignment(pack):
    return config.parse(ASSIGNMENT, pack.sections)


@pytest.mark.parametrize("base", sorted(manifest.BASES))
def test_every_correct_package_earns_the_total(zoo_reports, pack, assignment, base):
    out = results.gradescope(zoo_reports[base], assignment, pack.sections)
    assert out["score"] == 20.0 and all(t["status"] == "passed" for t in out["tests"] if t["max_score"])


def test_one_wrong_optimizer_costs_its_share_of_optim_and_says_which(zoo_reports, pack, assignment):
    """Control of the test above: a 2017 package whose Adam omits the power of t in its bias correction."""
    out = results.gradescope(zoo_reports["bug:adam_bias_correction_no_power"], assignment, pack.sections)
    tests = {t["name"]: t for t in out["tests"]}
    assert out["score"] == 19.0 and (tests["optim"]["score"], tests["optim"]["status"]) == (3.0, "failed")
    assert "FAIL adam [adam_bias_correction_no_power]" in tests["optim"]["output"]
    assert "fix:" in tests["optim"]["output"]
    # 2017 has no layer norm: not part of the variant, so its points are not lost; the visibilities are the config's.
    assert (tests["layernorm"]["score"], tests["layernorm"]["visibility"]) == (2.0, "hidden")
    assert "not part of this variant: layernorm_forward, layernorm_backward" in tests["layernorm"]["output"]
    assert tests["fc_net"]["visibility"] == "after_due_date"


def test_the_class_report_names_each_adam_bug_on_the_adam_row(zoo_reports, pack):
    rows = {r.name: r for r in classreport.unit_rows(list(zoo_reports.values()), pack.sections)}
    adam = dict(rows["adam"].diagnoses)
    assert {"adam_bias_correction_no_power", "adam_no_bias_correction", "adam_t_before_increment"} <= set(adam)
    # Every correct package passes adam; the three bugs and the unsaved state do not.
    assert rows["adam"].counts["pass"] >= len(manifest.BASES) and rows["adam"].pass_rate < 1.0
    assert rows["layernorm_forward"].counts["n/a"] >= sum(e["variant"] == "2017" for e in manifest.BASES.values())
