"""What the grader must say about each submission in the zoo, and why.

EXPECTED[name] is {"passed": True} | {"passed": False, "diagnosis": id} | {"passed": False, "contained": outcome},
the verdict of `mlp-ref check` in its default mode (float32 graded; robustness and the float64 probe
reported, not failing). EXPECTED_STRICT holds only the entries whose verdict changes under --strict
({"passed": False, "float64": False}: the float64 probe fails it). WHY[name] is the one-line reason;
BASE[name] the correct submission a buggy one was copied from. Ids are those of mlp_ref.packs.dlsp_hw1.diagnose;
outcomes those of mlp_ref.grader.sandbox.
"""

EXPECTED = {
    "correct_vectorised.py": {"passed": True},
    "correct_loops.py": {"passed": True},
    "correct_einsum.py": {"passed": True},
    "correct_autograd_imported.py": {"passed": True},
    "correct_numpy.py": {"passed": True},
    "correct_default_dtype_helpers.py": {"passed": True},
    "correct_bce_eps.py": {"passed": True},
    "correct_keras_clamp.py": {"passed": True},
    "correct_functional_loss.py": {"passed": True},
    "correct_numpy_round_trip.py": {"passed": True},
    "correct_fused_bce_gradient.py": {"passed": True},
    "correct_sigmoid_recomputed.py": {"passed": True},
    "correct_item_loss.py": {"passed": True},
    "correct_accumulate.py": {"passed": True},
    "correct_relu_mask.py": {"passed": True},
    "correct_self_attributes.py": {"passed": True},
    "correct_no_grad_table.py": {"passed": True},
    "correct_matmul_ones.py": {"passed": True},
    "correct_zero_grads_in_place.py": {"passed": True},
    "correct_bce_eps_fused.py": {"passed": True},
    "bug_transposed_gradient.py": {"passed": False, "diagnosis": "transposed_gradient"},
    "bug_bias_not_summed.py": {"passed": False, "diagnosis": "bias_not_summed"},
    "bug_bias_not_summed_mean.py": {"passed": False, "diagnosis": "bias_not_summed"},
    "bug_not_mean_reduced.py": {"passed": False, "diagnosis": "not_mean_reduced"},
    "bug_not_mean_reduced_batch.py": {"passed": False, "diagnosis": "not_mean_reduced"},
    "bug_half_mse.py": {"passed": False, "diagnosis": "half_mse"},
    "bug_split_mean_reduction.py": {"passed": False, "diagnosis": "split_mean_reduction"},
    "bug_matmul_for_elementwise.py": {"passed": False, "diagnosis": "matmul_for_elementwise"},
    "bug_missing_activation_branch.py": {"passed": False, "diagnosis": "missing_activation_branch"},
    "bug_wrong_sign.py": {"passed": False, "diagnosis": "wrong_sign"},
    "bug_derivative_at_wrong_point.py": {"passed": False, "diagnosis": "derivative_at_wrong_point"},
    "bug_derivative_at_wrong_point_reverse.py": {"passed": False, "diagnosis": "derivative_at_wrong_point"},
    "bug_relu_derivative_at_zero.py": {"passed": False, "diagnosis": "relu_derivative_at_zero"},
    "bug_gradients_accumulate.py": {"passed": False, "diagnosis": "gradients_accumulate"},
    "bug_input_mutated.py": {"passed": False, "diagnosis": "input_mutated"},
    "bug_autograd_used.py": {"passed": False, "diagnosis": "autograd_used"},
    "bug_autograd_used_backward.py": {"passed": False, "diagnosis": "autograd_used"},
    "bug_non_finite.py": {"passed": False, "diagnosis": "non_finite"},
    "bug_numpy_bias_not_summed.py": {"passed": False, "diagnosis": "bias_not_summed"},
    "bug_sigmoid_derivative_output_layer.py": {"passed": False, "diagnosis": "derivative_at_wrong_point"},
    "bug_mse_grad_batch_only.py": {"passed": False, "diagnosis": "not_mean_reduced"},
    "bug_bias_averaged_hidden.py": {"passed": False, "diagnosis": "bias_not_summed"},
    "bug_bce_clamped.py": {"passed": False, "diagnosis": "bce_clamped"},
    "bug_x_mutated_in_backward.py": {"passed": False, "diagnosis": "input_mutated"},
    "bug_relu_heaviside_one.py": {"passed": False, "diagnosis": "relu_derivative_at_zero"},
    "bug_wrong_sign_bce.py": {"passed": False, "diagnosis": "wrong_sign"},
    "bug_activation_derivative_skipped.py": {"passed": False, "diagnosis": "activation_derivative_skipped"},
    "fragile_exp_overflow.py": {"passed": True},
    "hostile_infinite_loop.py": {"passed": False, "contained": "timeout"},
    "hostile_unkillable_loop.py": {"passed": False, "contained": "timeout"},
    "hostile_sys_exit.py": {"passed": False, "contained": "exited"},
    "hostile_os_exit.py": {"passed": False, "contained": "exited"},
    "hostile_huge_alloc.py": {"passed": False, "contained": "memory_limit"},
    "hostile_print_storm.py": {"passed": False, "contained": "output_flood"},
    "hostile_write_verdict.py": {"passed": False, "diagnosis": "wrong_sign"},
    "hostile_forge_results.py": {"passed": False, "contained": "import_error"},
    "hostile_raises.py": {"passed": False, "unwritten": "backward"},  # not implemented yet: no crash contained
    "broken_syntax.py": {"passed": False, "contained": "import_error"},
    "broken_import.py": {"passed": False, "contained": "import_error"},
    "neither_interface.py": {"passed": False, "contained": "import_error"},
    "neither_interface_partial.py": {"passed": False, "contained": "import_error"},
}

