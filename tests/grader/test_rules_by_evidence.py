"""Each diagnosis rule called directly on evidence built for it, its sentence asserted: a rule that stops
firing is seen even where another rule (or a pattern rule) would still name the same id. And the noise
model pinned on the confident BCE cases: eps 1e-7 passes with room, eps 1e-4 fails by far, in both dtypes.

The planted errors are written here from torch's answers (numpy, float64), not from the rules' own
mutants.
"""
import numpy as np
import pytest

from mlp_ref.packs.dlsp_hw1 import battery, diagnose, oracle, patterns, verdict
from mlp_ref.grader.child import pack
from mlp_ref.packs.dlsp_hw1.evidence import Evidence

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
    names = verdict.ORDER[case.kind]
    return {k: v.copy() for k, v in expected[case.id].items() if k.split(".")[-1] in names}


def check_of(case, arrays, expected, interface="homework"):
    event = {"case": case.id, "arrays": {k: pack(v) for k, v in arrays.items()}, "error": None}
    return verdict.case_check(case, expected[case.id], event, interface, NOISE.get(case.id))


def evidence(case, arrays, expected):
    check = check_of(case, arrays, expected)
    assert check.passed is False, "the planted error must fail the check before a rule can explain it"
    return Evidence(check, expected[case.id])


def with_(case, expected, **planted):
    a = torch_arrays(case, expected)
    a.update({k.replace("_", ".", 1) if k[0].isdigit() else k: v for k, v in planted.items()})
    return a


def t(expected, case, key):
    return expected[case.id][key].astype(np.float64)


# --- per-check rules, each on its own evidence ---------------------------------------------------------
def test_non_finite_names_the_first_nan(expected):
    case = find("train", "relu", "identity")
    dW1 = t(expected, case, "1.dW1").copy()
    dW1[1, 2] = np.nan
    ev = evidence(case, with_(case, expected, **{"1_dW1": dW1}), expected)
    assert diagnose.non_finite(ev) == "dW1 has 1 NaN/inf element(s) where torch is finite, first at (1, 2): nan"


@pytest.mark.parametrize("name", ["dW1", "dW2"])
def test_transposed_names_both_shapes(name, expected):
    case = find("train", "relu", "identity")
    dW = t(expected, case, f"1.{name}")
    ev = evidence(case, with_(case, expected, **{f"1_{name}": dW.T.copy()}), expected)
    assert diagnose.transposed(ev) == f"{name} has shape {dW.T.shape} and equals the transpose of torch's {dW.shape}"


@pytest.mark.parametrize("how, words", [
    ("rows", "db2 has shape (6, 3): one row per sample, never summed over the batch"),
    ("mean", "db2 is 1/6 of torch's: the mean over the batch of N = 6, not the sum"),
    ("one", "db2 equals the gradient of sample 0 alone, not the sum over the batch of 6"),
])
def test_bias_not_summed_each_branch(how, words, expected):
    case = find("train", "relu", "identity")
    dz2 = t(expected, case, "1.dz2")
    db2 = {"rows": dz2, "mean": dz2.sum(0) / 6, "one": dz2[0]}[how]
    ev = evidence(case, with_(case, expected, **{"1_db2": db2.copy()}), expected)
    assert diagnose.bias_not_summed(ev) == words


def test_accumulates_names_the_step(expected):
    case = find("train", "relu", "identity")
    stale = t(expected, case, "1.dW2") + t(expected, case, "2.dW2")
    ev = evidence(case, with_(case, expected, **{"2_dW2": stale}), expected)
    assert ev.step == 2
    assert diagnose.accumulates(ev) == ("dW2 at step 2 equals torch's for this step plus the submission's own "
                                        "from step 1: the old gradient was not cleared")


def test_half_mse_on_the_loss_alone(expected):
    case = find("loss", loss="mse")
    ev = evidence(case, with_(case, expected, J=t(expected, case, "J") / 2), expected)
    assert diagnose.half_mse(ev).startswith("J is exactly 1/2 of torch's")


@pytest.mark.parametrize("loss, formula", [("mse", "+2 (y_hat - y) / (N K)"),
                                           ("bce", "(y_hat - y) / (y_hat (1 - y_hat)) / (N K)")])
def test_wrong_sign_gives_the_loss_formula(loss, formula, expected):
    case = find("loss", loss=loss)
    ev = evidence(case, with_(case, expected, dJdy_hat=-t(expected, case, "dJdy_hat")), expected)
    assert diagnose.wrong_sign(ev) == f"dJdy_hat is exactly -1 times torch's; for {loss.upper()}, dJdy_hat = {formula}"


def test_split_needs_every_gradient_to_agree(expected):
    case = find("train", "sigmoid", "sigmoid")
    ev = evidence(case, with_(case, expected, **{"1_dJdy_hat": t(expected, case, "1.dJdy_hat") * 18}), expected)
    assert diagnose.split(ev) == ("dJdy_hat is 18 times torch's, yet every gradient agrees: backward makes up "
                                  "the factor, so the mean is split between the loss and backward")


