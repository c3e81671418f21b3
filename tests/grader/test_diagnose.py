"""Each diagnosis rule fires on the bug it names, and on nothing else: not on torch's own numbers,
not on a different planted bug, not on an error of unknown shape.

The planted bugs are written here by hand from torch's forward values (numpy, float64), apart from
the mutants inside diagnose.py, so a rule is not checked against its own arithmetic.
"""
import dataclasses

import numpy as np
import pytest

from mlp_ref.packs.dlsp_hw1 import battery, diagnose, oracle, verdict
from mlp_ref.grader.child import pack

GRADS = ("dW1", "db1", "dW2", "db2")
NOISE = {}


@pytest.fixture(scope="module")
def expected():
    answers = oracle.answers_all()
    NOISE.update({k: n for k, (_, n) in answers.items()})
    return {k: v for k, (v, _) in answers.items()}


def find(kind, f="-", g="-", loss="mse", n=6, dtype="float64", why="", k=3):
    for c in battery.build():
        if (c.kind, c.f, c.g, c.loss, c.n, c.k, c.dtype) == (kind, f, g, loss, n, k, dtype) and c.why.startswith(why):
            return c
    raise LookupError(f"no case {kind} {f} {g} {loss} N={n} {dtype} {why}")


def torch_arrays(case, expected):
    """What a correct submission returns: torch's answers under the keys the child reports."""
    names = verdict.ORDER[case.kind]
    return {k: v.copy() for k, v in expected[case.id].items() if k.split(".")[-1] in names}


def judge(case, arrays, expected, interface="homework", error=None):
    event = {"case": case.id, "arrays": {k: pack(v) for k, v in arrays.items()}, "error": error}
    check = verdict.case_check(case, expected[case.id], event, interface, NOISE.get(case.id))
    return diagnose.diagnose([check], expected)[0]


def hand_backprop(case, expected, step=1, dact=None, act_product=np.multiply, chain_from_dy=False):
    """Backprop by hand from torch's forward values; dact(name, z, out) may plant a wrong derivative,
    chain_from_dy hands dJdy_hat, not dz2, to the hidden layer."""
    t = {k.split(".", 1)[1]: v.astype(np.float64) for k, v in expected[case.id].items() if k.startswith(f"{step}.")}
    right = {"relu": lambda z, o: (z > 0) * 1.0, "sigmoid": lambda z, o: o * (1 - o), "identity": lambda z, o: 1.0 + 0 * z}
    d = dact or (lambda name, z, o: right[name](z, o))
    dy = case.array("dJdy_hat").astype(np.float64) if case.kind == "backward" else t["dJdy_hat"]
    dz2 = dy * d(case.g, t["z2"], t["y_hat"])
    dz1 = act_product((dy if chain_from_dy else dz2) @ t["W2"], d(case.f, t["z1"], t["h"]))
    x = case.array("x").astype(np.float64)
    out = {"dW2": dz2.T @ t["h"], "db2": dz2.sum(0), "dW1": dz1.T @ x, "db1": dz1.sum(0)}
    return {f"{step}.{k}": v.astype(case.dtype) for k, v in out.items()}


@pytest.mark.parametrize("case", [c for c in battery.build() if c.section != "robustness"], ids=lambda c: c.id)
def test_torch_own_numbers_pass_every_case_with_no_diagnosis(case, expected):
    check = judge(case, torch_arrays(case, expected), expected)
    assert check.passed and check.diagnosis is None


def test_hand_backprop_agrees_with_torch(expected):
    """The planting helper itself is right when nothing is planted (else the tests below prove nothing)."""
    case = find("backward", "sigmoid", "relu")
    assert judge(case, {**torch_arrays(case, expected), **hand_backprop(case, expected)}, expected).passed


