"""mlp-ref explain: the literal product of Jacobians, the vectorised reference and torch autograd give
the same gradients for every f, g and loss; every hand-built Jacobian matches torch's; a wrong one is
caught where it is wrong; the JSON output agrees with torch computed here directly; bad input is named."""
import json
from functools import partial

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mlp_ref.cli import explain as explain_cli
from mlp_ref.cli.main import main
from mlp_ref.explain import derivation as explain
from mlp_ref.explain import hints
from mlp_ref.explain import input as explain_input
from mlp_ref.compare import compare
from mlp_ref.functional import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from mlp_ref.tolerances import tolerance

TOL = tolerance("float64")


def every_task():
    """(f, g, loss, reduction) for every combination the reference supports with a meaningful loss:
    mse on any g, bce on outputs in (0, 1), ce on softmax; each reduction."""
    out = []
    for f in HIDDEN_ACTIVATIONS:
        for reduction in ("sum", "mean"):
            out += [(f, g, "mse", reduction) for g in OUTPUT_ACTIVATIONS]
            out += [(f, "sigmoid", "bce", reduction), (f, "softmax", "bce", reduction), (f, "softmax", "ce", reduction)]
    return out


@pytest.mark.parametrize("f, g, loss, reduction", every_task())
def test_three_ways_agree_and_every_jacobian_matches_torch(f, g, loss, reduction):
    d = explain.derive(explain.default_problem(f, g, loss, reduction, batch=3, seed=4))
    assert len(d.checks) == 3 * len(explain.FACTORS) + 2 * len(explain.GRADIENTS)
    for c in d.checks:
        assert c.ok, f"{f}/{g}/{loss}-{reduction}: {c.name}\n{c.describe('explain', 'torch')}"


def hand_worked():
    """One sample small enough to do on paper (see test_a_hand_worked_example_comes_out_exactly)."""
    return explain.Problem(x=np.array([[1.0, -1.0]]), y=np.array([[1.0]]),
                           W1=np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), b1=np.array([0.0, 0.0, 0.5]),
                           W2=np.array([[1.0, 1.0, 2.0]]), b2=np.array([0.0]), f="relu", g="identity", loss="mse")


def test_a_hand_worked_example_comes_out_exactly():
    # z1 = (1, -1, 0.5), z2 = relu(z1) = (1, 0, 0.5), z3 = 1 + 0 + 1 = 2 = y_hat, l = (2 - 1)^2 = 1;
    # dl/dy_hat = 2, dz2/dz1 = diag(1, 0, 1), dl/dz1 = 2 (1, 1, 2) diag(1, 0, 1) = (2, 0, 4).
    d = explain.derive(hand_worked())
    s = d.samples[0]
    assert d.forward["loss"] == 1.0
    np.testing.assert_array_equal(s["dl/dy_hat"], [[2.0]])
    np.testing.assert_array_equal(s["dz2/dz1"], np.diag([1.0, 0.0, 1.0]))
    np.testing.assert_array_equal(s["dl/dz1"], [[2.0, 0.0, 4.0]])
    expected = {"db2": [2.0], "dW2": [[2.0, 0.0, 1.0]], "db1": [2.0, 0.0, 4.0], "dW1": [[2.0, -2.0], [0.0, 0.0], [4.0, -4.0]]}
    for name, value in expected.items():
        for way, got in d.gradients[name].items():
            np.testing.assert_array_equal(got, value, err_msg=f"{name} by {way}")


@pytest.mark.parametrize("f, slope_at_kink", [("relu", 0.0), ("leaky_relu", 0.01)])
def test_kink_at_exactly_zero_uses_torchs_convention(f, slope_at_kink):
    # b1 cancels x W1^T for sample 0 in the first unit, so z1[0, 0] is exactly 0: random inputs never hit it.
    p = explain.default_problem(f, "identity", "mse", batch=2, seed=1)
    p.b1[0] = -(p.x[0] @ p.W1[0])
    d = explain.derive(p)
    assert d.forward["z1"][0, 0] == 0.0
    assert d.samples[0]["dz2/dz1"][0, 0] == slope_at_kink
    assert d.ok, [c.name for c in d.failures()]


