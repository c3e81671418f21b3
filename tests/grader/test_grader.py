"""The grader's pieces: the battery is built as it claims, torch's answers agree with the NumPy
reference, the child hands back data only, and `mlp-ref check` speaks JSON, Gradescope and CSV with
the right exit codes.
"""
import base64
import csv
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from mlp_ref import MLP, losses
from mlp_ref.cli import main as cli
from mlp_ref.compare import compare
from mlp_ref.grader import sandbox
from mlp_ref.packs.dlsp_hw1 import battery, grade, oracle, report
from mlp_ref.grader.child import pack
from mlp_ref.packs.dlsp_hw1.templates import TEMPLATE_DIR
from mlp_ref.tolerances import GRADING, tolerance

ZOO = Path(__file__).parent / "zoo"
TEMPLATES = TEMPLATE_DIR
CASES = battery.build()


# --- the battery ---------------------------------------------------------------------------------
CASES64 = battery.build(dtype="float64")


@pytest.mark.parametrize("cases, graded", [(CASES, "float32"), (CASES64, "float64")], ids=["default", "float64"])
def test_battery_covers_every_f_g_loss_batch_end_to_end_in_the_graded_dtype(cases, graded):
    seen = {(c.f, c.g, c.loss, c.n > 1, c.dtype) for c in cases if c.kind == "train" and c.section == "end-to-end"}
    want = {(f, g, loss, big, graded) for f in battery.ACTIVATIONS for g in battery.ACTIVATIONS
            for loss in battery.LOSSES for big in (False, True)}
    assert seen == want
    assert all(c.steps > 1 for c in cases if c.section == "end-to-end")
    assert {c.dtype for c in cases if c.section != "probe"} == {graded}


def test_float32_battery_probes_every_graded_case_in_float64_on_the_same_numbers():
    graded = {c.id: c for c in CASES if c.section not in ("probe", "robustness")}
    probes = [c for c in CASES if c.section == "probe"]
    assert sorted(p.twin for p in probes) == sorted(graded) and all(p.dtype == "float64" for p in probes)
    for p in probes:
        twin = graded[p.twin]
        assert all(np.array_equal(p.array(k), twin.array(k).astype(np.float64)) for k in p.inputs), p.id
    assert not any(c.section == "probe" for c in CASES64)


def test_battery_sizes_are_non_square_so_a_transpose_cannot_hide():
    main = [c for c in CASES if c.section in ("backward", "end-to-end")]
    assert all(len({c.d, c.h, c.k}) == 3 and c.n not in (c.d, c.h, c.k) for c in main if c.n > 1)


def test_battery_has_isolated_loss_and_backward_checks_graded_and_probed():
    for kind in ("loss", "backward"):
        assert {(c.dtype, c.section == "probe") for c in CASES if c.kind == kind} == {("float32", False),
                                                                                      ("float64", True)}
    assert {c.loss for c in CASES if c.kind == "loss"} == {"mse", "bce"}


@pytest.mark.parametrize("case", [c for c in CASES if c.why.startswith("zero")], ids=lambda c: c.id)
def test_zero_preactivation_cases_hit_exact_zeros(case):
    e = oracle.expected(case)
    assert np.sum(e["1.z1"] == 0) >= 2
    if case.g == "relu":
        assert np.any(e["1.z2"] == 0)


def test_bce_cases_keep_y_hat_inside_0_1():
    for c in CASES:
        if c.loss == "bce" and c.kind == "train" and c.section != "robustness" and not c.why.startswith("confident"):
            y_hat = np.concatenate([v.ravel() for k, v in oracle.expected(c).items() if k.endswith(".y_hat")])
            assert 0.02 < y_hat.min() and y_hat.max() < 0.98, c.id


@pytest.mark.parametrize("cases", [CASES, CASES64], ids=["float32", "float64"])
def test_robustness_cases_reach_overflow_and_saturation_in_the_graded_dtype(cases):
    overflow = next(c for c in cases if c.why.startswith("overflow"))
    e = oracle.expected(overflow)
    limit = np.log(np.finfo(overflow.dtype).max)  # where exp overflows: 88.7 in float32, 709.8 in float64
    assert np.abs(e["1.z1"]).max() > limit and np.abs(e["1.z2"]).max() > limit
    saturated = next(c for c in cases if c.why.startswith("saturated") and c.kind == "train")
    assert np.any(oracle.expected(saturated)["1.y_hat"] == 1.0)


