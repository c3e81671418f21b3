"""mlp-ref demo: each textbook claim asserted on the demo's own numbers, and each claim check shown
able to say "not supported" when fed numbers that contradict it."""
import copy
import json
import math

import numpy as np
import pytest
import torch

from mlp_ref import demos
from mlp_ref.cli.main import main
from mlp_ref.compare import compare
from mlp_ref.demos import batch_norm, batch_size, dead_relu, optimizers, softmax, vanishing
from mlp_ref.functional import softmax as stable_softmax
from mlp_ref.tolerances import tolerance


@pytest.fixture(scope="module")
def findings(once_per_run):
    """Every demo measured once per run (the numbers are deterministic for a seed)."""
    return once_per_run("demo_findings", lambda: {name: demos.run(name) for name in demos.NAMES})


@pytest.mark.parametrize("name", demos.NAMES)
def test_every_claim_is_supported_by_its_numbers(findings, name):
    f = findings[name]
    assert f.supported, demos.render(f)
    assert demos.render(f).endswith("-> supported by these numbers")


def test_ten_deep_sigmoid_first_layer_gradient_is_100x_smaller_than_relus(findings):
    n = findings["vanishing"].numbers
    i = n["depths"].index(10)
    assert n["first_layer"]["sigmoid"][i] * 100 <= n["first_layer"]["relu"][i]
    assert n["sigmoid_slope_max"] == 0.25  # attained at z = 0, which the grid contains
    factor, r2 = vanishing.per_layer_factor(n["depths"], n["first_layer"]["sigmoid"])
    assert factor < 0.5 and r2 > 0.95, "the sigmoid stack's first-layer gradient shrinks geometrically with depth"
    # Within one 20-deep stack the gradient enters at the top at full size; it is the chain that shrinks it.
    assert n["sigmoid_top_layer"][-1] > 1e6 * n["first_layer"]["sigmoid"][-1]


def test_batch_norm_trains_the_deep_sigmoid_stack_that_stalls_without_it(findings):
    n = findings["batch-norm"].numbers
    plain, bn = n["curves"]["plain"], n["curves"]["batch norm"]
    assert bn[-1] < 0.1 * bn[0] and plain[-1] > 0.9 * plain[0]
    assert min(plain) > 0.9 * plain[0], "the plain stack never trains, not merely ends high"
    drop = n["dropout"][str(batch_norm.P)]
    assert drop["train_mode"] >= 1.5 * drop["eval_mode"]


def test_negative_control_the_batch_norm_demo_without_batch_norm_is_not_supported(monkeypatch):
    """The same measurement with the norm dropped from the model (a planted no-op) contradicts the claim."""
    real = batch_norm.MLP
    monkeypatch.setattr(batch_norm, "MLP", lambda *a, **k: real(*a, **{**k, "norm": None}))
    supported, because = batch_norm.check(batch_norm.measure())
    assert not supported, because


def test_momentum_and_adaptive_methods_beat_tuned_sgd_on_the_ill_conditioned_problem(findings):
    n = findings["optimizers"].numbers
    assert n["condition"] > 1e3, "the problem must really be ill-conditioned"
    best = n["best"]
    sgd = best["sgd"]["steps"]
    for name in ("momentum 0.9", "adam", "rmsprop"):
        assert best[name]["steps"] is not None and (sgd is None or best[name]["steps"] < sgd), name
        assert best[name]["curve"][best[name]["steps"]] <= n["target"] == 0.1 * n["initial"]
    # The tuned lr is the grid's best: no other lr of the grid reaches the target sooner; and the grid
    # reaches past plain SGD's stable range, so SGD is not held back by the grid's edge.
    x, y = optimizers.problem(0)
    assert not math.isfinite(optimizers.curve("sgd", max(optimizers.LRS), x, y)[-1])
    for lr in optimizers.LRS:
        s = optimizers.steps_to(optimizers.curve("adam", lr, x, y), n["target"])
        assert s is None or s >= best["adam"]["steps"]


def test_naive_softmax_is_non_finite_above_the_exp_limit_and_stable_matches_torch():
    for t in (700.0, 709.0, 710.0, 800.0):
        z = t * softmax.PATTERN[None, :]
        assert np.isfinite(softmax.naive_softmax(z)).all() == (t < math.log(np.finfo(np.float64).max))
        stable = stable_softmax(z)
        assert compare("softmax", stable, torch.softmax(torch.tensor(z), dim=1).numpy(), tolerance("float64")).ok