def plant(name, case, expected):
    """torch's arrays for `case` with one classic bug planted."""
    a = torch_arrays(case, expected)
    e = expected[case.id]
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    if name == "transposed_gradient":
        a["1.dW1"] = e["1.dW1"].T.copy()
    elif name == "bias_not_summed":
        a["1.db2"] = e["1.dz2"].copy()  # one row per sample, never summed
    elif name == "bias_mean":
        a["1.db1"] = e["1.db1"] / case.n
    elif name == "not_mean_reduced":
        a["J"], a["dJdy_hat"] = e["J"] * case.n * case.k, e["dJdy_hat"] * case.n * case.k
    elif name == "half_mse":
        a["J"], a["dJdy_hat"] = e["J"] / 2, e["dJdy_hat"] / 2
    elif name in ("wrong_sign", "wrong_sign_bce"):
        a["dJdy_hat"] = -e["dJdy_hat"]
    elif name == "output_derivative_skipped_in_chain":
        a.update(hand_backprop(case, expected, chain_from_dy=True))
    elif name in ("output_derivative_skipped", "hidden_derivative_skipped"):
        skipped = case.g if name == "output_derivative_skipped" else case.f
        right = {"relu": lambda z, o: (z > 0) * 1.0, "sigmoid": lambda z, o: o * (1 - o),
                 "identity": lambda z, o: 1.0 + 0 * z}
        a.update(hand_backprop(case, expected, dact=lambda n, z, o: 1.0 + 0 * z if n == skipped else right[n](z, o)))
    elif name == "split_mean_reduction":
        for s in range(1, case.steps + 1):
            a[f"{s}.dJdy_hat"] = e[f"{s}.dJdy_hat"] * case.n * case.k  # grads stay right: backward divides
    elif name == "gradients_accumulate":
        for k in GRADS:
            a[f"2.{k}"] = e[f"2.{k}"] + e[f"1.{k}"]
    elif name == "relu_derivative_at_zero":
        a.update(hand_backprop(case, expected, dact=lambda n, z, o: (z >= 0) * 1.0 if n == "relu"
                               else (o * (1 - o) if n == "sigmoid" else 1.0 + 0 * z)))
    elif name == "derivative_at_wrong_point":
        a.update(hand_backprop(case, expected, dact=lambda n, z, o: sig(o) * (1 - sig(o)) if n == "sigmoid"
                               else ((z > 0) * 1.0 if n == "relu" else 1.0 + 0 * z)))
    elif name == "matmul_for_elementwise":
        a.update(hand_backprop(case, expected, act_product=np.matmul))
    elif name == "non_finite":
        a["1.dW1"] = e["1.dW1"].copy()
        a["1.dW1"][0, 0] = np.nan
    return a


