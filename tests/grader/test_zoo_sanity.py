"""The bug zoo is honest: correct submissions match torch, each bug is real, small and what it says.

Runs without the grader, on a small battery modelled on the grader's: every f x g, mse and bce,
batch 1 and batch > 1, pre-activations exactly 0, the loss alone, backward alone with a known
upstream gradient, a second step after an SGD update and clear_grad_and_cache, inputs checked for
mutation, and backward run with torch's grad mode off (autograd then has no graph to walk).
Only non-hostile submissions are imported here, by file path; hostile and broken ones are only parsed.
"""
import ast
import difflib
import importlib.util
import itertools
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mlp_ref import MLP as ReferenceMLP
from mlp_ref.packs.dlsp_hw1.diagnose import WORDS
from mlp_ref.tolerances import tolerance
from mlp_ref.twin import TorchTwin
from zoo import manifest

ZOO = Path(__file__).parent / "zoo"
D, H, K = 5, 7, 3   # non-square, so a transposed gradient cannot pass
LR = 0.1
# The grader's vocabulary, written out here apart from mlp_ref.grader: a renamed id fails this test.
DIAGNOSES = ("transposed_gradient", "bias_not_summed", "not_mean_reduced", "half_mse", "split_mean_reduction",
             "matmul_for_elementwise", "missing_activation_branch", "wrong_sign", "derivative_at_wrong_point",
             "relu_derivative_at_zero", "gradients_accumulate", "input_mutated", "autograd_used", "non_finite",
             "bce_clamped", "activation_derivative_skipped")
OUTCOMES = ("timeout", "crashed", "exited", "memory_limit", "import_error", "output_flood")