def test_split_is_silent_when_one_gradient_is_off_too(expected):
    """Negative control: dJdy_hat off by N K and dW1 off as well is no split (backward did not make up the factor)."""
    case = find("train", "sigmoid", "sigmoid")
    planted = {"1_dJdy_hat": t(expected, case, "1.dJdy_hat") * 18, "1_dW1": t(expected, case, "1.dW1") * 1.5}
    ev = evidence(case, with_(case, expected, **planted), expected)
    assert ev.name == "dJdy_hat" and diagnose.split(ev) is None


def test_not_mean_reduced_names_the_factor(expected):
    case = find("loss", loss="mse")
    ev = evidence(case, with_(case, expected, J=t(expected, case, "J") * 6), expected)
    assert diagnose.not_mean_reduced(ev) == ("J is 6 times torch's (N = 6, K = 3): off by N = 6: divided by K "
                                             "only, not N K = 18")


def _bce(y_hat, y, clamp=0.0, fused_eps=None, eps=0.0):
    p = np.clip(y_hat, clamp, 1 - clamp) if clamp else y_hat
    if fused_eps is not None:
        return (p - y) / (p * (1 - p) + fused_eps) / y.size
    return (-y / (p + eps) + (1 - y) / (1 - p + eps)) / y.size


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bce_clamped_near_0_or_1_branch(dtype, expected):
    """A clamp at 1e-3 moves dJdy_hat only where y_hat is within 1e-3 of the edge: the first branch's sentence."""
    case = find("loss", loss="bce", why="confident", dtype=dtype)
    y_hat, y = case.array("y_hat").astype(np.float64), case.array("y").astype(np.float64)
    ev = evidence(case, with_(case, expected, dJdy_hat=_bce(y_hat, y, clamp=1e-3).astype(dtype)), expected)
    words = diagnose.bce_clamped(ev)
    assert words is not None and words.startswith("dJdy_hat differs from torch's only where y_hat is within 0.01 "
                                                  "of 0 or 1"), words


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bce_clamped_growing_error_branch(dtype, expected):
    case = find("loss", loss="bce", why="confident", dtype=dtype)
    y_hat, y = case.array("y_hat").astype(np.float64), case.array("y").astype(np.float64)
    # eps 1e-6 alone passes (a few 1e-6 is inside the allowance): J made wrong too fails the check.
    planted = dict(J=t(expected, case, "J").astype(dtype) * 1.5, dJdy_hat=_bce(y_hat, y, fused_eps=1e-6).astype(dtype))
    ev = evidence(case, with_(case, expected, **planted), expected)
    assert diagnose.bce_clamped(ev) == ("dJdy_hat's relative error grows as 1 / (y_hat (1 - y_hat)), as an eps "
                                        "of about 1e-06 added near 0/1 gives")


def test_bce_clamped_silent_on_an_error_everywhere(expected):
    """Negative control: dJdy_hat off by 10% at every element is no clamp."""
    case = find("loss", loss="bce", why="confident", dtype="float64")
    ev = evidence(case, with_(case, expected, dJdy_hat=t(expected, case, "dJdy_hat") * 1.1), expected)
    assert diagnose.bce_clamped(ev) is None


def _hand(case, expected, dact=None, chain_from_dy=False, act_product=np.multiply):
    e = {k.split(".", 1)[1]: v.astype(np.float64) for k, v in expected[case.id].items() if k.startswith("1.")}
    right = {"relu": lambda z, o: (z > 0) * 1.0, "sigmoid": lambda z, o: o * (1 - o),
             "identity": lambda z, o: np.ones_like(z)}
    d = dact or (lambda name, z, o: right[name](z, o))
    dy = case.array("dJdy_hat").astype(np.float64) if case.kind == "backward" else e["dJdy_hat"]
    dz2 = dy * d(case.g, e["z2"], e["y_hat"])
    dz1 = act_product((dy if chain_from_dy else dz2) @ e["W2"], d(case.f, e["z1"], e["h"]))
    return {"1.dW2": dz2.T @ e["h"], "1.db2": dz2.sum(0), "1.dW1": dz1.T @ case.array("x").astype(np.float64),
            "1.db1": dz1.sum(0)}


def _sig(z):
    return 1 / (1 + np.exp(-z))


@pytest.mark.parametrize("rule, f, g, plant, words", [
    ("relu_derivative_at_zero", "relu", "identity", dict(dact=lambda n, z, o: (z >= 0) * 1.0 if n == "relu" else 1 + 0 * z),
     "matches a hand backprop with ReLU'(0) = 1 in the hidden layer"),
    ("derivative_at_wrong_point", "sigmoid", "relu",
     dict(dact=lambda n, z, o: _sig(o) * (1 - _sig(o)) if n == "sigmoid" else (z > 0) * 1.0),
     "matches a hand backprop with sigmoid' evaluated at the output: sigmoid(out) (1 - sigmoid(out)) in the hidden layer"),
    ("activation_derivative_skipped", "relu", "sigmoid", dict(chain_from_dy=True),
     "matches a hand backprop with g' left out of what the output layer hands back"),
])
def test_mutant_rules_on_their_own_evidence(rule, f, g, plant, words, expected):
    case = find("backward", f, g) if rule != "relu_derivative_at_zero" else find("train", "relu", "identity", why="zero-preactivation")
    hand = _hand(case, expected, **plant)
    ev = evidence(case, {**torch_arrays(case, expected), **hand}, expected)
    rules = {r.id: r.evidence for r in diagnose.RULES}
    found = rules[rule](ev)
    assert found is not None and words in found, found