PLANTED = [
    ("transposed_gradient", "transposed_gradient", dict(kind="backward", f="relu", g="sigmoid")),
    ("bias_not_summed", "bias_not_summed", dict(kind="backward", f="sigmoid", g="identity")),
    ("bias_mean", "bias_not_summed", dict(kind="backward", f="identity", g="relu")),
    ("not_mean_reduced", "not_mean_reduced", dict(kind="loss", loss="bce")),
    ("half_mse", "half_mse", dict(kind="loss", loss="mse")),
    ("wrong_sign", "wrong_sign", dict(kind="loss", loss="mse")),
    ("wrong_sign_bce", "wrong_sign", dict(kind="loss", loss="bce")),
    ("output_derivative_skipped_in_chain", "activation_derivative_skipped",
     dict(kind="backward", f="relu", g="sigmoid")),
    ("output_derivative_skipped", "activation_derivative_skipped", dict(kind="train", f="identity", g="sigmoid")),
    ("hidden_derivative_skipped", "activation_derivative_skipped", dict(kind="backward", f="sigmoid", g="relu")),
    ("split_mean_reduction", "split_mean_reduction", dict(kind="train", f="relu", g="sigmoid")),
    ("gradients_accumulate", "gradients_accumulate", dict(kind="twice", f="relu", g="sigmoid", why="twice")),
    ("relu_derivative_at_zero", "relu_derivative_at_zero", dict(kind="train", f="relu", g="identity", why="zero")),
    ("derivative_at_wrong_point", "derivative_at_wrong_point", dict(kind="backward", f="sigmoid", g="identity")),
    ("matmul_for_elementwise", "matmul_for_elementwise", dict(kind="train", f="relu", g="sigmoid", n=4, k=4,
                                                              why="square")),
    ("non_finite", "non_finite", dict(kind="backward", f="relu", g="relu")),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("bug, diagnosis, where", PLANTED, ids=[p[0] for p in PLANTED])
def test_each_rule_names_its_planted_bug_and_no_other(bug, diagnosis, where, dtype, expected):
    case = find(dtype=dtype, **where)
    check = judge(case, plant(bug, case, expected), expected)
    assert check.passed is False, f"{bug} planted, yet the case passed"
    assert check.diagnosis == diagnosis, f"{bug} planted, diagnosed {check.diagnosis}: {check.evidence}"


@pytest.mark.parametrize("loss, formula, other", [("mse", "+2 (y_hat - y) / (N K)", "y_hat (1 - y_hat)"),
                                                   ("bce", "(y_hat - y) / (y_hat (1 - y_hat)) / (N K)", "+2")])
def test_wrong_sign_evidence_gives_the_cases_own_loss_formula(loss, formula, other, expected):
    """A flipped BCE gradient is told BCE's dJdy_hat, never MSE's (and the reverse)."""
    check = judge(find("loss", loss=loss), plant("wrong_sign", find("loss", loss=loss), expected), expected)
    assert check.diagnosis == "wrong_sign" and formula in check.evidence and other not in check.evidence
    assert "MSE" not in diagnose.WORDS["wrong_sign"] and "BCE" not in diagnose.WORDS["wrong_sign"]


@pytest.mark.parametrize("g", ["identity"])
def test_skipped_derivative_of_identity_changes_nothing_and_the_case_passes(g, expected):
    """Negative control: identity' = 1, so leaving it out is no bug and the rule has nothing to say."""
    case = find("backward", "relu", g)
    a = {**torch_arrays(case, expected), **hand_backprop(case, expected, chain_from_dy=True)}
    check = judge(case, a, expected)
    assert check.passed and check.diagnosis is None


@pytest.mark.parametrize("where, n, reading", [
    (dict(kind="loss", loss="mse"), 6, "off by K = 3: divided by N only, not N K = 18"),
    (dict(kind="loss", loss="mse", n=1), 1, "cannot be told apart"),
])
def test_not_mean_reduced_names_the_factor_and_says_when_the_sizes_blur_it(where, n, reading, expected):
    """J and dJdy_hat divided by N only: K times torch's. With N = 1, K is also N K, and the evidence says so."""
    case = find(**where)
    e, a = expected[case.id], torch_arrays(case, expected)
    a["J"], a["dJdy_hat"] = e["J"] * case.k, e["dJdy_hat"] * case.k
    check = judge(case, a, expected)
    assert case.n == n and check.diagnosis == "not_mean_reduced" and reading in check.evidence, check.evidence


def test_reduction_failures_are_told_first_where_n_k_and_nk_differ(expected):
    """The report's order: an N = 1 failure follows the N > 1 one with the same diagnosis, which is told in full."""
    checks = []
    for n in (1, 6):
        case = find("loss", loss="mse", n=n)
        e, a = expected[case.id], torch_arrays(case, expected)
        a["J"], a["dJdy_hat"] = e["J"] * case.k, e["dJdy_hat"] * case.k
        checks.append(judge(case, a, expected))
    ordered = diagnose.telling_order(checks)
    assert [c.case.n for c in ordered] == [6, 1]
    # Negative control: with no case that tells the sizes apart, the order stays as it was.
    assert diagnose.telling_order(checks[:1]) == checks[:1]


def test_relu_zero_rule_is_silent_where_no_preactivation_is_zero(expected):
    """ReLU'(0) = 1 changes nothing on random inputs: the case passes, so the rule has nothing to say."""
    case = find("backward", "relu", "relu")
    assert not np.any(expected[case.id]["1.z1"] == 0)
    a = torch_arrays(case, expected)
    a.update(hand_backprop(case, expected, dact=lambda n, z, o: (z >= 0) * 1.0 if n == "relu" else 1.0 + 0 * z))
    assert judge(case, a, expected).passed


def test_unknown_error_shape_gets_no_diagnosis_but_the_raw_numbers(expected):
    from mlp_ref.packs.dlsp_hw1 import report

    case = find("backward", "sigmoid", "sigmoid")
    a = torch_arrays(case, expected)
    a["1.dW2"] = a["1.dW2"] + np.random.default_rng(0).standard_normal(a["1.dW2"].shape) * 0.3
    check = judge(case, a, expected)
    assert check.passed is False and check.diagnosis is None
    text = "\n".join(report.failure_lines(check))
    assert "submission =" in text and "torch =" in text and "best scalar fit" in text


def test_a_scale_rule_needs_the_exact_factor(expected):
    """1.5 x torch is neither N, K, N K, 1/2 nor -1: no reduction diagnosis."""
    case = find("loss", loss="mse")
    a = torch_arrays(case, expected)
    a["J"] = a["J"] * 1.5
    check = judge(case, a, expected)
    assert check.passed is False and check.diagnosis is None


def test_mean_split_is_not_called_split_when_the_gradients_are_off_too(expected):
    """dJdy_hat N K times torch's AND grads N K times: plain not_mean_reduced, not a split."""
    case = find("train", "relu", "identity")
    e, a = expected[case.id], torch_arrays(case, expected)
    for key in a:
        if key.split(".")[1] in ("dJdy_hat", *GRADS):
            a[key] = e[key] * case.n * case.k
    assert judge(case, a, expected).diagnosis == "not_mean_reduced"


def _grid_checks(expected, failing_activation):
    """Checks for every f x g train case, the ones using `failing_activation` crashing in backward."""
    checks = []
    for case in battery.build():
        if case.kind == "train" and case.section == "end-to-end":
            error = None
            arrays = torch_arrays(case, expected)
            if failing_activation in (case.f, case.g):
                arrays = {k: v for k, v in arrays.items() if k.split(".")[1] in ("y_hat", "J", "dJdy_hat")
                          and k.startswith("1.")}
                error = {"type": "TypeError", "message": "unsupported operand type(s) for *: 'Tensor' and 'NoneType'",
                         "stage": "backward", "step": 1, "line": 20, "source": "x", "outcome": "crashed"}
            event = {"case": case.id, "arrays": {k: pack(v) for k, v in arrays.items()}, "error": error}
            checks.append(verdict.case_check(case, expected[case.id], event, "homework"))
    return checks


def test_missing_branch_named_when_exactly_one_activations_cases_fail(expected):
    checks = diagnose.diagnose(_grid_checks(expected, "sigmoid"), expected)
    failing = [c for c in checks if c.passed is False]
    assert failing and all(c.diagnosis == "missing_activation_branch" for c in failing)
    assert all("sigmoid" in (c.case.f, c.case.g) for c in failing)


def test_missing_branch_not_named_when_other_cases_fail_too(expected):
    checks = _grid_checks(expected, "sigmoid")
    i = next(i for i, c in enumerate(checks) if c.passed and c.case.f == "relu" and c.case.g == "relu")
    checks[i] = dataclasses.replace(checks[i], passed=False, error={"type": "ValueError", "message": "boom",
                                                                    "stage": "forward", "outcome": "crashed"})
    checks = diagnose.diagnose(checks, expected)
    assert not any(c.diagnosis == "missing_activation_branch" for c in checks)


def test_diagnose_returns_new_checks_and_leaves_its_input_alone(expected):
    """Rules return (id, evidence); diagnose() applies them to new Checks, never to the ones it was given."""
    checks = _grid_checks(expected, "sigmoid")
    before = [(c.diagnosis, c.evidence) for c in checks]
    after = diagnose.diagnose(checks, expected)
    assert [(c.diagnosis, c.evidence) for c in checks] == before
    assert any(c.diagnosis == "missing_activation_branch" for c in after)
    with pytest.raises(dataclasses.FrozenInstanceError):
        checks[0].diagnosis = "x"


# --- BCE near 0 and 1: a clamp or a large eps fails with bce_clamped; eps <= 1e-7 passes -----------------
def bce(y_hat, y, clamp=0.0, eps=0.0, fused_eps=None):
    """J and dJdy_hat in float64 by numpy, with y_hat clamped to [clamp, 1 - clamp] or eps in logs/denominators;
    fused_eps: dJdy_hat as the fused (y_hat - y) / (y_hat (1 - y_hat) + fused_eps), eps also in J's logs."""
    p = np.clip(y_hat, clamp, 1 - clamp) if clamp else y_hat
    if fused_eps is not None:
        J = -np.mean(y * np.log(p + fused_eps) + (1 - y) * np.log(1 - p + fused_eps))
        return J, (p - y) / (p * (1 - p) + fused_eps) / y.size
    J = -np.mean(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))
    return J, (-y / (p + eps) + (1 - y) / (1 - p + eps)) / y.size


