"""Mutation run: plant plausible one-line mistakes in the oracle code, one at a time, and see the tests catch them.

Each mutant replaces one exact line fragment (which must occur exactly once in its file) in a scratch copy
of the tree (never the working tree), then runs `pytest -x` on the test files that guard that module. A
mutant the tests pass is a survivor: a mistake the suite would let through. Survivors are written to
--out (one line each) and the figures printed last.

    python tools/mutate.py                      # every mutant
    python tools/mutate.py --only tolerances    # mutants whose id starts with a prefix (repeatable)
    python tools/mutate.py --list               # the mutants and the tests each runs

Run it before closing a change that touches an oracle (tolerances, verdict, diagnose, sandbox, child,
gradescope, optim, the layers in functional.py, parity's batch-norm rules). Plain Python, no dependency beyond pytest.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOL = ["tests/test_tolerances_pinned.py", "tests/grader/test_rules_by_evidence.py"]
DIAG = ["tests/grader/test_rules_by_evidence.py", "tests/grader/test_diagnose.py"]
NETS = ["tests/grader/test_safety_nets.py"]
GS = ["tests/grader/test_safety_nets.py", "tests/grader/test_gradescope.py"]
OPT = ["tests/test_optim.py", "tests/test_optim_parity.py", "tests/test_optim_catches_bugs.py"]
NORM = ["tests/test_norm_layers.py", "tests/test_functional.py"]
PARITY = ["tests/test_parity_layers.py", "tests/test_parity_hypothesis.py"]

# (id, file, the fragment as it stands, the mistake, the test files that must catch it)
MUTANTS = [
    # --- tolerances: each entry 3x looser or tighter, and the BCE eps 10x --------------------------------
    ("tolerances.parity64_rtol_x3", "mlp_ref/tolerances.py", '"float64": Tolerance(rtol=1e-12,', '"float64": Tolerance(rtol=3e-12,', TOL),
    ("tolerances.parity64_atol_x3", "mlp_ref/tolerances.py", "Tolerance(rtol=1e-12, atol=1e-12)", "Tolerance(rtol=1e-12, atol=3e-12)", TOL),
    ("tolerances.parity32_rtol_x3", "mlp_ref/tolerances.py", "Tolerance(rtol=1.3e-6,", "Tolerance(rtol=3.9e-6,", TOL),
    ("tolerances.parity32_atol_div3", "mlp_ref/tolerances.py", "rtol=1.3e-6, atol=1e-5)", "rtol=1.3e-6, atol=3.3e-6)", TOL),
    ("tolerances.fd_rtol_x3", "mlp_ref/tolerances.py", "FINITE_DIFFERENCES = Tolerance(rtol=1e-6,", "FINITE_DIFFERENCES = Tolerance(rtol=3e-6,", TOL),
    ("tolerances.fd_atol_x3", "mlp_ref/tolerances.py", "rtol=1e-6, atol=1e-8)", "rtol=1e-6, atol=3e-8)", TOL),
    ("tolerances.hand_rtol_x3", "mlp_ref/tolerances.py", "HAND_WORKED = Tolerance(rtol=1e-3,", "HAND_WORKED = Tolerance(rtol=3e-3,", TOL),
    ("tolerances.hand_atol_div3", "mlp_ref/tolerances.py", "rtol=1e-3, atol=1e-4)", "rtol=1e-3, atol=3.3e-5)", TOL),
    ("tolerances.grading32_rtol_x3", "mlp_ref/tolerances.py", '"float32": GradingTolerance(rtol=3e-5,', '"float32": GradingTolerance(rtol=9e-5,', TOL),
    ("tolerances.grading32_rtol_div3", "mlp_ref/tolerances.py", '"float32": GradingTolerance(rtol=3e-5,', '"float32": GradingTolerance(rtol=1e-5,', TOL),
    ("tolerances.grading32_scale_x3", "mlp_ref/tolerances.py", "scale=3e-5, noise_factor=20.0", "scale=9e-5, noise_factor=20.0", TOL),
    ("tolerances.grading32_noise_x3", "mlp_ref/tolerances.py", "rtol=3e-5, scale=3e-5, noise_factor=20.0", "rtol=3e-5, scale=3e-5, noise_factor=60.0", TOL),
    ("tolerances.grading32_noise_x10", "mlp_ref/tolerances.py", "rtol=3e-5, scale=3e-5, noise_factor=20.0", "rtol=3e-5, scale=3e-5, noise_factor=200.0", TOL),
    ("tolerances.grading64_rtol_x3", "mlp_ref/tolerances.py", '"float64": GradingTolerance(rtol=1e-9,', '"float64": GradingTolerance(rtol=3e-9,', TOL),
    ("tolerances.grading64_scale_div3", "mlp_ref/tolerances.py", "scale=1e-9, noise_factor", "scale=3.3e-10, noise_factor", TOL),
    ("tolerances.grading64_noise_div3", "mlp_ref/tolerances.py", "scale=1e-9, noise_factor=20.0", "scale=1e-9, noise_factor=6.7", TOL),
    ("tolerances.parity64_rtol_div3", "mlp_ref/tolerances.py", '"float64": Tolerance(rtol=1e-12,', '"float64": Tolerance(rtol=3.3e-13,', TOL),
    ("tolerances.fd_rtol_div3", "mlp_ref/tolerances.py", "FINITE_DIFFERENCES = Tolerance(rtol=1e-6,", "FINITE_DIFFERENCES = Tolerance(rtol=3.3e-7,", TOL),
    ("tolerances.hand_atol_x3", "mlp_ref/tolerances.py", "rtol=1e-3, atol=1e-4)", "rtol=1e-3, atol=3e-4)", TOL),
    ("tolerances.grading32_scale_div3", "mlp_ref/tolerances.py", "scale=3e-5, noise_factor=20.0", "scale=1e-5, noise_factor=20.0", TOL),
    ("tolerances.grading64_scale_x3", "mlp_ref/tolerances.py", "scale=1e-9, noise_factor", "scale=3e-9, noise_factor", TOL),
    ("tolerances.grading64_noise_x3", "mlp_ref/tolerances.py", "scale=1e-9, noise_factor=20.0", "scale=1e-9, noise_factor=60.0", TOL),
    ("tolerances.bce_eps_x10", "mlp_ref/tolerances.py", "BCE_EPS = 1e-7", "BCE_EPS = 1e-6", TOL + DIAG),
    # --- batches: a quantity compared beside others gets what it gets alone ------------------------------
    ("compare.many_worst_of_the_batch", "mlp_ref/compare.py", "flat = int(mine.argmax())",
     "flat = min(int(excess.argmax()), n - 1)", ["tests/test_compare.py"]),
    ("compare.many_first_tolerance_for_all", "mlp_ref/compare.py", "    if all(t == tols[0] for t in tols):",
     "    if True:", ["tests/test_compare.py"]),
    ("compare.many_full_batch_dropped", "mlp_ref/compare.py", "                _judge(batch, out)\n",
     "                pass\n", ["tests/test_compare.py"]),
    ("compare.many_count_of_the_first", "mlp_ref/compare.py", "if worst_excess[k] > 0 else 0",
     "if worst_excess[0] > 0 else 0", ["tests/test_compare.py"]),
    ("tolerances.allowed_many_batch_top", "mlp_ref/tolerances.py", "self.scale * np.repeat(top, filled)",
     "self.scale * np.max(top, initial=0.0)", ["tests/grader/test_verdict_batches.py"]),
    # --- verdict ------------------------------------------------------------------------------------------
    ("verdict.autograd_only_at_import", "mlp_ref/packs/dlsp_hw1/verdict.py", "if c.case is not None and (calls or import_calls):",
     "if c.case is not None and import_calls:", ["tests/grader/test_autograd_per_case.py"]),
    ("verdict.noise_dropped", "mlp_ref/grader/verdict.py", "[n for _, _, n in group]", "[None for _ in group]", TOL),
    ("verdict.batch_allowance_misplaced", "mlp_ref/grader/verdict.py", "            items[i][4:] = allowed, model",
     "            items[i - 1 if i else i][4:] = allowed, model", TOL + ["tests/grader/test_verdict_batches.py"]),
    ("verdict.float32_answer_float64_tol", "mlp_ref/grader/verdict.py", '            tol = grading_tolerance("float32")\n',
     "            tol = grading_tolerance(expected_dtype)\n", ["tests/grader/test_mixed_dtype_tolerance.py",
                                                    "tests/grader/test_grader_types.py"]),
    # --- diagnose -----------------------------------------------------------------------------------------
    ("diagnose.bce_edge_branch_off", "mlp_ref/packs/dlsp_hw1/diagnose.py", "    bad = rel > 1e-2\n", "    bad = rel > 1e2\n", DIAG),
    ("diagnose.bce_edge_narrow", "mlp_ref/packs/dlsp_hw1/diagnose.py", "EDGE = 1e-2", "EDGE = 1e-4", DIAG),
    ("diagnose.bce_names_allowed_eps", "mlp_ref/packs/dlsp_hw1/diagnose.py", "if float(size) <= BCE_EPS:", "if float(size) <= 0.1 * BCE_EPS:", DIAG),
    ("diagnose.half_mse_factor", "mlp_ref/packs/dlsp_hw1/diagnose.py", "scale_of(ev, (0.5,))", "scale_of(ev, (2.0,))", DIAG),
    ("diagnose.transposed_dW1_only", "mlp_ref/packs/dlsp_hw1/diagnose.py", 'if ev.name not in ("dW1", "dW2") or ev.a.ndim',
     'if ev.name not in ("dW1",) or ev.a.ndim', DIAG),
    ("diagnose.bias_last_row_only", "mlp_ref/packs/dlsp_hw1/diagnose.py", "for row in (0, n - 1):", "for row in (n - 1,):", DIAG),
    ("diagnose.accumulates_from_step_3", "mlp_ref/packs/dlsp_hw1/diagnose.py", "ev.step is None or ev.step < 2:",
     "ev.step is None or ev.step < 3:", DIAG),
    ("diagnose.reductions_forget_n", "mlp_ref/packs/dlsp_hw1/diagnose.py", "for c in (n * k, n, k, 1 / (n * k), 1 / n, 1 / k):",
     "for c in (n * k, k, 1 / (n * k), 1 / n, 1 / k):", DIAG),
    ("diagnose.split_any_gradient", "mlp_ref/packs/dlsp_hw1/diagnose.py", "if c and len(grads_ok) == 4 and all(grads_ok):",
     "if c and len(grads_ok) == 4 and any(grads_ok):", DIAG),
    ("diagnose.wrong_sign_factor", "mlp_ref/packs/dlsp_hw1/diagnose.py", "scale_of(ev, (-1.0,))", "scale_of(ev, (-2.0,))", DIAG),
    ("diagnose.non_finite_nan_only", "mlp_ref/packs/dlsp_hw1/diagnose.py", "bad = ~np.isfinite(ev.a) & np.isfinite(ev.e)",
     "bad = np.isinf(ev.a) & np.isfinite(ev.e)", DIAG),
    # --- sandbox and child: the limits --------------------------------------------------------------------
    ("child.case_timeout_x100", "mlp_ref/packs/dlsp_hw1/runner.py", 'signal.setitimer(signal.ITIMER_REAL, float(opts["case_timeout_s"]))',
     'signal.setitimer(signal.ITIMER_REAL, 100 * float(opts["case_timeout_s"]))', NETS),
    ("child.memory_in_gib", "mlp_ref/grader/child.py", 'int(opts["memory_mb"]) * 2 ** 20', 'int(opts["memory_mb"]) * 2 ** 30', NETS),
    ("child.timeouts_never_give_up", "mlp_ref/grader/child.py", "MAX_TIMEOUTS = 2", "MAX_TIMEOUTS = 200", NETS),
    ("sandbox.whole_run_limit_x10", "mlp_ref/grader/sandbox.py", "deadline = pending.t0 + pending.limits.timeout_s",
     "deadline = pending.t0 + 10 * pending.limits.timeout_s", NETS + ["tests/grader/test_grader_hostile.py"]),
    ("child.inherited_pipes_kept", "mlp_ref/grader/child.py", "        if fd > 2 and fd != keep:",
     "        if fd > 2 and fd > keep:", ["tests/grader/test_grader_hostile.py"]),
    ("sandbox.unpack_size_unchecked", "mlp_ref/grader/sandbox.py", "    if len(raw) != size * kind.itemsize:",
     "    if False:", ["tests/grader/test_grader.py"]),
    ("sandbox.unpack_bool_bytes_kept", "mlp_ref/grader/sandbox.py", 'return (np.frombuffer(raw, dtype=np.uint8) != 0).reshape(shape)',
     'return np.frombuffer(raw, dtype=bool).copy().reshape(shape)', ["tests/grader/test_grader.py"]),
    ("verdict.mutation_check_sets_aside_all", "mlp_ref/packs/dlsp_hw1/verdict.py", "            if original is None:\n",
     "            if original is not None:\n", ["tests/grader/test_grader.py"]),
    # --- gradescope ---------------------------------------------------------------------------------------
    ("gradescope.catch_all_narrowed", "mlp_ref/packs/dlsp_hw1/gradescope.py", "    except BaseException:  # noqa: B036  (Gradescope",
     "    except (OSError, ValueError):  # noqa: B036  (Gradescope", GS),
    ("gradescope.platform_catch_all_narrowed", "mlp_ref/packs/assignment.py", "    except BaseException:  # noqa: B036  (the platform",
     "    except (OSError, ValueError):  # noqa: B036  (the platform", GS),
    ("gradescope.traceback_shown", "mlp_ref/grader/results.py", '"output": trace[-20000:], "visibility": "hidden"}',
     '"output": trace[-20000:], "visibility": "visible"}', GS),
    ("gradescope.points_all_or_nothing", "mlp_ref/packs/dlsp_hw1/gradescope.py", "return self.points * len(self.passed) / len(self.graded)",
     "return self.points * (len(self.passed) == len(self.graded))", GS),
    # --- optim --------------------------------------------------------------------------------------------
    ("optim.adam_no_bias_correction_1", "mlp_ref/optim.py", "step_size = h[\"eps\"] * c, lr / (1 - beta1 ** t) * c",
     "step_size = h[\"eps\"] * c, lr * c", OPT),
    ("optim.adam_beta2_for_m", "mlp_ref/optim.py", "            s *= 1 - beta1\n", "            s *= 1 - beta2\n", OPT),
    ("optim.sgd_momentum_no_decay", "mlp_ref/optim.py", '                buf *= h["momentum"]\n', "                buf *= 1.0\n", OPT),
    ("optim.rmsprop_alpha_flipped", "mlp_ref/optim.py", "            vb *= alpha\n", "            vb *= 1 - alpha\n", OPT),
    # --- the norm and dropout layers ------------------------------------------------------------------------
    ("functional.bn_unbiased_var", "mlp_ref/functional.py", "    var = np.mean(np.square(z_hat), axis=axis, keepdims=axis == 1)\n",
     "    var = np.sum(np.square(z_hat), axis=axis, keepdims=axis == 1) / (z.shape[axis] - 1)\n", NORM),
    ("functional.bn_eps_outside_sqrt", "mlp_ref/functional.py", "inv_std = 1 / np.sqrt(var + eps)  # eps inside",
     "inv_std = 1 / (np.sqrt(var) + eps)  # eps inside", NORM),
    ("functional.bn_backward_drops_dgamma_term", "mlp_ref/functional.py", "    np.multiply(z_hat, dgamma / n, out=prod)\n",
     "    prod[...] = 0\n", NORM),
    ("functional.ln_backward_mean_over_batch", "mlp_ref/functional.py", "dz = inv_std * (dz_hat - dz_hat.mean(axis=1, keepdims=True)",
     "dz = inv_std * (dz_hat - dz_hat.mean(axis=0, keepdims=True)", NORM),
    ("functional.dropout_not_inverted", "mlp_ref/functional.py", "scale = np.multiply(mask, 1 / (1 - p), dtype=h.dtype)",
     "scale = np.multiply(mask, 1.0, dtype=h.dtype)", NORM),
    ("functional.bn_eval_uses_batch_stats", "mlp_ref/functional.py", "    inv_std = 1 / np.sqrt(running_var + eps)\n",
     "    inv_std = 1 / np.sqrt(z.var(axis=0) + eps)\n", NORM),
    # --- parity: the rules for batch norm's float64 drift and the bias before it ---------------------
    ("parity.batch_norm_runs_free", "mlp_ref/parity.py", 'or self.norm == "batch"))', 'or False))', PARITY),
    ("parity.dead_bias_noise_one_step", "mlp_ref/parity.py", "(0 if config.zero_grad else rounding.get(b, 0))", "0", PARITY),
    ("parity.dead_bias_noise_unscaled", "mlp_ref/parity.py", "tol.rtol * np.abs(net.params[f\"gamma{l}\"]) * s * terms", "tol.rtol * terms", PARITY),
    ("parity.dead_bias_noise_x0", "mlp_ref/parity.py", "return tol.rtol * np.abs(net.params", "return 0 * np.abs(net.params", PARITY),
]


def scratch_copy(dest):
    """The tracked and untracked-but-not-ignored files of the tree, copied to dest."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                            capture_output=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def run_one(tree, mutant, timeout):
    mid, rel, old, new, tests = mutant
    path = tree / rel
    original = path.read_text()
    if original.count(old) != 1:
        return "stale", f"the fragment occurs {original.count(old)} times in {rel}", 0.0
    path.write_text(original.replace(old, new, 1))
    env = dict(os.environ, PYTHONPATH=str(tree), PYTHONDONTWRITEBYTECODE="1")
    t0 = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                               *tests], cwd=tree, env=env, capture_output=True, text=True, timeout=timeout)
        # 1: a test failed; 2: collection failed (a mutant that breaks an import is caught too); 5: no tests.
        outcome = {0: "survived", 1: "killed", 2: "killed"}.get(done.returncode, "error")
        tail = (done.stdout.strip().splitlines() or [""])[-1]
    except subprocess.TimeoutExpired:
        outcome, tail = "killed", f"(the tests ran past {timeout} s)"
    finally:
        path.write_text(original)
    return outcome, tail, time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", action="append", default=[], help="run the mutants whose id starts with this")
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    ap.add_argument("--out", default="mutation-survivors.txt", help="where the survivors are written")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds for one mutant's tests")
    args = ap.parse_args(argv)
    chosen = [m for m in MUTANTS if not args.only or any(m[0].startswith(p) for p in args.only)]
    if args.list:
        for mid, rel, old, new, tests in chosen:
            print(f"{mid:42} {rel}: {new.strip()!r}  [{' '.join(tests)}]")
        return 0
    results = []
    with tempfile.TemporaryDirectory(prefix="mlp_ref_mutate_") as tmp:
        tree = Path(tmp)
        scratch_copy(tree)
        for m in chosen:
            outcome, tail, seconds = run_one(tree, m, args.timeout)
            results.append((m[0], outcome, tail))
            print(f"{outcome:9} {seconds:6.1f} s  {m[0]}  {tail}", flush=True)
    survivors = [r for r in results if r[1] != "killed"]
    Path(args.out).write_text("".join(f"{mid}\t{outcome}\t{tail}\n" for mid, outcome, tail in survivors))
    killed = sum(r[1] == "killed" for r in results)
    print(f"mutation: {killed}/{len(results)} killed; {len(survivors)} not killed, written to {args.out}")
    return 0 if not survivors else 1


if __name__ == "__main__":
    sys.exit(main())