@pytest.mark.parametrize("g, expected", [
    ("identity", lambda z, s: np.eye(z.size)),
    ("sigmoid", lambda z, s: np.diag(s * (1 - s))),
    ("softmax", lambda z, s: np.diag(s) - np.outer(s, s)),
])
def test_output_jacobian_is_the_textbook_matrix(g, expected):
    d = explain.derive(explain.default_problem("tanh", g, "mse", seed=2))
    for n, s in enumerate(d.samples):
        want = expected(d.forward["z3"][n], d.forward["y_hat"][n])
        assert compare("dy_hat/dz3", s["dy_hat/dz3"], want, TOL).ok
        np.testing.assert_array_equal(s["dz3/dz2"], d.problem.W2)


@pytest.mark.parametrize("reduction, scale", [("mean", 1 / 4), ("sum", 1.0)])
def test_softmax_and_ce_chain_collapses_to_y_hat_minus_onehot(reduction, scale):
    d = explain.derive(explain.default_problem("relu", "softmax", "ce", reduction, n_out=3, batch=4))
    for n, s in enumerate(d.samples):
        onehot = np.eye(3)[d.problem.y[n]]
        assert compare("dl/dz3", s["dl/dz3"][0], scale * (d.forward["y_hat"][n] - onehot), TOL).ok


def sigmoid_slope_forgot_one_minus_s(name, z, out, slope=0.01):
    """A classic hand-derivation slip, planted: sigmoid' written as s instead of s (1 - s)."""
    if name == "sigmoid":
        return np.diag(out)
    return explain.activation_jacobian(name, z, out, slope)


def softmax_jacobian_diagonal_only(name, z, out, slope=0.01):
    """Another slip, planted: softmax treated as elementwise, diag(s (1 - s)), losing -s_i s_j off the diagonal."""
    if name == "softmax":
        return np.diag(out * (1 - out))
    return explain.activation_jacobian(name, z, out, slope)


def test_negative_control_a_wrong_hidden_jacobian_fails_exactly_where_it_enters():
    d = explain.derive(explain.default_problem("sigmoid", "identity", "mse"), jacobian=sigmoid_slope_forgot_one_minus_s)
    failed = {c.name for c in d.failures()}
    assert not d.ok
    assert {"dz2/dz1 [n=0]", "dW1 jacobian", "db1 jacobian"} <= failed
    # The output layer's gradients do not pass through dz2/dz1, so they still agree: the report localises the slip.
    assert not failed & {"db2 jacobian", "dW2 jacobian", "dW1 reference", "dl/dy_hat [n=0]", "dy_hat/dz3 [n=0]"}


def test_negative_control_a_softmax_jacobian_without_the_coupling_fails():
    d = explain.derive(explain.default_problem("relu", "softmax", "ce"), jacobian=softmax_jacobian_diagonal_only)
    failed = {c.name for c in d.failures()}
    assert {"dy_hat/dz3 [n=0]", "db2 jacobian", "dW2 jacobian"} <= failed
    assert "db2 reference" not in failed


def test_negative_control_the_cli_exits_1_and_names_the_failure(monkeypatch, capsys):
    monkeypatch.setattr(explain_cli, "derive", partial(explain.derive, jacobian=sigmoid_slope_forgot_one_minus_s))
    assert main(["explain", "--f", "sigmoid"]) == 1
    out = capsys.readouterr().out
    assert "FAIL: " in out and "dz2/dz1 [n=0]" in out.split("FAIL: ")[1]


def test_text_output_states_the_naming_and_labels_shapes(capsys):
    assert main(["explain"]) == 0
    out = capsys.readouterr().out
    assert "z2 = reference h" in out and "z3 = reference z2" in out
    for label in ("dl/dy_hat (1 x K)              (1, 2)", "dy_hat/dz3 (K x K)             (2, 2)",
                  "dz3/dz2 = W2 (K x m)           (2, 3)", "dz2/dz1 (m x m, diagonal)      (3, 3)"):
        assert label in out
    assert "Jacobian product" in out and "reference MLP" in out and "torch autograd" in out
    assert out.rstrip().endswith("-> OK")


@pytest.mark.parametrize("args", [["--f", "tanh", "--g", "sigmoid", "--loss", "bce", "--reduction", "mean"],
                                  ["--f", "leaky_relu", "--loss", "ce", "--n-out", "3", "--batch", "4"]])