CONFIDENT_LOSS = dict(kind="loss", loss="bce", why="confident")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("variant", [dict(clamp=1e-3), dict(eps=1e-3), dict(fused_eps=1e-4)],
                         ids=["clamp 1e-3", "eps 1e-3", "fused eps 1e-4"])
def test_bce_clamp_or_large_eps_near_0_and_1_is_named(variant, dtype, expected):
    case = find(dtype=dtype, **CONFIDENT_LOSS)
    J, dJdy_hat = bce(case.array("y_hat").astype(np.float64), case.array("y").astype(np.float64), **variant)
    check = judge(case, {"J": np.asarray(J, dtype), "dJdy_hat": dJdy_hat.astype(dtype)}, expected)
    assert check.passed is False and check.diagnosis == "bce_clamped", check.evidence


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("variant", [dict(clamp=1e-7), dict(eps=1e-7), dict(eps=1e-12), dict(fused_eps=1e-7),
                                     dict(fused_eps=1e-8)],
                         ids=["clamp 1e-7", "eps 1e-7", "eps 1e-12", "fused eps 1e-7", "fused eps 1e-8"])
def test_bce_eps_up_to_1e_7_passes_on_confident_predictions(variant, dtype, expected):
    """The tolerance's side of the line: the legitimate eps moves dJdy_hat by ~1e-7 / 2e-4 there, and passes."""
    case = find(dtype=dtype, **CONFIDENT_LOSS)
    J, dJdy_hat = bce(case.array("y_hat").astype(np.float64), case.array("y").astype(np.float64), **variant)
    check = judge(case, {"J": np.asarray(J, dtype), "dJdy_hat": dJdy_hat.astype(dtype)}, expected)
    assert check.passed, check.comparison.describe() if check.comparison else check.message
    assert check.headroom <= 0.1


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("fused_eps", [1e-7, 1e-8])
def test_bce_clamped_never_names_an_eps_the_policy_allows(fused_eps, dtype, expected):
    """An error that grows as 1 / (y_hat (1 - y_hat)) with the size of an allowed eps is not a clamp: J made
    wrong elsewhere fails the case, and bce_clamped stays silent rather than say 'eps about 1e-8, keep <= 1e-7'."""
    case = find(dtype=dtype, **CONFIDENT_LOSS)
    J, dJdy_hat = bce(case.array("y_hat").astype(np.float64), case.array("y").astype(np.float64), fused_eps=fused_eps)
    arrays = {"J": np.asarray(J * 1.5, dtype), "dJdy_hat": dJdy_hat.astype(dtype)}
    event = {"case": case.id, "arrays": {k: pack(v) for k, v in arrays.items()}}
    check = verdict.case_check(case, expected[case.id], event, "homework", NOISE.get(case.id))
    assert check.passed is False and check.quantity == "J"
    # The per-check rules alone (the pattern rules read across a whole battery, absent here).
    assert diagnose.per_check(check, expected) is None
    # Negative control: the same error shape with eps 1e-6 is named, with its size.
    J, dJdy_hat = bce(case.array("y_hat").astype(np.float64), case.array("y").astype(np.float64), fused_eps=1e-6)
    event = {"case": case.id, "arrays": {k: pack(v) for k, v in {"J": np.asarray(J * 1.5, dtype),
                                                                 "dJdy_hat": dJdy_hat.astype(dtype)}.items()}}
    found = diagnose.per_check(verdict.case_check(case, expected[case.id], event, "homework", NOISE.get(case.id)),
                               expected)
    assert found is not None and found[0] == "bce_clamped" and "1e-06" in found[1], found