def test_broadcast_cases_have_a_single_output_column():
    assert {c.kind for c in CASES if c.why.startswith("broadcast") and c.k == 1 and c.n > 1} == {"loss", "train"}


def test_battery_is_the_same_in_parent_and_child():
    """The child rebuilds the battery from the seed; the same seed must give the same inputs."""
    battery.build.cache_clear()
    again = battery.build()
    assert [c.id for c in again] == [c.id for c in CASES]
    assert all(np.array_equal(a.inputs[k], b.inputs[k]) for a, b in zip(again, CASES) for k in a.inputs)


# --- torch's answers against the project's NumPy reference (two independent computations) ------------
# The reference refuses bce on outputs not confined to [0, 1] (relu, identity), so those cases are left
# to the oracle's own tests.
@pytest.mark.parametrize("case", [c for c in CASES64 if c.kind == "train" and c.n > 1 and c.section == "end-to-end"
                                  and not (c.loss == "bce" and c.g != "sigmoid")][:6], ids=lambda c: c.id)
def test_oracle_agrees_with_the_numpy_reference(case):
    e = oracle.expected(case)
    net = MLP(case.d, case.h, case.k, f=case.f, g=case.g, loss=case.loss, reduction="mean", dtype="float64")
    net.set_params({k: case.array(k) for k in ("W1", "b1", "W2", "b2")})
    y_hat = net.forward(case.array("x"))
    J = net.loss(y_hat, case.array("y"))
    net.zero_grad()
    net.backward()
    tol = tolerance("float64")
    assert compare("y_hat", y_hat, e["1.y_hat"], tol).ok
    assert abs(J - float(e["1.J"])) <= 1e-12 * (1 + abs(J))
    for k in ("W1", "b1", "W2", "b2"):
        assert compare(k, net.grads[k], e[f"1.d{k}"], tol).ok, k


@pytest.mark.parametrize("case", [c for c in CASES64 if c.kind == "loss" and c.section != "robustness"],
                         ids=lambda c: c.id)
def test_oracle_losses_agree_with_the_numpy_losses(case):
    e = oracle.expected(case)
    J, dJdy_hat = getattr(losses, case.loss)(case.array("y_hat"), case.array("y"), "mean")
    assert compare("J", J, e["J"], tolerance("float64")).ok
    assert compare("dJdy_hat", dJdy_hat, e["dJdy_hat"], tolerance("float64")).ok


# --- what comes back from the child --------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_packed_arrays_come_back_bit_for_bit(dtype):
    a = np.array([[0.1, -1e-30, np.nan], [np.inf, -np.inf, 3.0]], dtype=dtype)
    b = sandbox.unpack(json.loads(json.dumps(pack(a))))
    assert b.dtype == a.dtype and b.shape == a.shape
    assert np.array_equal(a.view(np.uint8), b.view(np.uint8))


ONE_FLOAT64 = base64.b64encode(np.float64(1.0).tobytes()).decode()  # 8 bytes: one float64


@pytest.mark.parametrize("dtype", ["object", "V8", "<U3", None])
def test_unpack_refuses_anything_but_plain_numbers(dtype):
    with pytest.raises(ValueError, match="not allowed"):
        sandbox.unpack({"dtype": dtype, "shape": [1], "b64": ONE_FLOAT64})


@pytest.mark.parametrize("packed, why", [
    ({"dtype": "float64", "shape": [3], "b64": ONE_FLOAT64}, "needs 24, got 8"),      # fewer bytes than the shape
    ({"dtype": "float32", "shape": [1], "b64": ONE_FLOAT64}, "needs 4, got 8"),       # more
    ({"dtype": "float64", "shape": [1], "b64": "not base64!"}, "not base64"),         # not base64 at all
    ({"dtype": "float64", "shape": [1], "b64": [1.0]}, "expected a base64 string"),   # the old list of values
    ({"dtype": "float64", "shape": [-1], "b64": ONE_FLOAT64}, "expected a list of sizes"),
    ({"dtype": "float64", "shape": [1.0], "b64": ONE_FLOAT64}, "expected a list of sizes"),
    ({"dtype": "float64", "shape": "8", "b64": ONE_FLOAT64}, "expected a list of sizes"),
])
def test_unpack_refuses_bytes_that_do_not_make_the_shape(packed, why):
    with pytest.raises(ValueError, match=why):
        sandbox.unpack(packed)