def test_matmul_for_elementwise_on_its_own_evidence(expected):
    """dh = dz2 * W2 (elementwise) where K = H: the square case, where the wrong product still runs."""
    case = find("train", "sigmoid", "identity", n=4, k=4, why="square")
    e = {k.split(".", 1)[1]: v.astype(np.float64) for k, v in expected[case.id].items() if k.startswith("1.")}
    dz2 = e["dJdy_hat"]
    dz1 = (dz2 * e["W2"]) * e["h"] * (1 - e["h"])
    hand = {"1.dW1": dz1.T @ case.array("x").astype(np.float64), "1.db1": dz1.sum(0)}
    ev = evidence(case, {**torch_arrays(case, expected), **hand}, expected)
    found = {r.id: r.evidence for r in diagnose.RULES}["matmul_for_elementwise"](ev)
    assert found is not None and "dh = dz2 * W2 instead of dz2 @ W2" in found, found


# --- pattern rules, called on the checks they read -----------------------------------------------------
def test_bce_only_when_confident_pattern_names_the_confident_cases(expected):
    cases = [c for c in battery.build() if c.kind == "loss" and c.loss == "bce" and c.dtype == "float32"
             and c.section != "robustness"]
    checks = []
    for case in cases:
        a = torch_arrays(case, expected)
        if case.why.startswith("confident"):
            a["J"] = a["J"] * 0.9
        checks.append(check_of(case, a, expected))
    found = patterns._bce_only_when_confident(checks)
    assert found and all(rid == "bce_clamped" and words == "the BCE cases with y_hat within 1e-3 of 0 or 1 fail and "
                         "the rest pass" for _, rid, words in found)
    assert {checks[i].case.why[:9] for i, _, _ in found} == {"confident"}


# --- the noise model on the confident BCE cases ----------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("eps, passes", [(1e-7, True), (1e-4, False)])
def test_noise_model_on_confident_bce(eps, passes, dtype, expected):
    """eps 1e-7 in BCE's logs and denominators is a legitimate formula: <= 0.1 of the allowance; eps 1e-4 is a
    real error there: >= 10x. A noise factor 10x looser lets 1e-4 in under 10x; 10x tighter puts 1e-7 past 0.1."""
    case = find("loss", loss="bce", why="confident", dtype=dtype)
    y_hat, y = case.array("y_hat").astype(np.float64), case.array("y").astype(np.float64)
    p = y_hat
    J = -np.mean(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))
    check = check_of(case, {"J": np.asarray(J, dtype), "dJdy_hat": _bce(y_hat, y, eps=eps).astype(dtype)}, expected)
    if passes:
        assert check.passed and check.headroom <= 0.1, check.headroom
    else:
        assert check.passed is False and check.headroom >= 10, check.headroom


def _base(expected, *args, **kwargs):
    case = find(*args, **kwargs)
    return check_of(case, torch_arrays(case, expected), expected)


def test_relabel_matmul_crashes_pattern(expected):
    from dataclasses import replace
    named = replace(_base(expected, "train", "sigmoid", "identity", dtype="float32"), passed=False,
                    diagnosis="matmul_for_elementwise")
    crash = "mat1 and mat2 shapes cannot be multiplied (6x3 and 4x3)"
    crashed = replace(_base(expected, "backward", "relu", "relu", dtype="float32"), passed=False,
                      error={"stage": "backward", "message": crash})
    assert patterns._relabel_matmul_crashes([named, crashed]) == [
        (1, "matmul_for_elementwise", "the same bug crashes here, where the sizes differ: " + crash)]
    # Negative control: with no matmul_for_elementwise elsewhere, a crash is only a crash.
    assert patterns._relabel_matmul_crashes([replace(named, diagnosis=None), crashed]) == []


def test_relabel_split_pattern(expected):
    from dataclasses import replace
    split = replace(_base(expected, "train", "sigmoid", "sigmoid", dtype="float32"), passed=False,
                    diagnosis="split_mean_reduction")
    loss = replace(_base(expected, "loss", loss="mse", dtype="float32"), passed=False, diagnosis="not_mean_reduced",
                   evidence="J is 18 times torch's (N = 6, K = 3): not divided at all")
    assert patterns._relabel_split([split, loss]) == [
        (1, "split_mean_reduction", "J is 18 times torch's (N = 6, K = 3) here, while end to end every gradient "
                                    "agrees with torch's: the factor is undone in the other half")]
    assert patterns._relabel_split([replace(split, diagnosis=None), loss]) == []