def test_two_linear_layers_collapse_to_one_within_1e_12_and_relu_does_not(findings):
    for row in findings["linear-collapse"].numbers["rows"]:
        assert row["max_rel"] <= 1e-12 and row["collapse_ok"]
        assert row["rank"] <= row["min_width"]
        assert row["linear_residual"] < 1e-10 < 0.01 < row["relu_residual"]


def test_dead_relu_units_get_exactly_zero_gradient_and_leaky_ones_do_not(findings):
    rows = {(r["condition"], r["f"]): r for r in findings["dead-relu"].numbers["rows"]}
    base, large, shift = (c[0] for c in dead_relu.CONDITIONS)
    assert rows[base, "relu"]["inactive_after"] == 0 < rows[large, "relu"]["inactive_after"]
    assert rows[shift, "relu"]["inactive_after"] == 1.0
    for cond in (large, shift):
        assert rows[cond, "relu"]["zero_grad_rows"] == rows[cond, "relu"]["n_inactive"] > 0
        assert rows[cond, "leaky_relu"]["zero_grad_rows"] == 0 and rows[cond, "leaky_relu"]["inactive_grad_norm"] > 0


def test_gradient_variance_falls_as_one_over_b(findings):
    n = findings["batch-size"].numbers
    assert batch_size.loglog_slope(n["batches"], n["variance"]) == pytest.approx(-1, abs=0.15)
    scaled = [t["scaled_loss"] for t in n["training"]]
    fixed = [t["fixed_loss"] for t in n["training"]]
    assert max(scaled) / min(scaled) < max(fixed) / min(fixed)


def test_relu_zeroes_half_the_gradients_on_normal_inputs(findings):
    rows = {r["name"]: r for r in findings["activations"].numbers["rows"]}
    assert rows["relu"]["zero_grad_fraction"] == pytest.approx(0.5, abs=0.01)
    assert all(rows[n]["zero_grad_fraction"] == 0 for n in ("identity", "leaky_relu", "sigmoid", "tanh"))
    assert rows["sigmoid"]["slope_max"] <= 0.25 and rows["tanh"]["slope_max"] <= 1


# --- negative controls: numbers that contradict a claim must make its check say "not supported" ---
def swap_sigmoid_and_relu(n):
    n["first_layer"]["sigmoid"], n["first_layer"]["relu"] = n["first_layer"]["relu"], n["first_layer"]["sigmoid"]


def variance_constant_in_b(n):
    n["variance"] = [n["variance"][0]] * len(n["variance"])


def variance_as_one_over_b_squared(n):
    n["variance"] = [n["variance"][0] / b ** 2 for b in n["batches"]]


def fixed_lr_as_good_as_scaled(n):
    for t in n["training"]:
        t["fixed_loss"] = t["scaled_loss"]


def relu_residual_vanishes(n):
    n["rows"][0]["relu_residual"] = 1e-15


def collapse_off_by_a_bias(n):
    n["rows"][1]["collapse_ok"] = False


def rank_above_the_bottleneck(n):
    n["rows"][1]["rank"] = 5


def leaky_units_stop_learning(n):
    for r in n["rows"]:
        if r["f"] == "leaky_relu":
            r["zero_grad_rows"] = r["n_inactive"]


def large_lr_kills_nothing(n):
    for r in n["rows"]:
        if r["condition"] == dead_relu.CONDITIONS[1][0]:
            r["inactive_after"], r["n_inactive"] = 0.0, 0


def sgd_reaches_the_target_first(n):
    n["best"]["sgd"]["steps"] = 5


def momentum_never_reaches_the_target(n):
    n["best"]["momentum 0.9"]["steps"] = None


def relu_zeroes_a_third(n):
    n["rows"][1]["zero_grad_fraction"] = 0.33


def sigmoid_slope_above_a_quarter(n):
    n["rows"][3]["slope_max"] = 0.3


def tanh_leaves_its_range(n):
    n["rows"][4]["out_max"] = 1.5


def batch_norm_stalls_too(n):
    n["curves"]["batch norm"][-1] = n["curves"]["batch norm"][0]