@pytest.mark.parametrize("dtype", ["int64", "int8", "uint8", "bool", "float16"])
def test_packed_integers_booleans_and_halves_come_back_exactly(dtype):
    a = np.array([[0, 1, 127], [3, 0, 1]]).astype(dtype)
    b = sandbox.unpack(json.loads(json.dumps(pack(a))))
    assert b.dtype == a.dtype and b.shape == a.shape and np.array_equal(a, b)


def test_unpack_reads_any_nonzero_byte_of_a_bool_as_true():
    b = sandbox.unpack({"dtype": "bool", "shape": [3], "b64": base64.b64encode(bytes([0, 1, 7])).decode()})
    assert b.dtype == bool and b.tolist() == [False, True, True] and b.view(np.uint8).tolist() == [0, 1, 1]


@pytest.mark.parametrize("arrays", [[1, 2], {"J": {"dtype": "float64", "shape": [3], "b64": ONE_FLOAT64}},
                                    {"J": {"dtype": "object", "shape": [], "b64": ONE_FLOAT64}},
                                    {"J": {"dtype": "float64", "shape": [1], "data": [1.0]}}, {"J": "1.0"}])
def test_malformed_child_results_fail_the_case_instead_of_the_grader(arrays):
    from mlp_ref.packs.dlsp_hw1 import verdict

    case = next(c for c in CASES if c.kind == "loss")
    check = verdict.case_check(case, oracle.expected(case), {"case": case.id, "arrays": arrays}, "homework")
    assert check.passed is False and "could not be read" in check.message


@pytest.mark.parametrize("key", ["zz@forward", "1.dJdy_hat@backward", "a@b@c"])
def test_input_names_the_runner_never_records_are_set_aside_by_the_mutation_check(key):
    """A forged '@' name (no input of that name, no '@before' to compare with) neither crashes the check nor
    fails it; the same array under a real name that differs from the input does fail it."""
    from mlp_ref.packs.dlsp_hw1 import verdict

    case = next(c for c in CASES if c.kind == "train")
    forged = {case.id: {"case": case.id, "arrays": {key: pack(np.ones(3))}}}
    assert verdict.mutation_check([case], forged).passed is True
    changed = {case.id: {"case": case.id, "arrays": {"1.x@forward": pack(case.array("x") + 1)}}}
    check = verdict.mutation_check([case], changed)
    assert check.passed is False and check.diagnosis == "input_mutated" and "forward modified x" in check.message


def test_a_case_with_values_missing_and_no_error_fails():
    from mlp_ref.packs.dlsp_hw1 import verdict

    case = next(c for c in CASES if c.kind == "train")
    partial = {k: pack(v) for k, v in oracle.expected(case).items() if k.startswith("1.")}
    check = verdict.case_check(case, oracle.expected(case), {"case": case.id, "arrays": partial}, "homework")
    assert check.passed is False and "2.y_hat is missing" in check.message


@pytest.mark.parametrize("interface, kind, graded", [("homework", "loss", True), ("numpy", "loss", False),
                                                      ("numpy", "train", True)])
def test_a_skip_counts_only_where_the_interface_cannot_express_the_case(interface, kind, graded):
    from mlp_ref.packs.dlsp_hw1 import verdict

    case = next(c for c in CASES if c.kind == kind)
    event = {"case": case.id, "skipped": f"the {interface} interface has no {kind} check"}
    check = verdict.case_check(case, oracle.expected(case), event, interface)
    assert check.passed is (False if graded else None)


def test_children_never_rerun_the_graders_main_script(tmp_path, monkeypatch):
    """A grading script without an `if __name__ == "__main__"` guard must not run again in each child."""
    import types

    script = tmp_path / "grade_all.py"
    marker = tmp_path / "ran-again"
    script.write_text(f"open({str(marker)!r}, 'w').close()\n")
    main = types.ModuleType("__main__")
    main.__file__ = str(script)
    monkeypatch.setitem(__import__("sys").modules, "__main__", main)
    r = grade.grade(ZOO / "correct_einsum.py")
    assert r.passed and not marker.exists()


def test_memory_limit_bites_at_the_size_asked_for(tmp_path):
    """300 MB held from the first forward on: fine by default, a MemoryError under --memory-mb 128."""
    source = (ZOO / "correct_einsum.py").read_text()
    grab = "        if '_ballast' not in globals():\n            globals()['_ballast'] = bytearray(300 * 2 ** 20)\n"
    sub = tmp_path / "ballast.py"
    sub.write_text(source.replace("    def forward(self, x):\n", "    def forward(self, x):\n" + grab, 1))
    assert grab in sub.read_text()
    small = grade.grade(sub, limits=sandbox.Limits(memory_mb=128))
    assert small.passed is False and "memory_limit" in small.containment
    assert grade.grade(sub).passed