EXPECTED_STRICT = {
    "correct_loops.py": {"passed": False, "diagnosis": "non_finite"},
    "correct_fused_bce_gradient.py": {"passed": False, "diagnosis": "non_finite"},
    "correct_default_dtype_helpers.py": {"passed": False, "float64": False},
    "correct_numpy_round_trip.py": {"passed": False, "float64": False},
    "correct_relu_mask.py": {"passed": False, "float64": False},
    "correct_zero_grads_in_place.py": {"passed": False, "float64": False},
    "fragile_exp_overflow.py": {"passed": False, "diagnosis": "non_finite"},
}

WHY = {
    "correct_vectorised.py": "whole-batch torch ops, torch's BCE clamps: matches torch everywhere",
    "correct_loops.py": "per-sample outer products, hand-written sigmoid; its unclamped BCE log gives inf "
                        "on saturated outputs (robustness only)",
    "correct_einsum.py": "einsum, accumulates into grads torch-style and clears them in clear_grad_and_cache",
    "correct_autograd_imported.py": "imports torch.autograd.grad but never calls it: not a violation",
    "correct_numpy.py": "the NumPy five-stage interface, written without mlp_ref",
    "correct_default_dtype_helpers.py": "torch.ones(n) @ dJdz for the bias, torch.zeros buffers: right in float32; "
                                        "float64 raises (Float vs Double), reported by the probe only",
    "correct_bce_eps.py": "eps = 1e-12 inside BCE's logs and denominators: moves J, dJdy_hat by ~eps / min(y_hat, "
                          "1 - y_hat), below any tolerance",
    "correct_keras_clamp.py": "y_hat clamped to [1e-7, 1 - 1e-7] (Keras's epsilon) before BCE; sigmoid as "
                              "1 / (1 + exp(-z)), torch.addmm",
    "correct_functional_loss.py": "J from F.mse_loss / F.binary_cross_entropy (no autograd), F.linear forward",
    "correct_numpy_round_trip.py": "backward in numpy float64, back via torch.from_numpy(...).float(): float32 "
                                   "grads, which the float64 probe reports",
    "correct_fused_bce_gradient.py": "dJdy_hat = (y_hat - y) / (y_hat (1 - y_hat)) with no clamp, J via log1p: "
                                     "inf on saturated outputs (robustness only)",
    "correct_sigmoid_recomputed.py": "caches z only; backward recomputes a hand-written stable sigmoid",
    "correct_item_loss.py": "J returned as a Python float via .item()",
    "correct_accumulate.py": "grads += into zeros_like buffers, reset by clear_grad_and_cache",
    "correct_relu_mask.py": "ReLU' as (z > 0).float() and torch.heaviside(z, torch.tensor(0.0)): float64 "
                            "heaviside refuses mixed dtypes, reported by the probe only",
    "correct_self_attributes.py": "intermediates on self.z1, self.h, ...; extra keys dJdz1, dJdz2 in grads and "
                                  "batch_size in cache",
    "correct_no_grad_table.py": "torch.no_grad() around every pass; activations from a name -> (f, f') table",
    "correct_matmul_ones.py": "bias gradients, bias broadcast and loss sums as products with a ones vector of "
                              "x's dtype",
    "correct_zero_grads_in_place.py": "grads += into __init__'s torch.zeros, cleared with zero_(): right in float32; "
                                      "in float64 the grads stay float32, reported by the probe only",
    "correct_bce_eps_fused.py": "eps = 1e-8 in BCE's logs and in the fused gradient's denominator: moves dJdy_hat "
                                "by eps / (y_hat (1 - y_hat)) on confident outputs, inside the policy's 1e-7",
    "bug_transposed_gradient.py": "dJdW1 = x^T dJdz1: (D, H), the transpose of torch's (H, D)",
    "bug_bias_not_summed.py": "in the per-sample loop dJdb1 is assigned, not added: the last sample's row "
                              "(right at batch 1)",
    "bug_bias_not_summed_mean.py": "dJdb2 = mean over the batch: 1/N of torch's (right at batch 1)",
    "bug_not_mean_reduced.py": "mse_loss's dJdy_hat not divided by N K (its J is): N K times torch's; bce right",
    "bug_not_mean_reduced_batch.py": "both losses divide by N, not N K: J and dJdy_hat K times torch's",
    "bug_half_mse.py": "mse J and dJdy_hat exactly 1/2 of torch's (the 1/2 squared-error convention); bce right",
    "bug_split_mean_reduction.py": "losses return the unreduced dJdy_hat and backward divides by N K: end-to-end "
                                   "grads right, loss alone N K times and backward alone 1/(N K) times torch's",
    "bug_matmul_for_elementwise.py": "dJdz1 = dJdh @ f'(z1): RuntimeError 'mat1 and mat2 shapes cannot be "
                                     "multiplied (NxH and NxH)' in backward, every case with N != H",
    "bug_missing_activation_branch.py": "no sigmoid branch in activation_derivative: TypeError (Tensor * None) in "
                                        "backward for every f/g with a sigmoid, all others pass",
    "bug_wrong_sign.py": "mse dJdy_hat = 2 (y - y_hat) / N K: exactly -1 times torch's, and so every grad; bce right",
    "bug_derivative_at_wrong_point.py": "sigmoid'(h) instead of sigmoid'(z1): only f = sigmoid fails",
    "bug_derivative_at_wrong_point_reverse.py": "z2 (1 - z2) instead of y_hat (1 - y_hat): only g = sigmoid fails",
    "bug_relu_derivative_at_zero.py": "ReLU'(0) = 1: only cases with a pre-activation exactly 0 fail",
    "bug_gradients_accumulate.py": "clear_grad_and_cache keeps the grads: first backward right, each later one "
                                   "adds onto the stale sum",
    "bug_input_mutated.py": "mse_loss's y_hat -= y overwrites the y_hat it was given; J, dJdy_hat and grads right",
    "bug_autograd_used.py": "torch.autograd.grad in backward: numbers right, forbidden; fails with grad mode off",
    "bug_autograd_used_backward.py": "y_hat.backward(dJdy_hat) in backward: numbers right, forbidden; fails with "
                                     "grad mode off",
    "bug_non_finite.py": "ReLU'(z) = relu(z) / z: NaN in dJdW1, dJdb1 where z1 is exactly 0, torch finite",
    "bug_numpy_bias_not_summed.py": "NumPy interface: db2 += mean of dz2 over the batch: 1/N of torch's",
    "bug_sigmoid_derivative_output_layer.py": "output layer uses sigmoid'(y_hat) instead of sigmoid'(z2): only "
                                              "g = sigmoid fails",
    "bug_mse_grad_batch_only.py": "mse dJdy_hat = 2 (y_hat - y) / N, J right: K times torch's; bce right",
    "bug_bias_averaged_hidden.py": "dJdb1 = mean of dJdz1 over the batch: 1/N of torch's (right at batch 1)",
    "bug_bce_clamped.py": "bce clamps y_hat to [1e-3, 1 - 1e-3]: right on ordinary outputs, wrong on confident ones",
    "bug_x_mutated_in_backward.py": "backward zeroes its cached tensors in place, the caller's x among them; "
                                    "grads right, the next step sees x = 0",
    "bug_relu_heaviside_one.py": "ReLU' = torch.heaviside(z, 1): 1 at z = 0 where torch has 0",
    "bug_wrong_sign_bce.py": "bce dJdy_hat = (y - y_hat) / (y_hat (1 - y_hat)) / N K: exactly -1 times torch's, "
                             "and so every grad; mse right",
    "bug_activation_derivative_skipped.py": "dJdh = dJdy_hat @ W2 (g' left out of the chain): dW1, db1 wrong "
                                            "wherever g' != 1; g = identity right",
    "fragile_exp_overflow.py": "sigmoid = exp(z) / (1 + exp(z)): right on ordinary inputs, NaN once z > 88 in "
                               "float32; the robustness section reports it, --strict fails it",
    "hostile_infinite_loop.py": "forward's while loop never advances its index (stops itself after 60 s)",
    "hostile_unkillable_loop.py": "ignores SIGALRM/SIGTERM/SIGINT and swallows BaseException while spinning in "
                                  "forward: only a kill stops it (stops itself after 60 s)",
    "hostile_sys_exit.py": "sys.exit(0) in forward: status 0 must not read as success",
    "hostile_os_exit.py": "os._exit(0) at import: no exception, no output, status 0",
    "hostile_huge_alloc.py": "np.ones of 50 GB in forward: MemoryError under the memory rlimit",
    "hostile_print_storm.py": "6 MB of prints per forward (60 MB in all), otherwise correct",
    "hostile_forge_results.py": "no MLP; appends forged full-score events to ../results.jsonl and imports the "
                                "grader's oracle: the results travel by pipe and mlp_ref is refused",
    "hostile_write_verdict.py": "writes results.json and report.json claiming a full score into its cwd and "
                                "prints a passing JSON line; the real verdict is wrong_sign (mse dJdy_hat)",
    "hostile_raises.py": "backward raises NotImplementedError",
    "broken_syntax.py": "missing colon after def backward(...): SyntaxError at line 64",
    "broken_import.py": "from mlp_helpers import sigmoid_prime: ModuleNotFoundError at line 6",
    "neither_interface.py": "a class Net and a loss(): no class MLP, no mse_loss, no bce_loss",
    "neither_interface_partial.py": "homework MLP without clear_grad_and_cache, and no bce_loss",
}