def load(name):
    """Import tests/grader/zoo/<name> by path under a private module name (never put in sys.modules)."""
    spec = importlib.util.spec_from_file_location(f"zoo_{Path(name).stem}", ZOO / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MANIFEST = manifest
EXPECTED = MANIFEST.EXPECTED
PASSING_HOMEWORK = sorted(n for n, e in EXPECTED.items() if e["passed"] and n != "correct_numpy.py")
BUGGY = sorted(n for n in EXPECTED if n.startswith("bug_"))
BUGGY_HOMEWORK = [n for n in BUGGY if MANIFEST.BASE[n] != "correct_numpy.py"]


# --- the battery ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    f: str
    g: str
    loss: str
    batch: int = 4
    kink: bool = False   # hidden unit 0 and output unit 0 have pre-activation exactly 0
    confident: bool = False  # outputs 0 and 1 have z2 near +-8: y_hat within 1e-3 of 1 and of 0

    def __str__(self):
        return (f"{self.f}/{self.g}/{self.loss} N={self.batch}{' kink' if self.kink else ''}"
                f"{' confident' if self.confident else ''}")


ACTS = ("relu", "sigmoid", "identity")
# bce needs y_hat in (0, 1), so it runs on sigmoid outputs only.
COMBOS = [(f, g, "mse") for f, g in itertools.product(ACTS, ACTS)] + [(f, "sigmoid", "bce") for f in ACTS]
CASES = ([Case(*c) for c in COMBOS]
         + [Case(f, g, loss, batch=1) for f, g, loss in (("relu", "identity", "mse"), ("identity", "relu", "mse"),
                                                         ("sigmoid", "sigmoid", "bce"), ("relu", "sigmoid", "mse"))]
         + [Case(f, g, "mse", kink=True) for f, g in (("relu", "relu"), ("relu", "identity"))]
         + [Case("relu", "sigmoid", "bce", confident=True)])
CHECKS = ("forward", "loss_alone", "end_to_end", "backward_alone", "second_step", "inputs_unchanged",
          "grad_mode_off")


def case_data(case):
    """params, x, y and a known upstream gradient G, in float64."""
    gen = torch.Generator().manual_seed(0)
    rand = lambda *shape: torch.rand(*shape, generator=gen, dtype=torch.float64) * 2 - 1  # noqa: E731
    params = {"W1": rand(H, D), "b1": rand(H), "W2": rand(K, H), "b2": rand(K)}
    if case.kink:
        for W, b in (("W1", "b1"), ("W2", "b2")):
            params[W][0], params[b][0] = 0, 0
    if case.confident:
        params["W2"] = params["W2"] * 0.05
        params["b2"] = torch.tensor([8.0, -8.0, 0.0], dtype=torch.float64)
    x = torch.randn(case.batch, D, generator=gen, dtype=torch.float64)
    if case.loss == "bce":
        y = (torch.rand(case.batch, K, generator=gen, dtype=torch.float64) > 0.5).to(torch.float64)
        if case.confident:  # one confidently right and one confidently wrong label per confident output
            y[:2, 0], y[:2, 1] = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    else:
        y = torch.randn(case.batch, K, generator=gen, dtype=torch.float64)
    return params, x, y, torch.randn(case.batch, K, generator=gen, dtype=torch.float64)


def torch_run(case, params, x, y, G):
    """torch autograd's y_hat, J, dJ/dy_hat, grads end to end, and grads of backward alone given G,
    from the project's one torch side (the twin), mean-reduced as the homework's losses."""
    net = ReferenceMLP(D, H, K, f=case.f, g=case.g, loss=case.loss, reduction="mean",
                       dtype=str(x.dtype).replace("torch.", ""))
    net.set_params({k: v.numpy() for k, v in params.items()})
    twin = TorchTwin(net)
    y_hat = twin.forward(x)
    J = twin.loss(y_hat, y)
    dy_hat = twin.backward()["dy_hat"]
    grads = {f"dJd{n}": torch.from_numpy(d) for n, d in twin.grads().items()}
    twin.zero_grad()
    twin.forward(x)
    twin.backward(G)
    alone = {f"dJd{n}": torch.from_numpy(d) for n, d in twin.grads().items()}
    return dict(y_hat=y_hat.detach(), J=J.detach(), dy_hat=dy_hat.detach(), grads=grads, alone=alone)


@lru_cache(maxsize=None)
def reference(case, dtype):
    """Inputs and torch's answers for two steps of a case, in one dtype."""
    params, x, y, G = case_data(case)
    params = {k: v.to(dtype) for k, v in params.items()}
    x, y, G = x.to(dtype), y.to(dtype), G.to(dtype)
    first = torch_run(case, params, x, y, G)
    # Step 2 starts from torch's SGD update, so an error in step 1 does not leak into step 2.
    params2 = {k: v - LR * first["grads"][f"dJd{k}"] for k, v in params.items()}
    return params, params2, x, y, G, first, torch_run(case, params2, x, y, G)


# The zoo's claims are about which checks fail, not the last digits: an equivalent formula moves a value
# by ~1e-8 of its tensor's scale in float64 (eps 1e-12 in BCE on a confident output), ~1e-6 in float32;
# every bug here moves it by >= 1e-2. Independent of the grader's tolerance, which tests/grader/test_grader_zoo
# pins with these same files.
ZOO_RTOL = {torch.float64: 1e-7, torch.float32: 1e-4}


def mismatch(name, actual, expected, rtol=None):
    """None when actual matches expected to rtol (default ZOO_RTOL) of |expected| + its tensor's max |expected|,
    else why."""
    if isinstance(actual, float) and name == "J":
        actual = torch.tensor(actual, dtype=expected.dtype)
    if not isinstance(actual, torch.Tensor):
        return f"{name}: expected a tensor, got {type(actual).__name__}"
    if actual.shape != expected.shape or actual.dtype != expected.dtype:
        return f"{name}: {tuple(actual.shape)} {actual.dtype}, torch {tuple(expected.shape)} {expected.dtype}"
    rtol = rtol or ZOO_RTOL[expected.dtype]
    err = (actual - expected).abs()
    # NaN compares False, so a non-finite value never passes.
    if bool((err <= rtol * (expected.abs() + expected.abs().max())).all()):
        return None
    if not torch.isfinite(actual).all():
        return f"{name}: not finite"
    return f"{name}: worst |submission - torch| = {err.max().item():.3g}"


def first_mismatch(pairs, rtol=None):
    return next((m for m in (mismatch(*p, rtol=rtol) for p in pairs) if m), None)


def new_net(module, case, params):
    net = module.MLP(linear_1_in_features=D, linear_1_out_features=H, f_function=case.f,
                     linear_2_in_features=H, linear_2_out_features=K, g_function=case.g)
    for k, v in params.items():
        net.parameters[k] = v.clone()
    net.clear_grad_and_cache()
    return net


def battery(module, case, dtype, rtol=None):
    """{check: failure message or None} for one case in one dtype (rtol: ZOO_RTOL's, unless the manifest
    gives the file its own); a raised exception fails its check."""
    params, params2, x, y, G, want, want2 = reference(case, dtype)
    loss_fn = module.mse_loss if case.loss == "mse" else module.bce_loss

    def grads_of(net, answer):
        return first_mismatch([(k, net.grads[k], v) for k, v in answer.items()], rtol)

    def forward():
        return mismatch("y_hat", new_net(module, case, params).forward(x.clone()), want["y_hat"], rtol)

    def loss_alone():
        J, dy_hat = loss_fn(y.clone(), want["y_hat"].clone())
        return first_mismatch([("J", J, want["J"]), ("dJdy_hat", dy_hat, want["dy_hat"])], rtol)

    def end_to_end(grad_mode=True):
        net = new_net(module, case, params)
        with torch.set_grad_enabled(grad_mode):
            net.backward(loss_fn(y.clone(), net.forward(x.clone()))[1])
        return grads_of(net, want["grads"])

    def backward_alone():
        net = new_net(module, case, params)
        net.forward(x.clone())
        net.backward(G.clone())
        return grads_of(net, want["alone"])

    def second_step():
        net = new_net(module, case, params)
        for p in (params, params2):
            for k, v in p.items():
                net.parameters[k] = v.clone()
            net.clear_grad_and_cache()
            net.backward(loss_fn(y.clone(), net.forward(x.clone()))[1])
        return grads_of(net, want2["grads"])

    def inputs_unchanged():
        net = new_net(module, case, params)
        xs, ys = x.clone(), y.clone()
        y_hat = net.forward(xs)
        y_hat_seen = y_hat.clone()
        dy_hat = loss_fn(ys, y_hat)[1]
        dy_seen = dy_hat.clone()
        net.backward(dy_hat)
        changed = [n for n, now, before in (("x", xs, x), ("y", ys, y), ("y_hat", y_hat, y_hat_seen),
                                             ("dJdy_hat", dy_hat, dy_seen)) if not torch.equal(now, before)]
        return f"modified in place: {', '.join(changed)}" if changed else None

    results = {}
    for name, body in (("forward", forward), ("loss_alone", loss_alone), ("end_to_end", end_to_end),
                       ("backward_alone", backward_alone), ("second_step", second_step),
                       ("inputs_unchanged", inputs_unchanged),
                       ("grad_mode_off", lambda: end_to_end(grad_mode=False))):
        try:
            results[name] = body()
        except Exception as exc:
            results[name] = f"{name}: raised {type(exc).__name__}: {exc}"
    return results


@lru_cache(maxsize=None)
def failures(name, dtype=torch.float64):
    """{case: {check: message}} for every check the submission fails."""
    module = load(name)
    out = {}
    for case in CASES:
        rtol = MANIFEST.ZOO_RTOL_OWN.get(name, {}).get(str(dtype).replace("torch.", ""))
        failed = {k: v for k, v in battery(module, case, dtype, rtol).items() if v}
        if failed:
            out[case] = failed
    return out


# --- the manifest --------------------------------------------------------------------------------
def test_manifest_lists_every_zoo_file_once_with_a_reason():
    files = {p.name for p in ZOO.glob("*.py")} - {"manifest.py"}
    assert set(EXPECTED) == files
    assert set(MANIFEST.WHY) == files
    assert set(MANIFEST.BASE) == set(BUGGY)


def test_manifest_uses_only_the_contract_vocabulary_and_covers_every_diagnosis():
    for verdicts in (EXPECTED, MANIFEST.EXPECTED_STRICT):
        for name, e in verdicts.items():
            assert e in ({"passed": True}, {"passed": False, "diagnosis": e.get("diagnosis")},
                         {"passed": False, "contained": e.get("contained")},
                         {"passed": False, "unwritten": e.get("unwritten")},
                         {"passed": False, "float64": False}), name
            assert e.get("diagnosis", DIAGNOSES[0]) in DIAGNOSES, name
            assert e.get("contained", OUTCOMES[0]) in OUTCOMES, name
    assert {EXPECTED[n]["diagnosis"] for n in BUGGY_HOMEWORK} == set(DIAGNOSES) == set(WORDS)
    assert len([n for n in EXPECTED if n.startswith("correct_")]) >= 12


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_submission_says_what_it_is_in_its_docstring_first_line(name):
    # Read as text, not parsed: broken_syntax.py does not parse.
    first = (ZOO / name).read_text().splitlines()[0]
    prefix = {"correct": "Correct:", "bug": "Bug:", "fragile": "Fragile:", "hostile": "Hostile:",
              "broken": "Broken:", "neither": "Neither interface:"}[name.split("_")[0]]
    assert first.startswith('"""' + prefix) and len(first) > len(prefix) + 20


# --- correct submissions -------------------------------------------------------------------------
# float32 is the assignment's dtype; files written for it alone (FLOAT64_LINES) are checked in float64 below.
@pytest.mark.parametrize("name, dtype", [(n, dt) for n in PASSING_HOMEWORK for dt in (torch.float32, torch.float64)
                                         if dt == torch.float32 or n not in MANIFEST.FLOAT64_LINES], ids=str)
def test_correct_homework_submission_matches_torch_autograd(name, dtype):
    assert failures(name, dtype) == {}


@pytest.mark.parametrize("name", sorted(MANIFEST.FLOAT64_LINES))
def test_float32_only_submission_fails_in_float64_at_its_line(name):
    """The probe's claim, checked here without the grader: float64 breaks it, at the line the manifest names."""
    line, call = MANIFEST.FLOAT64_LINES[name]
    assert call in (ZOO / name).read_text().splitlines()[line - 1]
    assert failures(name, torch.float64), f"{name} runs in float64: the manifest's line is not what breaks it"


# --- buggy submissions: real, and failing exactly where the diagnosis says -----------------------
GRADS = {"end_to_end", "backward_alone", "second_step", "grad_mode_off"}
LOSS = {"loss_alone", "end_to_end", "grad_mode_off"}
BACKWARD_CRASH = GRADS | {"inputs_unchanged"}
ALL, MSE = (lambda c: True), (lambda c: c.loss == "mse")
# name: (the cases that fail, the checks that fail in each of them, checks that may also fail there).
# Every other case passes every check. "may": after the SGD step a ReLU output can be dead for the whole
# batch, and a gradient that is exactly 0 cannot show a wrong scale.
WHERE = {
    "bug_transposed_gradient.py": (ALL, GRADS, set()),
    "bug_bias_not_summed.py": (lambda c: c.batch > 1, GRADS, set()),
    "bug_bias_not_summed_mean.py": (lambda c: c.batch > 1, GRADS, set()),
    "bug_not_mean_reduced.py": (MSE, LOSS, {"second_step"}),
    "bug_not_mean_reduced_batch.py": (ALL, LOSS, {"second_step"}),
    "bug_half_mse.py": (MSE, LOSS, {"second_step"}),
    "bug_split_mean_reduction.py": (ALL, {"loss_alone", "backward_alone"}, set()),
    "bug_matmul_for_elementwise.py": (ALL, BACKWARD_CRASH, set()),
    "bug_missing_activation_branch.py": (lambda c: "sigmoid" in (c.f, c.g), BACKWARD_CRASH, set()),
    "bug_wrong_sign.py": (MSE, LOSS, {"second_step"}),
    "bug_derivative_at_wrong_point.py": (lambda c: c.f == "sigmoid", GRADS, set()),
    "bug_derivative_at_wrong_point_reverse.py": (lambda c: c.g == "sigmoid", GRADS, set()),
    "bug_relu_derivative_at_zero.py": (lambda c: c.kink, GRADS, set()),
    "bug_gradients_accumulate.py": (ALL, {"second_step"}, set()),
    "bug_input_mutated.py": (MSE, {"inputs_unchanged"}, set()),
    "bug_autograd_used.py": (ALL, {"grad_mode_off"}, set()),
    "bug_autograd_used_backward.py": (ALL, {"grad_mode_off"}, set()),
    "bug_non_finite.py": (lambda c: c.kink, GRADS, set()),
    "bug_sigmoid_derivative_output_layer.py": (lambda c: c.g == "sigmoid", GRADS, set()),
    "bug_mse_grad_batch_only.py": (MSE, LOSS, {"second_step"}),
    "bug_bias_averaged_hidden.py": (lambda c: c.batch > 1, GRADS, set()),
    "bug_bce_clamped.py": (lambda c: c.confident, LOSS | {"second_step"}, set()),
    "bug_x_mutated_in_backward.py": (ALL, {"inputs_unchanged"}, set()),
    "bug_relu_heaviside_one.py": (lambda c: c.kink, GRADS, set()),
    "bug_wrong_sign_bce.py": (lambda c: c.loss == "bce", LOSS, {"second_step"}),
    "bug_activation_derivative_skipped.py": (lambda c: c.g != "identity", GRADS, set()),
}


def test_every_buggy_homework_submission_has_a_where_claim():
    assert set(WHERE) == set(BUGGY_HOMEWORK)
    assert len(BUGGY_HOMEWORK) >= 20


@pytest.mark.parametrize("name", BUGGY_HOMEWORK)
def test_buggy_submission_fails_exactly_where_its_bug_says(name):
    in_case, must, may = WHERE[name]
    got = {case: set(failed) for case, failed in failures(name).items()}
    assert got, f"{name} passes every case: the bug is not real"
    assert set(got) == {case for case in CASES if in_case(case)}
    for case, failed in got.items():
        assert must <= failed <= must | may, f"{case}: {failures(name)[case]}"


@pytest.mark.parametrize("name", BUGGY)
def test_buggy_submission_is_a_small_edit_of_its_correct_base(name):
    assert changed_lines(name, MANIFEST.BASE[name]) <= 10


def test_two_different_correct_submissions_are_not_a_small_edit_apart():
    # Negative control for the diff check above: it can fail.
    assert changed_lines("correct_loops.py", "correct_vectorised.py") > 10


def code_lines(name):
    """The file's lines after its module docstring."""
    text = (ZOO / name).read_text()
    return text.splitlines()[ast.parse(text).body[0].end_lineno:]


def changed_lines(a, b):
    """Lines of b that a replaces, deletes or adds to (a replaced block counts its longer side)."""
    ops = difflib.SequenceMatcher(None, code_lines(b), code_lines(a), autojunk=False).get_opcodes()
    return sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in ops if tag != "equal")