# --- templates and interfaces --------------------------------------------------------------------
@pytest.fixture(scope="module")
def template_reports():
    return {name: grade.grade(TEMPLATES / name) for name in ("homework_mlp.py", "numpy_mlp.py")}


@pytest.mark.parametrize("name, interface", [("homework_mlp.py", "homework"), ("numpy_mlp.py", "numpy")])
def test_blank_templates_are_recognised_and_say_what_to_fill_in(name, interface, template_reports):
    r = template_reports[name]
    assert r.interface == interface and r.passed is False
    text = report.text(r)
    # Each unwritten function by its name, with its line; nothing reads as a crash or a finding about numbers.
    assert "not implemented yet: forward (line " in text
    for absent in ("crashed", "raised in", "contained:", "runs in float64", "errors are real", "headroom"):
        assert absent not in text, absent
    assert r.containment == [] and r.probe.text == ""


def test_a_template_half_filled_with_pass_reads_not_implemented_by_name(tmp_path):
    """A body of `pass` returns None: that function is not implemented yet, named, not a TypeError crash.
    Control: the functions already written are graded as usual (the losses here pass)."""
    sub = tmp_path / "half.py"
    sub.write_text((TEMPLATES / "homework_mlp.py").read_text()
                   .replace('raise NotImplementedError("forward")', "pass")
                   .replace('raise NotImplementedError("mse_loss")',
                            "return ((y_hat - y) ** 2).mean(), 2 * (y_hat - y) / y.numel()"))
    r = grade.grade(sub)
    text = report.text(r, "short")
    assert "not implemented yet: forward (it returns None)" in text and "TypeError" not in text
    assert "not implemented yet: bce_loss" in text and "contained:" not in text
    assert all(c.passed for c in r.checks if c.section == "loss" and c.case.loss == "mse")


def test_numpy_interface_skips_what_it_cannot_express(template_reports):
    skipped = {c.case.kind for c in template_reports["numpy_mlp.py"].checks if c.passed is None}
    assert skipped == {"loss", "backward"}


# --- the command line ----------------------------------------------------------------------------
def check(argv, capsys):
    code = cli.main(["check", *argv])
    return code, capsys.readouterr()


def test_check_passes_a_correct_submission_with_exit_0_and_json(capsys):
    code, out = check([str(ZOO / "correct_vectorised.py"), "--json"], capsys)
    data = json.loads(out.out)
    assert code == 0 and data["passed"] is True and data["score"] == data["max_score"] > 60
    assert data["dtype"] == "float32" and data["tolerance"]["rtol"] == GRADING["float32"].rtol
    assert 0 <= data["headroom"]["overall"] <= 0.1 and set(data["headroom"]["sections"]) >= {"loss", "end-to-end"}
    assert data["float64"]["runs"] is True


def test_check_dtype_float64_grades_in_float64_and_fails_a_float32_only_file(capsys):
    code, out = check([str(ZOO / "correct_vectorised.py"), "--json", "--dtype", "float64"], capsys)
    data = json.loads(out.out)
    assert code == 0 and data["dtype"] == "float64" and data["float64"]["runs"] is None
    assert {c["case"]["dtype"] for c in data["checks"] if c["case"]} == {"float64"}
    # Negative control: torch.ones(n) in float64 raises, and here float64 is what is graded.
    code, out = check([str(ZOO / "correct_default_dtype_helpers.py"), "--dtype", "float64"], capsys)
    # x is not in scope in backward(self, dJdy_hat): the fix names its argument.
    assert code == 1 and "line 50 makes a float32 tensor with torch.ones(n); pass dtype=dJdy_hat.dtype" in out.out


def test_check_fails_a_buggy_submission_with_exit_1_and_names_the_bug(capsys):
    code, out = check([str(ZOO / "bug_transposed_gradient.py")], capsys)
    assert code == 1
    assert "FAIL" in out.out and "transposed_gradient" in out.out and "(5, 4)" in out.out