def test_json_gradients_match_torch_computed_here(args, capsys):
    assert main(["explain", "--json", *args]) == 0
    report = json.loads(capsys.readouterr().out)
    p = report["input"]
    t = {k: torch.tensor(p[k], dtype=torch.float64, requires_grad=k.startswith(("W", "b"))) for k in ("W1", "b1", "W2", "b2")}
    x = torch.tensor(p["x"], dtype=torch.float64)
    act = {"tanh": torch.tanh, "leaky_relu": lambda z: F.leaky_relu(z, p["negative_slope"])}[p["f"]]
    z3 = act(x @ t["W1"].T + t["b1"]) @ t["W2"].T + t["b2"]
    if p["loss"] == "ce":
        loss = F.cross_entropy(z3, torch.tensor(p["y"]), reduction=p["reduction"])
    else:
        loss = F.binary_cross_entropy(torch.sigmoid(z3), torch.tensor(p["y"], dtype=torch.float64), reduction=p["reduction"])
    loss.backward()
    assert report["ok"] is True
    assert compare("loss", np.array(report["forward"]["loss"]), loss.detach().numpy(), TOL).ok
    assert compare("z3", np.array(report["forward"]["z3"]), z3.detach().numpy(), TOL).ok
    for name in explain.GRADIENTS:
        for way in ("jacobian", "reference", "torch"):
            c = compare(name, np.array(report["gradients"][name][way]), t[name[1:]].grad.numpy(), TOL)
            assert c.ok, f"{name} by {way}\n{c.describe('explain json', 'torch')}"
    assert report["naming"]["derivation_to_reference"] == {"z1": "z1", "z2": "h", "z3": "z2", "y_hat": "y_hat"}


def test_a_students_json_file_round_trips(tmp_path, capsys):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(explain_input.problem_to_dict(hand_worked())))
    assert main(["explain", "--input", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["gradients"]["dW1"]["jacobian"] == [[2.0, -2.0], [0.0, 0.0], [4.0, -4.0]]
    template = tmp_path / "template.json"
    assert main(["explain", "--write-input", str(template), "--loss", "ce"]) == 0
    capsys.readouterr()
    assert main(["explain", "--input", str(template)]) == 0


def good_input():
    return explain_input.problem_to_dict(explain.default_problem("relu", "identity", "mse"))


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.pop("W1"), "missing key(s) ['W1']"),
    (lambda d: d.update(w1=[[0.0]]), "unknown key(s) ['w1']"),
    (lambda d: d.update(W1=[[0.1, 0.2, 0.3]] * 3), "W1: expected shape (m, D=2), got (3, 3)"),
    (lambda d: d.update(b1=[0.1, 0.2]), "b1: expected shape (m=3), got (2,)"),
    (lambda d: d.update(W2=[[0.1, 0.2]] * 2), "W2: expected shape (K, m=3), got (2, 2)"),
    (lambda d: d.update(y=[[1.0, 2.0, 3.0]] * 2), "y: expected shape (N=2, K=2), got (2, 3)"),
    (lambda d: d.update(x=[[1.0, 2.0], [3.0]]), "x: expected numbers in nested lists of shape (N, D)"),
    (lambda d: d.update(x=[[1.0, "a"], [3.0, 4.0]]), 'x[0][1]: expected a finite number, got "a"'),
    (lambda d: d.update(x=[]), "x: expected 2-d array of shape (N, D), got 1-d array of shape (0,)"),
    (lambda d: d.update(x=[[]]), "x: expected at least one sample and one feature, got shape (1, 0)"),
    (lambda d: d.update(f="softmax"), "f: expected one of ('identity', 'relu', 'leaky_relu', 'sigmoid', 'tanh'), got 'softmax'"),
    (lambda d: d.update(reduction="avg"), "reduction: expected one of ('sum', 'mean'), got 'avg'"),
    (lambda d: d.update(loss="ce", g="softmax", y=[0.5, 1.0]), "y: expected integer class indices"),
    (lambda d: d.update(loss="ce", g="softmax", y=[0, 2]), "y: expected class indices in [0, 2), got 2"),
    (lambda d: d.update(loss="ce"), "needs g='softmax'"),
    (lambda d: d.update(loss="bce", y=[[0.5, 0.5]] * 2), "g: 'bce' takes log(y_hat) and log(1 - y_hat), so it needs outputs in [0, 1]"),
    (lambda d: d.update(loss="bce", g="sigmoid", y=[[0.5, 1.5]] * 2), "y: expected values in [0, 1] for bce, got 1.5"),
])
def test_bad_input_names_the_key_expected_and_got(edit, message):
    data = good_input()
    edit(data)
    with pytest.raises((ValueError, TypeError)) as e:
        explain_input.problem_from_dict(data)
    assert message in str(e.value)


