"""The paired runner's verdicts: each goal (numpy/torch, numpy/jax.jit, the GEMM share) judged on its own,
a missing jax side said, never counted as met."""
from mlp_ref.bench.__main__ import GOALS, JAX_GOALS, ratio_table, verdict


def row(size="tiny", dtype="float32", ratio=0.05, jax_ratio=0.3, share=0.5, jax=True):
    r = dict(size=size, label=size, dtype=dtype, numpy_s=1e-5, torch_s=2e-4, ratio=ratio, ratio_min=ratio,
             ratio_max=ratio, gflops=0.0, gemm_share=share, goal=GOALS.get((size, dtype)),
             share_goal=0.85 if size == "large" and dtype == "float32" else None,
             jax_goal=JAX_GOALS.get((size, dtype)), jax_s=None)
    if jax:
        r.update(jax_s=3e-5, jax_ratio=jax_ratio, jax_ratio_min=jax_ratio, jax_ratio_max=jax_ratio)
    return r


def test_the_goals_are_the_ones_set():
    assert GOALS[("tiny", "float32")] == 0.10
    assert JAX_GOALS == {("tiny", "float32"): 0.5, ("small", "float32"): 0.75, ("medium", "float32"): 0.95,
                         ("large", "float32"): 0.95}


def test_within_every_goal_is_met():
    assert verdict(row()) == "met"
    assert verdict(row("large", ratio=1.1, jax_ratio=0.9, share=0.9)) == "met"


def test_each_goal_missed_alone_is_named():
    assert verdict(row(ratio=0.11)) == "MISSED: torch ratio +10% over"
    assert verdict(row(jax_ratio=0.6)) == "MISSED: jax ratio +20% over"
    assert verdict(row("large", ratio=1.1, jax_ratio=0.9, share=0.80)) == "MISSED: GEMM share 5 points short"


def test_an_absent_jax_is_a_miss_said_as_such_and_its_cells_read_skipped():
    r = row(jax=False)
    assert verdict(r) == "MISSED: jax ratio not measured (jax absent)"
    line = ratio_table([r]).splitlines()[-1]
    assert line.count("skipped") == 3
    # A size without a jax goal and without jax stays information only.
    assert verdict(row("tiny", "float64", jax=False)) == "(info)"


def test_a_jax_goal_the_bare_step_misses_too_is_said_to_be_beyond_numpy():
    r = row(jax_ratio=0.8)
    r["bare_jax_ratio"] = 0.7
    assert verdict(r) == "MISSED: jax ratio +60% over (beyond NumPy's floor: the bare step misses it too)"
    assert "| 0.700 |" in ratio_table([r])
    r["bare_jax_ratio"] = 0.4  # the floor is within the goal: the miss is the step's own
    assert verdict(r) == "MISSED: jax ratio +60% over"