# The correct submission each buggy one was copied from; the test keeps the diff small.
BASE = {
    "bug_transposed_gradient.py": "correct_vectorised.py",
    "bug_bias_not_summed.py": "correct_loops.py",
    "bug_bias_not_summed_mean.py": "correct_vectorised.py",
    "bug_not_mean_reduced.py": "correct_vectorised.py",
    "bug_not_mean_reduced_batch.py": "correct_vectorised.py",
    "bug_half_mse.py": "correct_vectorised.py",
    "bug_split_mean_reduction.py": "correct_vectorised.py",
    "bug_matmul_for_elementwise.py": "correct_vectorised.py",
    "bug_missing_activation_branch.py": "correct_vectorised.py",
    "bug_wrong_sign.py": "correct_vectorised.py",
    "bug_derivative_at_wrong_point.py": "correct_vectorised.py",
    "bug_derivative_at_wrong_point_reverse.py": "correct_loops.py",
    "bug_relu_derivative_at_zero.py": "correct_vectorised.py",
    "bug_gradients_accumulate.py": "correct_einsum.py",
    "bug_input_mutated.py": "correct_vectorised.py",
    "bug_autograd_used.py": "correct_vectorised.py",
    "bug_autograd_used_backward.py": "correct_vectorised.py",
    "bug_non_finite.py": "correct_vectorised.py",
    "bug_numpy_bias_not_summed.py": "correct_numpy.py",
    "bug_sigmoid_derivative_output_layer.py": "correct_vectorised.py",
    "bug_mse_grad_batch_only.py": "correct_vectorised.py",
    "bug_bias_averaged_hidden.py": "correct_vectorised.py",
    "bug_bce_clamped.py": "correct_vectorised.py",
    "bug_x_mutated_in_backward.py": "correct_vectorised.py",
    "bug_relu_heaviside_one.py": "correct_vectorised.py",
    "bug_wrong_sign_bce.py": "correct_vectorised.py",
    "bug_activation_derivative_skipped.py": "correct_vectorised.py",
}