def test_confident_cases_are_confident_not_saturated(expected):
    """y_hat within 1e-3 of 0 or 1 at every step of every confident case, in float32, never exactly 0 or 1."""
    for case in battery.build():
        if case.why.startswith("confident"):
            y_hat = np.concatenate([v.ravel() for k, v in expected[case.id].items() if k.split(".")[-1] == "y_hat"]
                                   or [case.array("y_hat").ravel()])
            near = np.minimum(y_hat, 1 - y_hat)
            assert 0 < near.min() and (near < 1e-3).sum() >= case.n, case.id


def test_input_mutation_found_and_not_imagined(expected):
    case = find("loss", loss="mse")
    clean = {"y@loss": case.array("y"), "y_hat@loss": case.array("y_hat")}
    events = {case.id: {"arrays": {k: pack(v) for k, v in clean.items()}}}
    assert verdict.mutation_check([case], events).passed
    dirty = dict(clean, **{"y_hat@loss": case.array("y_hat") - case.array("y")})
    events = {case.id: {"arrays": {k: pack(v) for k, v in dirty.items()}}}
    check = verdict.mutation_check([case], events)
    assert check.passed is False and check.diagnosis == "input_mutated" and "y_hat" in check.message


@pytest.mark.parametrize("calls, tracked, used", [(0, [], False), (1, [], True), (0, ["dW1"], True)])
def test_autograd_check_fires_on_use_only(calls, tracked, used):
    case = battery.build()[0]
    check = verdict.autograd_check([case], {case.id: {"autograd_calls": calls, "tracked": tracked}})
    assert check.passed is (not used)
    assert (check.diagnosis == "autograd_used") is used


