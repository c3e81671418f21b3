"""The oracle (torch) and the reference (mlp_ref.functional with the course's conventions) agree on
every case; a planted mistake in either is caught; no mutant a diagnosis is built on equals the truth;
the verdict comes from the grader's oracle, never from the child."""
import numpy as np
import pytest

from mlp_ref.packs.cs231n_a2 import bugs, cases, grade, oracle
from mlp_ref.packs.cs231n_a2 import reference as R
from mlp_ref.packs.cs231n_a2.variants import VARIANTS
from mlp_ref.tolerances import GRADING

from .conftest import HERE, LIMITS

VARIANT = VARIANTS["2021"]
CASES = [c for c in cases.build(0, VARIANT) if c.group in oracle.ANSWERS]
CORRECT = HERE / "packages" / "student2021"


def reference_outputs(case):
    """The reference's outputs for a case, under the oracle's keys."""
    i, g = case.inputs, case.group
    if g == "affine":
        out, cache = R.affine_forward(i["x"], i["w"], i["b"])
        dx, dw, db = R.affine_backward(i["dout"], cache)
        return {"out@affine_forward": out, "dx@affine_backward": dx, "dw@affine_backward": dw, "db@affine_backward": db}
    if g == "relu":
        out, cache = R.relu_forward(i["x"])
        return {"out@relu_forward": out, "dx@relu_backward": R.relu_backward(i["dout"], cache)}
    if g in ("softmax_loss", "svm_loss"):
        loss, dx = getattr(R, g)(i["x"], i["y"])
        return {f"loss@{g}": loss, f"dx@{g}": dx}
    if g in ("batchnorm", "layernorm"):
        param = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in i[g[0] + "n_param"].items()} \
            if g == "batchnorm" else dict(i["ln_param"])
        out, cache = getattr(R, f"{g}_forward")(i["x"], i["gamma"], i["beta"], param)
        got = {f"out@{g}_forward": out}
        if g == "batchnorm":
            got.update({f"{k}@batchnorm_forward": param[k] for k in ("running_mean", "running_var")})
            if param["mode"] == "test":
                return got
        for unit in case.units[1:]:
            dx, dgamma, dbeta = getattr(R, unit)(i["dout"], cache)
            got.update({f"dx@{unit}": dx, f"dgamma@{unit}": dgamma, f"dbeta@{unit}": dbeta})
        return got
    config = None if i["config"] is None else {k: (v.copy() if isinstance(v, np.ndarray) else v)
                                               for k, v in i["config"].items()}
    next_w, config = getattr(R, g)(i["w"].copy(), i["dw"], config)
    return {f"next_w@{g}": next_w, **{f"{k}@{g}": config[k] for k in ("velocity", "cache", "m", "v", "t") if k in config}}


def disagreements(answer, noise, outputs):
    """The keys on which the outputs leave the grading tolerance around the answer."""
    tol = GRADING["float64"]
    bad = []
    for key, value in outputs.items():
        expected = np.asarray(answer[key], np.float64)
        value = np.asarray(value, np.float64)
        if value.shape != expected.shape or not np.all(np.abs(value - expected) <= tol.allowed(expected, noise.get(key))):
            bad.append(key)
    return bad


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_the_reference_agrees_with_torch_on_every_case(case):
    answer, noise = oracle.answers(case)
    outputs = reference_outputs(case)
    assert set(outputs) <= set(answer)
    assert disagreements(answer, noise, outputs) == []


def test_a_planted_mistake_in_the_oracle_is_caught(monkeypatch):
    """Negative control: an oracle whose affine dw is transposed and whose softmax loss sums over N."""
    def wrong_affine(case):
        ans = oracle.affine(case)
        ans["dw@affine_backward"] = ans["dw@affine_backward"] * 1.001
        return ans

    def wrong_softmax(case):
        ans = oracle.softmax_loss(case)
        ans["loss@softmax_loss"] = ans["loss@softmax_loss"] * case.inputs["x"].shape[0]
        return ans
    monkeypatch.setitem(oracle.ANSWERS, "affine", wrong_affine)
    monkeypatch.setitem(oracle.ANSWERS, "softmax_loss", wrong_softmax)
    for case in CASES:
        if case.group in ("affine", "softmax_loss"):
            answer, noise = oracle.answers(case)
            assert disagreements(answer, noise, reference_outputs(case)), case.id


def test_the_verdict_is_the_oracles(monkeypatch):
    """The same correct package fails exactly the units whose torch answer was planted wrong."""
    def wrong_relu(case):
        ans = oracle.relu(case)
        ans["dx@relu_backward"] = ans["dx@relu_backward"] + 1e-6
        return ans
    monkeypatch.setitem(oracle.ANSWERS, "relu", wrong_relu)
    grade._fixed.cache_clear()
    try:
        report = grade.grade(CORRECT, limits=LIMITS, from_parent=False)
    finally:
        grade._fixed.cache_clear()
    failing = {u.name for u in report.units if u.status != "pass"}
    assert failing == {"relu_backward"}


# Where a mistake cannot show by construction, and which case shows it instead.
COINCIDE = {("affine/1", "db_not_summed/mean"): "a batch of one: the mean over N is the sum (affine/0 shows it)",
            ("adam/defaults", "adam_bias_correction_no_power"): "Adam's first step: beta ** 1 = beta (adam/given "
                                                                "at t = 5 shows it)"}


@pytest.mark.parametrize("case", [c for c in CASES if c.group in bugs.MUTANTS], ids=lambda c: c.id)
def test_no_mutant_equals_the_truth(case):
    """A diagnosis can never be given to a correct answer: each mutant leaves the tolerance on some key."""
    answer, _ = oracle.answers(case)
    for bug, outputs in bugs.MUTANTS[case.group](case).items():
        if (case.id, bug) in COINCIDE:
            continue
        assert not all(bugs.matches(np.asarray(answer[k], np.float64), v) for k, v in outputs.items()), bug


def test_the_model_oracle_matches_the_reference_layers_composed():
    """FullyConnectedNet's torch answer against the reference layers composed by hand, with L2 (float64)."""
    case = next(c for c in cases.build(0, VARIANT) if c.id == "model/reg")
    i, p = case.inputs, case.inputs["params"]
    h, caches = i["X"], []
    for layer in (1, 2):
        h, c1 = R.affine_forward(h, p[f"W{layer}"], p[f"b{layer}"])
        h, c2 = R.relu_forward(h)
        caches.append((c1, c2))
    scores, c3 = R.affine_forward(h, p["W3"], p["b3"])
    loss, dscores = R.softmax_loss(scores, i["y"])
    loss += R.l2(i["reg"], [p["W1"], p["W2"], p["W3"]])
    dh, dW3, _ = R.affine_backward(dscores, c3)
    dW1 = None
    for layer in (2, 1):
        c1, c2 = caches[layer - 1]
        dh, dW, _ = R.affine_backward(R.relu_backward(dh, c2), c1)
        dW1 = dW
    answer = oracle.model(case, layers=2)
    assert abs(answer["loss"] - loss) <= GRADING["float64"].allowed(np.float64(loss))
    assert np.allclose(answer["grad.W3"], dW3 + i["reg"] * p["W3"], rtol=1e-9, atol=1e-12)
    assert np.allclose(answer["grad.W1"], dW1 + i["reg"] * p["W1"], rtol=1e-9, atol=1e-12)
    assert not np.allclose(answer["grad.W1"], dW1, rtol=1e-9, atol=1e-12)  # the L2 term is in it