def test_gradescope_file_is_written_by_the_grader_after_the_child(tmp_path, capsys, monkeypatch):
    """The hostile submission writes a full-score results.json into its own folder; ours says otherwise."""
    monkeypatch.chdir(tmp_path)
    code, _ = check([str(ZOO / "hostile_write_verdict.py"), "--gradescope", "results.json"], capsys)
    data = json.loads((tmp_path / "results.json").read_text())
    assert code == 1 and data["score"] < data["max_score"]
    assert all({"name", "score", "max_score", "output"} <= set(t) for t in data["tests"])
    assert sum(t["score"] for t in data["tests"]) == data["score"]


def test_folder_is_graded_into_one_csv_row_and_one_gradescope_file_per_submission(tmp_path, capsys):
    (tmp_path / "subs").mkdir()
    for name in ("correct_einsum.py", "bug_half_mse.py", "broken_syntax.py"):
        shutil.copy(ZOO / name, tmp_path / "subs" / name)
    code, out = check([str(tmp_path / "subs"), "--csv", str(tmp_path / "grades.csv"), "--gradescope", str(tmp_path / "gs")],
                      capsys)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "grades.csv").read_text())))
    scores = {p.name: json.loads(p.read_text())["score"] for p in (tmp_path / "gs").iterdir()}
    assert set(scores) == {"correct_einsum.json", "bug_half_mse.json", "broken_syntax.json"}
    assert code == 1 and "1/3 submissions pass" in out.err
    by_name = {Path(r["path"]).name: r for r in rows}
    assert set(by_name) == {"correct_einsum.py", "bug_half_mse.py", "broken_syntax.py"}
    assert by_name["correct_einsum.py"]["passed"] == "True" and by_name["correct_einsum.py"]["first_failure"] == ""
    assert by_name["bug_half_mse.py"]["diagnosis"] == "half_mse"
    assert "SyntaxError" in by_name["broken_syntax.py"]["first_failure"]
    assert float(by_name["bug_half_mse.py"]["score"]) < float(by_name["bug_half_mse.py"]["max_score"])


@pytest.mark.parametrize("name", ["homework", "numpy"])
def test_template_option_prints_the_blank_template(name, capsys):
    code, out = check(["--template", name], capsys)
    assert code == 0 and out.out == (TEMPLATES / f"{name}_mlp.py").read_text()


@pytest.mark.parametrize("argv, word", [
    ([], "path"),
    (["no/such/file.py"], "path"),
    (["tests", "--gradescope", "pyproject.toml"], "--gradescope"),
    (["tests/grader/zoo/correct_einsum.py", "--timeout", "0"], "--timeout"),
    (["tests/grader/zoo/correct_einsum.py", "--memory-mb", "10"], "--memory-mb"),
])
def test_bad_arguments_exit_2_naming_the_argument(argv, word, capsys):
    code, out = check(argv, capsys)
    assert code == 2 and word in out.err


# --- the noise under torch's answers: the case's own conditioning, not a looser table -------------------
def _rel_noise(case, key):
    values, noise = oracle.answers_all()[case.id]
    return noise[key] / np.max(np.abs(values[key]))


def test_noise_is_rounding_on_ordinary_cases_and_large_only_near_0_and_1():
    ordinary = next(c for c in CASES if c.id == "loss/bce/N6-K3/float32")
    confident = next(c for c in CASES if c.kind == "loss" and c.why.startswith("confident") and c.section != "probe")
    assert _rel_noise(ordinary, "dJdy_hat").max() < 1e-5
    near = np.minimum(confident.array("y_hat"), 1 - confident.array("y_hat")) < 1e-3
    rel = _rel_noise(confident, "dJdy_hat")
    # Relative to each element: where y_hat is near 0 or 1 and the label is the other one, dJdy_hat ~ 1 / (1e-3)
    # and the noise is ~1e-4 of it; away from 0 and 1 it is rounding.
    per_element = oracle.answers_all()[confident.id][1]["dJdy_hat"] / np.abs(oracle.expected(confident)["dJdy_hat"])
    assert per_element[near].max() > 1e-4 and per_element[~near].max() < 1e-5 and rel.max() < 1


@pytest.mark.parametrize("case", [c for c in CASES if c.why.startswith("confident")], ids=lambda c: c.id)
def test_shared_runs_give_the_same_noise_as_a_case_computed_alone(case):
    values, noise = oracle.answers_all()[case.id]
    alone = oracle.noise(case, oracle.expected(case))
    assert all(np.array_equal(noise[k], alone[k]) for k in alone)