# --- the grading table's pin: an error just above what equivalent formulas move must fail ------------------
@pytest.mark.parametrize("dtype, rel", [("float32", 1e-3), ("float64", 1e-6)])
def test_grading_table_catches_a_small_real_error(dtype, rel, expected):
    """Equivalent formulas move a value by ~1e-6 of its tensor in float32 and ~1e-11 in float64; a real
    bug moves it by far more (eps = 1e-3 in BCE's logs moves J by ~2e-3). One element of dW1 off by `rel`
    must fail: loosening the table's rtol or scale past it lets this pass."""
    case = find("train", "sigmoid", "sigmoid", loss="mse", dtype=dtype)
    a = torch_arrays(case, expected)
    assert judge(case, a, expected).passed  # negative control: torch's own numbers pass
    i = np.unravel_index(np.argmax(np.abs(a["1.dW1"])), a["1.dW1"].shape)
    a["1.dW1"] = a["1.dW1"].copy()
    a["1.dW1"][i] *= 1 + rel
    check = judge(case, a, expected)
    assert check.passed is False and check.quantity == "dW1" and check.step == 1


# --- pattern rules that read across checks ---------------------------------------------------------------
def _probe_of(case):
    return next(c for c in battery.build() if c.twin == case.id)


@pytest.mark.parametrize("probe_bug", [True, False], ids=["probe fails as half_mse", "probe passes"])
def test_graded_failure_no_rule_explains_takes_its_probes_diagnosis(probe_bug, expected):
    case = find("loss", loss="mse", dtype="float32")
    graded = torch_arrays(case, expected)
    graded["J"] = graded["J"] * 1.5  # no rule's shape in float32
    probe = _probe_of(case)
    probed = torch_arrays(probe, expected)
    if probe_bug:
        probed["J"], probed["dJdy_hat"] = probed["J"] / 2, probed["dJdy_hat"] / 2
    checks = [verdict.case_check(c, expected[c.id], {"case": c.id, "arrays": {k: pack(v) for k, v in a.items()}},
                                 "homework", NOISE.get(c.id)) for c, a in ((case, graded), (probe, probed))]
    out = diagnose.diagnose(checks, expected)
    if probe_bug:
        assert out[0].diagnosis == "half_mse" and out[0].evidence.startswith("seen in the float64 probe")
    else:  # negative control: a passing probe lends nothing
        assert out[0].passed is False and out[0].diagnosis is None


def _bce_train_checks(expected, fail_ordinary):
    """NumPy-interface checks (no dJdy_hat) for the BCE train cases: J off by 10% in the confident ones
    (and, if fail_ordinary, in every other BCE case too)."""
    checks = []
    for case in battery.build():
        if case.kind != "train" or case.loss != "bce" or case.section in ("robustness", "probe"):
            continue
        a = {k: v for k, v in torch_arrays(case, expected).items() if not k.endswith("dJdy_hat")}
        if case.why.startswith("confident") or fail_ordinary:
            a = {k: v * 0.9 if k.endswith(".J") else v for k, v in a.items()}
        event = {"case": case.id, "arrays": {k: pack(v) for k, v in a.items()}}
        checks.append(verdict.case_check(case, expected[case.id], event, "numpy", NOISE.get(case.id)))
    return checks


def test_bce_failing_only_on_confident_predictions_is_named_without_dJdy_hat(expected):
    out = diagnose.diagnose(_bce_train_checks(expected, fail_ordinary=False), expected)
    failing = [c for c in out if c.passed is False]
    assert failing and all(c.case.why.startswith("confident") and c.diagnosis == "bce_clamped" for c in failing)


def test_bce_failing_everywhere_is_not_called_a_clamp(expected):
    """Negative control: the ordinary BCE cases fail too, so nothing points at 0 and 1."""
    out = diagnose.diagnose(_bce_train_checks(expected, fail_ordinary=True), expected)
    assert any(c.passed is False for c in out) and not any(c.diagnosis == "bce_clamped" for c in out)