# --- the shape of each scale bug: an exact factor, the number a diagnosis keys on ---------------
def loss_pieces(name, case):
    """(submission's J, dJdy_hat), (torch's J, dJdy_hat) for the loss alone, float64."""
    _, _, _, y, _, want, _ = reference(case, torch.float64)
    module = load(name)
    fn = module.mse_loss if case.loss == "mse" else module.bce_loss
    return fn(y.clone(), want["y_hat"].clone()), (want["J"], want["dy_hat"])


N, NK = 4, 4 * K


@pytest.mark.parametrize("name, J_factor, dy_factor", [
    ("bug_not_mean_reduced.py", 1, NK),
    ("bug_not_mean_reduced_batch.py", K, K),
    ("bug_half_mse.py", 0.5, 0.5),
    ("bug_wrong_sign.py", 1, -1),
    ("bug_split_mean_reduction.py", 1, NK),
])
def test_loss_bug_is_an_exact_factor_of_torch(name, J_factor, dy_factor):
    (J, dy_hat), (want_J, want_dy) = loss_pieces(name, Case("relu", "identity", "mse"))
    assert mismatch("J", J, J_factor * want_J) is None
    assert mismatch("dJdy_hat", dy_hat, dy_factor * want_dy) is None


def backward_alone_grads(name, case):
    params, _, x, _, G, want, _ = reference(case, torch.float64)
    net = new_net(load(name), case, params)
    net.forward(x.clone())
    net.backward(G.clone())
    return net.grads, want["alone"]