def plain_trains_too(n):
    n["curves"]["plain"][-1] = 0.01 * n["curves"]["plain"][0]


def dropout_leaves_no_gap(n):
    n["dropout"][str(batch_norm.P)]["train_mode"] = n["dropout"][str(batch_norm.P)]["eval_mode"]


def eval_differs_without_dropout(n):
    n["dropout"]["0.0"]["eval_mode"] *= 1.01


@pytest.mark.parametrize("name, contradict", [
    ("batch-norm", batch_norm_stalls_too),
    ("batch-norm", plain_trains_too),
    ("batch-norm", dropout_leaves_no_gap),
    ("batch-norm", eval_differs_without_dropout),
    ("vanishing", swap_sigmoid_and_relu),
    ("batch-size", variance_constant_in_b),
    ("batch-size", variance_as_one_over_b_squared),
    ("batch-size", fixed_lr_as_good_as_scaled),
    ("linear-collapse", relu_residual_vanishes),
    ("linear-collapse", collapse_off_by_a_bias),
    ("linear-collapse", rank_above_the_bottleneck),
    ("dead-relu", leaky_units_stop_learning),
    ("dead-relu", large_lr_kills_nothing),
    ("activations", relu_zeroes_a_third),
    ("activations", sigmoid_slope_above_a_quarter),
    ("activations", tanh_leaves_its_range),
    ("optimizers", sgd_reaches_the_target_first),
    ("optimizers", momentum_never_reaches_the_target),
])
def test_negative_control_contradicting_numbers_are_not_supported(findings, name, contradict):
    numbers = copy.deepcopy(findings[name].numbers)
    contradict(numbers)
    supported, _ = demos.module(name).check(numbers)
    assert not supported, f"{name}: {contradict.__name__} should contradict the claim"


def test_negative_control_softmax_check_catches_a_naive_that_never_overflows_and_a_stable_that_does():
    supported, _ = softmax.check(softmax.measure(naive=softmax.fn.softmax))
    assert not supported, "a 'naive' softmax that stays finite above the exp limit contradicts the claim"
    supported, _ = softmax.check(softmax.measure(stable=softmax.naive_softmax))
    assert not supported, "a 'stable' softmax that overflows contradicts the claim"


def test_negative_control_collapse_without_b2_fails_the_1e_12_comparison():
    # The planted slip: b = W2 b1, forgetting + b2. The same comparison the demo uses must reject it.
    rng = np.random.default_rng(0)
    W1, b1, W2, b2 = rng.standard_normal((4, 3)), rng.standard_normal(4), rng.standard_normal((2, 4)), rng.standard_normal(2)
    x = rng.standard_normal((10, 3))
    two = (x @ W1.T + b1) @ W2.T + b2
    assert compare("collapse", x @ (W2 @ W1).T + W2 @ b1 + b2, two, tolerance("float64")).ok
    assert not compare("collapse", x @ (W2 @ W1).T + W2 @ b1, two, tolerance("float64")).ok


def test_render_says_not_supported_when_the_check_fails(findings):
    f = findings["vanishing"]._replace(supported=False)
    assert demos.render(f).endswith("-> NOT supported by these numbers")