def test_bce_on_unbounded_outputs_exits_2_naming_g(capsys):
    assert main(["explain", "--loss", "bce", "--g", "identity"]) == 2
    assert "--g: 'bce' takes log(y_hat) and log(1 - y_hat), so it needs outputs in [0, 1]: expected sigmoid (or softmax), got 'identity'" in capsys.readouterr().err


def test_bad_input_file_exits_2_with_the_reason(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    assert main(["explain", "--input", str(path)]) == 2
    assert "is not valid JSON" in capsys.readouterr().err
    assert main(["explain", "--input", str(tmp_path / "absent.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


# --- a student's own numbers ('mine'): where does the hand derivation depart? ---------------------
def with_mine(problem, derivation, names):
    data = explain_input.problem_to_dict(problem)
    quantities = explain_input.chain(derivation)
    data["mine"] = {name: np.asarray(quantities[name]).tolist() for name in names}
    return data


def test_a_students_correct_numbers_all_agree(tmp_path, capsys):
    p = hand_worked()
    mine = {"z2": [[1, 0, 0.5]], "loss": 1, "dl/dy_hat [n=0]": [[2]], "dz2/dz1 [n=0]": [[1, 0, 0], [0, 0, 0], [0, 0, 1]],
            "dl/dz1 [n=0]": [[2, 0, 4]], "dW1": [[2, -2], [0, 0], [4, -4]], "db2": [2]}
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({**explain_input.problem_to_dict(p), "mine": mine}))
    assert main(["explain", "--input", str(path)]) == 0
    assert "your numbers: all 7 agree with the derivation" in capsys.readouterr().out


def test_negative_control_a_students_slip_is_found_at_its_first_factor(tmp_path, capsys):
    # The student wrote sigmoid' = s: their forward pass and output factors are right, dz2/dz1 is not.
    p = explain.default_problem("sigmoid", "identity", "mse")
    slipped = explain.derive(p, jacobian=sigmoid_slope_forgot_one_minus_s)
    names = ["z1", "z2", "y_hat", "loss", "dl/dy_hat [n=0]", "dz3/dz2 [n=0]", "dz2/dz1 [n=0]", "dl/dz1 [n=0]", "dW2", "dW1"]
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(with_mine(p, slipped, names)))
    assert main(["explain", "--input", str(path), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True, "the derivation itself still agrees with torch"
    assert report["mine"]["first_departure"] == "dz2/dz1 [n=0]"
    verdicts = {c["name"]: c["ok"] for c in report["mine"]["comparisons"]}
    assert verdicts == {**{n: True for n in names}, "dz2/dz1 [n=0]": False, "dl/dz1 [n=0]": False, "dW1": False}


def test_a_transposed_gradient_is_reported_as_the_transpose(capsys, tmp_path):
    p = hand_worked()
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({**explain_input.problem_to_dict(p), "mine": {"dW1": [[2, 0, 4], [-2, 0, -4]]}}))
    assert main(["explain", "--input", str(path)]) == 1
    out = capsys.readouterr().out
    assert "first departure at dW1" in out and "(the transpose)" in out


@pytest.mark.parametrize("mine, message", [
    ({"dw1": [[0]]}, "mine: unknown quantity name(s) ['dw1']"),
    ({"dW1": "two"}, 'mine[\'dW1\']: expected a finite number, got "two"'),
    ({"rtol": -1}, "mine['rtol']: expected a number >= 0, got -1"),
    ([1, 2], "mine: expected an object"),
])
def test_bad_mine_is_named(mine, message):
    with pytest.raises(ValueError) as e:
        explain_input.compare_mine(explain.derive(hand_worked()), mine)
    assert message in str(e.value)


def test_finite_inputs_that_overflow_are_refused_not_passed(tmp_path, capsys):
    """x = 1e308 overflows the loss to inf; all three ways would agree on inf, which proves nothing."""
    path = tmp_path / "huge.json"
    assert main(["explain", "--write-input", str(path)]) == 0
    data = json.loads(path.read_text())
    data["x"][0] = [1e308, 1e308]
    path.write_text(json.dumps(data))
    capsys.readouterr()
    assert main(["explain", "--input", str(path), "--json"]) == 2
    out = capsys.readouterr().err
    assert "overflow float64" in out and "first non-finite quantity: loss" in out


def test_hand_worked_table_catches_a_slip_in_the_third_digit():
    """Pins HAND_WORKED: hand numbers carry about four significant digits, so 2.02 for 2 is a slip;
    loosening the table past 1e-2 lets it pass. Negative control: the right value agrees."""
    d = explain.derive(hand_worked())
    slip = {c.name: c.ok for c in explain_input.compare_mine(d, {"dW1": [[2.02, -2], [0, 0], [4, -4]]})}
    right = {c.name: c.ok for c in explain_input.compare_mine(d, {"dW1": [[2, -2], [0, 0], [4, -4]]})}
    assert slip == {"dW1": False} and right == {"dW1": True}


# --- hints: a departure that equals a known slip is named, with its fix --------------------------------
def _sig(z):
    return 1 / (1 + np.exp(-z))


def slip_problem(f="sigmoid", g="identity", loss="mse", reduction="mean", batch=4):
    """N = 4, m = 5, K = 3: N, K, N K and the 2 of the squared error apart; no matrix square by accident."""
    p = explain.default_problem(f, g, loss, reduction, n_in=2, n_hidden=5, n_out=3, batch=batch, seed=3)
    return p, explain.derive(p)


def planted(f, g, loss, reduction, quantity, slip, batch=4):
    """The test's own slip: a function of the forward values (checked against torch by derive) and torch's
    gradients, never of the derivation's backward numbers."""
    p, d = slip_problem(f, g, loss, reduction, batch)
    fw = d.forward
    return p, d, {quantity: np.asarray(slip(p, fw, d)).tolist()}


def mse_row(p, fw, n, scale):
    return scale * (fw["y_hat"][n] - p.y[n])[None, :]


def dl_dz2_identity_g(p, fw):
    return mse_row(p, fw, 0, 2 / 12) @ p.W2  # g = identity, mean over N K = 12


SLIPS = [
    ("sigmoid' as s", ("sigmoid", "identity", "mse", "mean"), "dz2/dz1 [n=0]",
     lambda p, fw, d: np.diag(fw["z2"][0]), "missing_factor", "sigmoid' written as s instead of s(1-s)"),
    ("sigmoid' at the output", ("sigmoid", "identity", "mse", "mean"), "dz2/dz1 [n=0]",
     lambda p, fw, d: np.diag(_sig(fw["z2"][0]) * (1 - _sig(fw["z2"][0]))), "derivative_at_output",
     "sigmoid' evaluated at the output z2 instead of the pre-activation z1"),
    ("tanh' as 1 - z^2", ("tanh", "identity", "mse", "mean"), "dz2/dz1 [n=1]",
     lambda p, fw, d: np.diag(1 - fw["z1"][1] ** 2), "derivative_at_output", "output's form at the pre-activation"),
    ("f' skipped", ("sigmoid", "identity", "mse", "mean"), "dl/dz1 [n=0]",
     lambda p, fw, d: dl_dz2_identity_g(p, fw), "missing_factor", "sigmoid's derivative left out"),
    ("mse without its 2", ("sigmoid", "identity", "mse", "mean"), "dl/dy_hat [n=0]",
     lambda p, fw, d: mse_row(p, fw, 0, 1 / 12), "missing_factor", "the 2 of the squared error"),
    ("y - y_hat", ("sigmoid", "identity", "mse", "mean"), "dl/dy_hat [n=1]",
     lambda p, fw, d: mse_row(p, fw, 1, -2 / 12), "sign_flip", "dl/dy_hat with its sign flipped"),
    ("mean not divided", ("sigmoid", "identity", "mse", "mean"), "dl/dy_hat [n=0]",
     lambda p, fw, d: mse_row(p, fw, 0, 2), "off_by_n_or_k", "divided by nothing, where the 'mean' reduction divides by N K = 12"),
    ("mean over N only", ("sigmoid", "identity", "mse", "mean"), "dl/dy_hat [n=0]",
     lambda p, fw, d: mse_row(p, fw, 0, 2 / 4), "off_by_n_or_k", "divided by N = 4, where"),
    ("dW1 averaged", ("sigmoid", "identity", "mse", "sum"), "dW1",
     lambda p, fw, d: d.gradients["dW1"]["torch"] / 4, "off_by_n_or_k", "N = 4"),
    ("dW1 transposed", ("sigmoid", "identity", "mse", "mean"), "dW1",
     lambda p, fw, d: d.gradients["dW1"]["torch"].T, "transposed", "the transpose of dW1"),
    ("dz3/dz2 as W2^T", ("sigmoid", "identity", "mse", "mean"), "dz3/dz2 [n=0]",
     lambda p, fw, d: p.W2.T, "transposed", "the transpose of dz3/dz2"),
    ("row * Jacobian", ("sigmoid", "identity", "mse", "mean"), "dl/dz1 [n=0]",
     lambda p, fw, d: dl_dz2_identity_g(p, fw) * np.diag(fw["z2"][0] * (1 - fw["z2"][0])),
     "elementwise_for_matmul", "the element-wise product dl/dz2 * dz2/dz1"),
    ("softmax as elementwise", ("relu", "softmax", "ce", "mean"), "dl/dz3 [n=0]",
     lambda p, fw, d: (-np.eye(3)[p.y[0]] / fw["y_hat"][0] / 4 * fw["y_hat"][0] * (1 - fw["y_hat"][0]))[None, :],
     "softmax_as_elementwise", "softmax's Jacobian taken as diagonal"),
]


@pytest.mark.parametrize("task, quantity, slip, rid, words", [s[1:] for s in SLIPS], ids=[s[0] for s in SLIPS])
def test_each_planted_slip_gets_its_hint_and_no_other(task, quantity, slip, rid, words):
    p, d, mine = planted(*task, quantity, slip)
    comparisons, found = hints.check(d, mine)
    assert [c.ok for c in comparisons] == [False], "the slip must depart from the derivation"
    assert [h.id for h in found[quantity]] == [rid], [h.text() for h in found[quantity]]
    h = found[quantity][0]
    assert words in h.mistake and h.quantity == quantity and h.fix
    assert h.text().startswith(f"hint: {quantity} matches ") and "; fix: " in h.text()


def test_two_slips_that_give_the_same_number_are_both_told():
    """With N = 2, dW1 / N is also dW1 without the 2 of the squared error: the hint names both."""
    p, d, mine = planted("sigmoid", "identity", "mse", "sum", "dW1", lambda p, fw, d: d.gradients["dW1"]["torch"] / 2,
                         batch=2)
    assert [h.id for h in hints.check(d, mine)[1]["dW1"]] == ["missing_factor", "off_by_n_or_k"]


@pytest.mark.parametrize("task", [("sigmoid", "identity", "mse", "mean"), ("relu", "softmax", "ce", "mean"),
                                  ("tanh", "sigmoid", "bce", "sum")])
def test_negative_control_right_numbers_get_no_hint(task):
    """Every quantity, right: nothing departs and nothing is hinted. Torch's gradients, not the derivation's."""
    p, d = slip_problem(*task)
    mine = {name: np.asarray(v).tolist() for name, v in explain_input.chain(d).items() if " [n=" not in name}
    mine.update({name: d.gradients[name]["torch"].tolist() for name in explain.GRADIENTS})
    comparisons, found = hints.check(d, mine)
    assert all(c.ok for c in comparisons) and found == {}


def test_negative_control_a_departure_of_no_known_shape_gets_no_hint():
    p, d = slip_problem()
    wrong = d.gradients["dW1"]["torch"].copy()
    wrong[1, 0] += 0.1
    comparisons, found = hints.check(d, {"dW1": wrong.tolist()})
    assert [c.ok for c in comparisons] == [False] and found == {}


def test_the_cli_prints_the_hint_under_the_first_departure(tmp_path, capsys):
    p, d, mine = planted("sigmoid", "identity", "mse", "mean", "dz2/dz1 [n=0]", SLIPS[0][3])
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({**explain_input.problem_to_dict(p), "mine": mine}))
    assert main(["explain", "--input", str(path)]) == 1
    out = capsys.readouterr().out.split("your numbers: first departure at dz2/dz1 [n=0]")[1]
    assert "hint: dz2/dz1 [n=0] matches a derivation with sigmoid' written as s instead of s(1-s); " \
           "fix: dz2/dz1 = diag(s (1 - s)) with s = sigmoid(z1)" in out
    assert main(["explain", "--input", str(path), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)["mine"]
    assert [h["id"] for h in report["hints"]["dz2/dz1 [n=0]"]] == ["missing_factor"]


# --- the --write-input stub and flat rows -----------------------------------------------------------------
def test_write_input_stub_holds_every_name_null_and_reads_as_nothing_filled(tmp_path, capsys):
    path = tmp_path / "mine.json"
    assert main(["explain", "--write-input", str(path), "--batch", "3"]) == 0
    data = json.loads(path.read_text())
    d = explain.derive(explain_input.problem_from_dict(data))
    names = [*explain_input.FORWARD, *explain.GRADIENTS] + [f"{q} [n={n}]" for n in range(3) for q in explain_input.PER_SAMPLE]
    assert set(data["mine"]) == set(names) | {"rtol", "atol"} and set(data["mine"].values()) == {None}
    assert set(data["mine"]) - {"rtol", "atol"} == set(explain_input.chain(d))
    capsys.readouterr()
    assert main(["explain", "--input", str(path)]) == 0
    assert "your numbers ('mine'): none filled in yet" in capsys.readouterr().out
    data["mine"]["db2"] = d.gradients["db2"]["torch"].tolist()  # one filled in, the rest still null
    path.write_text(json.dumps(data))
    assert main(["explain", "--input", str(path)]) == 0
    assert "your numbers: all 1 agree with the derivation" in capsys.readouterr().out


def test_a_1_by_k_quantity_may_be_a_flat_list():
    p, d = slip_problem()
    row = d.samples[0]["dl/dy_hat"]
    assert row.shape == (1, 3)
    assert [c.ok for c in explain_input.compare_mine(d, {"dl/dy_hat [n=0]": row[0].tolist()})] == [True]
    # Negative control: a flat list of the wrong length is a departure naming both shapes, not a match.
    (c,) = explain_input.compare_mine(d, {"dl/dy_hat [n=0]": row[0, :2].tolist()})
    assert not c.ok and c.problem == "shape mismatch: got (2,), expected (1, 3)"


def test_a_batch_of_one_may_be_written_as_flat_rows():
    nested = hand_worked()
    flat = {**explain_input.problem_to_dict(nested), "x": [1.0, -1.0], "y": [1.0], "W2": [1.0, 1.0, 2.0]}
    p = explain_input.problem_from_dict(flat)
    assert p.x.shape == (1, 2) and p.y.shape == (1, 1) and p.W2.shape == (1, 3)
    assert explain.derive(p).gradients["dW1"]["torch"].tolist() == [[2.0, -2.0], [0.0, 0.0], [4.0, -4.0]]


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.update(x=[1.0, -1.0], y=[1.0, 2.0]), "y: expected 2-d array of shape (N=1, K=1), got 1-d array of shape (2,)"),
    (lambda d: d.update(b1=[[0.0, 0.0, 0.5]]), "b1: expected 1-d array of shape (m=3), got 2-d array of shape (1, 3)"),
    (lambda d: d.update(W1=[1.0, 0.0]), "W1: expected 2-d array of shape (m, D=2), got 1-d array of shape (2,)"),
    (lambda d: d.update(W2=[1.0, 1.0]), "W2: expected 2-d array of shape (K, m=3), got 1-d array of shape (2,)"),
])
def test_other_shapes_are_still_refused_naming_key_expected_and_got(edit, message):
    data = explain_input.problem_to_dict(hand_worked())
    edit(data)
    with pytest.raises(ValueError) as e:
        explain_input.problem_from_dict(data)
    assert message in str(e.value)