def test_transposed_gradient_is_the_transpose_of_torchs():
    grads, want = backward_alone_grads("bug_transposed_gradient.py", Case("relu", "identity", "mse"))
    assert mismatch("dJdW1.T", grads["dJdW1"].T, want["dJdW1"]) is None


def test_mean_instead_of_sum_bias_gradient_is_one_over_n_of_torchs():
    grads, want = backward_alone_grads("bug_bias_not_summed_mean.py", Case("relu", "identity", "mse"))
    assert mismatch("dJdb2", grads["dJdb2"], want["dJdb2"] / N) is None


def test_split_mean_reduction_backward_alone_is_one_over_nk_of_torchs():
    grads, want = backward_alone_grads("bug_split_mean_reduction.py", Case("relu", "identity", "mse"))
    for k in want:
        assert mismatch(k, grads[k], want[k] / NK) is None


# --- robustness: what --strict fails ---------------------------------------------------------------
def test_fragile_sigmoid_overflows_to_nan_where_torch_stays_finite():
    z = torch.tensor([100.0], dtype=torch.float32)
    assert torch.isnan(load("fragile_exp_overflow.py").activate("sigmoid", z)).all()
    assert torch.isfinite(torch.sigmoid(z)).all()
    assert MANIFEST.EXPECTED_STRICT["fragile_exp_overflow.py"]["diagnosis"] == "non_finite"