def test_demo_all_prints_every_table_and_claim_and_draws_a_png(findings, monkeypatch, tmp_path, capsys):
    # The module's findings stand in for re-measuring: this test is about the command, not the numbers.
    monkeypatch.setattr(demos, "run", lambda name, seed=0: findings[name])
    png = tmp_path / "all.png"
    assert main(["demo", "all", "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert out.count("-> supported by these numbers") == len(demos.NAMES)
    assert f"demo all: {len(demos.NAMES)}/{len(demos.NAMES)} claims supported" in out
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_demo_json_has_a_verdict_per_claim(capsys):
    assert main(["demo", "softmax", "--json"]) == 0
    # Strict JSON: the naive softmax's inf and nan come out as strings, never as bare NaN/Infinity.
    report = json.loads(capsys.readouterr().out, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    assert report["ok"] is True and report["findings"][0]["supported"] is True
    assert report["findings"][0]["header"][0] == "logits"


def test_unknown_demo_is_named():
    with pytest.raises(ValueError, match=r"demo: expected one of .*'all'\), got 'vanish'"):
        demos.module("vanish")
    assert main(["demo", "vanish"]) == 2


def test_plot_errors_are_named_before_any_demo_runs(monkeypatch, tmp_path, capsys):
    assert main(["demo", "softmax", "--plot", str(tmp_path / "absent" / "x.png")]) == 2
    out = capsys.readouterr()
    assert out.out == "" and "mlp-ref demo: --plot: expected a file in an existing, writable folder" in out.err
    monkeypatch.setitem(__import__("sys").modules, "matplotlib", None)  # as if the 'plot' extra were absent
    assert main(["demo", "softmax", "--plot", str(tmp_path / "x.png")]) == 2
    assert "--plot: needs matplotlib, which is not installed; pip install 'mlp_ref[plot]'" in capsys.readouterr().err


# --- the figure: labels that do not collide, curves that do not hide each other ---------------------------
def panel(draw):
    """One panel the size `demo --plot` gives each demo (5.5 x 4.2 in at 90 dpi), drawn and laid out."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4.2), dpi=90)
    draw(ax)
    fig.tight_layout()
    fig.canvas.draw()
    return fig, ax


def colliding_labels(fig, ax):
    """Pairs of tick labels whose drawn boxes overlap, and tick labels or bars under the legend."""
    import matplotlib.pyplot as plt
    renderer = fig.canvas.get_renderer()
    labels = [t for t in ax.get_xticklabels() + ax.get_yticklabels() if t.get_text()]
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in labels]
    out = [(a, b) for i, (a, box_a) in enumerate(boxes) for b, box_b in boxes[i + 1:] if box_a.overlaps(box_b)]
    legend = ax.get_legend()
    if legend is not None:
        box = legend.get_window_extent(renderer)
        out += [("legend", f"bar {i}") for i, bar in enumerate(ax.patches) if bar.get_window_extent(renderer).overlaps(box)]
    plt.close(fig)
    return out


def test_dead_relu_panel_labels_and_legend_do_not_collide(findings):
    numbers = findings["dead-relu"].numbers
    assert colliding_labels(*panel(lambda ax: dead_relu.plot(numbers, ax))) == []


def test_negative_control_the_collision_check_finds_long_labels_side_by_side(findings):
    """The same bars with the condition names as x tick labels, as a vertical bar chart draws them."""
    rows = findings["dead-relu"].numbers["rows"]

    def side_by_side(ax):
        x = np.arange(len(rows))
        ax.bar(x, [r["inactive_after"] for r in rows], 0.4)
        ax.set_xticks(x, [f"{r['condition']}\n{r['f']}" for r in rows], fontsize=6)
    assert colliding_labels(*panel(side_by_side)) != []


def line_styles(ax):
    """label -> (linestyle, marker, marker face colour, width) of each line in the legend."""
    import matplotlib.colors as mcolors
    return {line.get_label(): (line.get_linestyle(), line.get_marker(), mcolors.to_hex(line.get_markerfacecolor()),
                               line.get_linewidth())
            for line in ax.get_lines() if not line.get_label().startswith("_")}


def test_vanishing_panel_draws_relu_and_leaky_relu_distinguishably(findings):
    """relu's and leaky_relu's curves nearly coincide; each activation's line differs in line style and
    marker from every other's, not only in colour, so neither hides the other."""
    numbers = findings["vanishing"].numbers
    fig, ax = panel(lambda ax: vanishing.plot(numbers, ax))
    styles = line_styles(ax)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    import matplotlib.pyplot as plt
    plt.close(fig)
    assert sorted(styles) == sorted(vanishing.ACTIVATIONS) and sorted(legend) == sorted(vanishing.ACTIVATIONS)
    relu, leaky = styles["relu"], styles["leaky_relu"]
    assert relu[0] != leaky[0] and relu[1] != leaky[1], (relu, leaky)
    assert len({(s[0], s[1]) for s in styles.values()}) == len(styles)
    # Negative control: the same curves drawn with one style are told apart by colour alone.
    fig, ax = panel(lambda ax: [ax.semilogy(numbers["depths"], numbers["first_layer"][a], marker="o", label=a)
                                for a in vanishing.ACTIVATIONS])
    plain = line_styles(ax)
    plt.close(fig)
    assert len({(s[0], s[1]) for s in plain.values()}) == 1