# Correct files that do not run in float64: the line the float64 probe must name, and the call on it.
FLOAT64_LINES = {
    "correct_default_dtype_helpers.py": (50, "torch.ones(n)"),
    "correct_numpy_round_trip.py": (53, ".float()"),
    "correct_relu_mask.py": (40, "torch.tensor(0.0)"),
    "correct_zero_grads_in_place.py": (100, ".zero_()"),
}

# Correct files the zoo's own float64 check (test_zoo_sanity.ZOO_RTOL, 1e-7) is too tight for, with the rtol
# they get there: eps 1e-8 over y_hat (1 - y_hat) ~ 3e-4 on the confident case moves dJdy_hat ~3e-5 relative.
ZOO_RTOL_OWN = {"correct_bce_eps_fused.py": {"float64": 1e-4}}

# Where a broken file fails to import; the grader's message must give this line.
ERROR_LINES = {"broken_syntax.py": 64, "broken_import.py": 6, "hostile_raises.py": 66}

# Words the grader's failure message must contain, so a student knows what to fix.
MESSAGE_MENTIONS = {
    "hostile_raises.py": ("not implemented yet: backward",),
    "broken_syntax.py": ("SyntaxError", "64"),
    "broken_import.py": ("mlp_helpers", "6"),
    "neither_interface.py": ("MLP",),
    "neither_interface_partial.py": ("clear_grad_and_cache", "bce_loss"),
}

# Files a hostile submission writes into its working directory; none may reach the grader's own cwd
# or change its verdict.
FORGED_FILES = {"hostile_write_verdict.py": ("results.json", "report.json")}