def test_unclamped_bce_is_not_finite_on_saturated_outputs_where_torch_clamps():
    y, y_hat = torch.tensor([[0.0, 1.0]]), torch.tensor([[1.0, 1.0]])
    J, _ = load("correct_loops.py").bce_loss(y, y_hat)
    assert not torch.isfinite(J)
    assert torch.isfinite(F.binary_cross_entropy(y_hat, y))
    J, _ = load("correct_vectorised.py").bce_loss(y, y_hat)
    assert torch.isfinite(J)


# --- the NumPy-interface submission against mlp_ref.MLP ---------------------------------------------
def numpy_mismatches(module, f, g, loss, reduction, dtype, steps=3):
    """Names of the quantities where the submission and mlp_ref.MLP disagree over a few SGD steps."""
    ref = ReferenceMLP(D, H, K, f=f, g=g, loss=loss, reduction=reduction, dtype=dtype, seed=3)
    sub = module.MLP(D, H, K, f=f, g=g, loss=loss, reduction=reduction, dtype=dtype, seed=0)
    for k, v in ref.params.items():
        sub.params[k] = v.copy()
    rng = np.random.default_rng(4)
    tol = tolerance(dtype)
    bad = []

    def compare(name, actual, expected):
        if np.shape(actual) != np.shape(expected) or not np.all(
                np.abs(np.asarray(actual, np.float64) - expected) <= tol.allowed(np.asarray(expected, np.float64))):
            bad.append(name)

    for step in range(steps):
        x = rng.standard_normal((4, D)).astype(dtype)
        x[0] = 0   # with the biases this gives no exact zero; the kink is covered by the homework battery
        y = (rng.random((4, K)) > 0.5).astype(dtype) if loss == "bce" else rng.standard_normal((4, K)).astype(dtype)
        compare(f"step {step} y_hat", sub.forward(x), ref.forward(x))
        compare(f"step {step} loss", sub.loss(sub.cache[-1], y), ref.loss(ref.cache.y_hat, y))
        sub.zero_grad(), ref.zero_grad()
        sub.backward(), ref.backward()
        for k in ref.grads:
            compare(f"step {step} d{k}", sub.grads[k], ref.grads[k])
        sub.step(LR), ref.step(LR)
    return bad


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("f, g, loss, reduction", [
    ("relu", "identity", "mse", "sum"), ("sigmoid", "relu", "mse", "mean"), ("identity", "sigmoid", "mse", "sum"),
    ("relu", "sigmoid", "bce", "mean"), ("sigmoid", "sigmoid", "bce", "sum"),
])
def test_numpy_interface_submission_matches_mlp_ref(f, g, loss, reduction, dtype):
    assert numpy_mismatches(load("correct_numpy.py"), f, g, loss, reduction, dtype) == []


def test_numpy_interface_bug_differs_from_mlp_ref_only_in_db2():
    bad = numpy_mismatches(load("bug_numpy_bias_not_summed.py"), "relu", "identity", "mse", "sum", "float64")
    # db2 is wrong at every step; the parameters it updates then make later steps differ everywhere.
    assert bad[:2] == ["step 0 db2", "step 1 y_hat"]


def test_numpy_comparison_catches_a_planted_bug():
    # Negative control: drop the activation derivative and the comparison must object.
    module = load("correct_numpy.py")
    module._act_grad = lambda name, dout, z, out: dout
    assert numpy_mismatches(module, "relu", "identity", "mse", "sum", "float64")


# --- hostile and broken submissions: parsed, never imported ---------------------------------------
def calls_in(name):
    """Every dotted call name in the file, e.g. 'sys.exit', 'np.ones'."""
    out = set()
    for node in ast.walk(ast.parse((ZOO / name).read_text())):
        if isinstance(node, ast.Call):
            out.add(ast.unparse(node.func))
    return out


@pytest.mark.parametrize("name, call", [
    ("hostile_sys_exit.py", "sys.exit"),
    ("hostile_os_exit.py", "os._exit"),
    ("hostile_huge_alloc.py", "np.ones"),
    ("hostile_unkillable_loop.py", "signal.signal"),
    ("hostile_write_verdict.py", "json.dump"),
    ("hostile_print_storm.py", "print"),
])
def test_hostile_submission_contains_its_hostile_call(name, call):
    assert call in calls_in(name)


def test_broken_syntax_fails_to_compile_at_the_manifests_line():
    with pytest.raises(SyntaxError) as err:
        compile((ZOO / "broken_syntax.py").read_text(), "broken_syntax.py", "exec")
    assert err.value.lineno == MANIFEST.ERROR_LINES["broken_syntax.py"]


def test_broken_import_names_a_module_that_does_not_exist_at_the_manifests_line():
    tree = ast.parse((ZOO / "broken_import.py").read_text())
    missing = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module == "mlp_helpers"]
    assert [n.lineno for n in missing] == [MANIFEST.ERROR_LINES["broken_import.py"]]
    assert importlib.util.find_spec("mlp_helpers") is None


@pytest.mark.parametrize("name, lacks", [
    ("neither_interface.py", {"MLP", "mse_loss", "bce_loss"}),
    ("neither_interface_partial.py", {"clear_grad_and_cache", "bce_loss"}),
])
def test_neither_interface_submission_lacks_what_the_manifest_says(name, lacks):
    defined = {n.name for n in ast.walk(ast.parse((ZOO / name).read_text()))
               if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    assert not lacks & defined
    assert set(MANIFEST.MESSAGE_MENTIONS[name]) <= lacks
