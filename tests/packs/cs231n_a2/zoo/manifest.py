"""What the cs231n-a2 pack must say about each package in the zoo, unit by unit, and why.

ENTRIES[name] is a plain dict:
  path      the folder holding the package's cs231n/ (relative to this directory)
  kind      "base" (correct and complete for its year), "bug" (one base with one bug), "hostile"
  variant   "2017": FullyConnectedNet(dropout=0, use_batchnorm=False), p = drop probability, no layer norm
            "2019": FullyConnectedNet(dropout=1, normalization=None), p = keep probability, layer norm
            "2021": FullyConnectedNet(dropout_keep_ratio=1, normalization=None), p = keep probability
  base, file       (bugs) the base it was copied from and the one file that differs
  expected  {unit: "pass" | "fail" | "missing" | "crash" | "timeout" | "n/a"} for every name in UNITS
  diagnosis (bugs) {failing unit: diagnosis id}; every failing unit is named
  inherited (bugs) the FullyConnectedNet units that fail only because a layer they call is wrong
  unreachable      (bugs) units that run the buggy line but where the bug cannot show, and why not
  why       one sentence
  zip       (bases) True where the pack must be handed the package as the course's submission zip
  root      (bases) where cs231n/ sits under path, when deeper than path itself (the pack must find it)
  python2   (bases) True for a 2016 package written in Python 2 (the pack must read it as Python 3)
  contained (hostile) how the sandbox ends the run, where it matters

Conventions the verdicts assume (the course's): a backward is fed the cache of the same package's
forward; dropout_backward is judged against the multiplier its own forward applied; running statistics
are judged in batchnorm_forward only (FullyConnectedNet is judged on the training-mode loss and
gradients, and the plain net on its test-mode scores too); FullyConnectedNet's constructor is judged on its
params' names and shapes before the pack puts its own values in.
"""

LAYER_UNITS = (
    "affine_forward", "affine_backward", "relu_forward", "relu_backward", "softmax_loss", "svm_loss",
    "batchnorm_forward", "batchnorm_backward", "batchnorm_backward_alt", "layernorm_forward", "layernorm_backward",
    "dropout_forward", "dropout_backward",
)
OPTIM_UNITS = ("sgd", "sgd_momentum", "rmsprop", "adam")
FC_UNITS = tuple(f"FullyConnectedNet[{k}]" for k in ("plain", "batchnorm", "layernorm", "dropout", "reg"))
UNITS = LAYER_UNITS + OPTIM_UNITS + FC_UNITS
FC_ALL = FC_UNITS
OPTIM_ALL = OPTIM_UNITS
STATUSES = ("pass", "fail", "missing", "crash", "timeout", "n/a")
VARIANTS = ("2017", "2019", "2021")


def verdicts(variant, svm=True, **changes):
    """Every unit "pass", "n/a" where the year has no such unit, then `changes` ({unit: status})."""
    expected = dict.fromkeys(UNITS, "pass")
    if not svm:
        expected["svm_loss"] = "n/a"
    if variant == "2017":
        for unit in ("layernorm_forward", "layernorm_backward", "FullyConnectedNet[layernorm]"):
            expected[unit] = "n/a"
    for unit, status in changes.get("changes", {}).items():
        assert unit in expected and status in STATUSES, (unit, status)
        expected[unit] = status
    return expected


def _base(name, variant, why, svm=True, **extra):
    return {"path": f"bases/{name}", "kind": "base", "variant": variant, "svm": svm,
            "expected": verdicts(variant, svm), "why": why, **extra}


BASES = {
    "b2017_loops": _base("b2017_loops", "2017",
        "2-space 2017 file: affine, softmax and svm with per-sample loops; batch norm node by node with a tuple "
        "of intermediates; layer_utils.py shipped with a student-added affine_norm_relu pair; Adam's t defaults to 1"),
    "b2017_vectorized": _base("b2017_vectorized", "2017",
        "vectorised; batch norm cache (x_hat, gamma, inv_std); dropout mask kept boolean and scaled in both "
        "directions; no layer_utils.py and no cs231n/__init__.py: fc_net calls layers.py only, with batchnorm_backward_alt"),
    "b2017_dictcache": _base("b2017_dictcache", "2017",
        "batch norm cache as a dict, the paper's dvar/dmean backward; ReLU caches its mask; fc_net star-imports "
        "cs231n.layer_utils but the package omits it, so the course's affine_relu pair must be stood in"),
    "b2019_graph": _base("b2019_graph", "2019",
        "node-by-node batch norm; layer norm by transposing and reusing batchnorm_forward/backward_alt; "
        "layer_utils.py imports fast_layers.py, which prints a build hint at import"),
    "b2019_recompute": _base("b2019_recompute", "2019",
        "the norm caches hold the input and the backward recomputes mean, variance and x_hat; dropout mask from "
        "np.random.binomial (another mask than rand() < p for the same seed, same distribution); np.where ReLU"),
    "b2019_einsum": _base("b2019_einsum", "2019",
        "einsum affine; layer norm on axis 1 with keepdims; neither layer_utils.py nor fast_layers.py shipped "
        "though fc_net imports layer_utils"),
    "b2019_zip": _base("b2019_zip", "2019",
        "dict caches for both norms; Adam in the paper's efficient form (corrections folded into the step and "
        "epsilon); handed over as the course's submission zip", zip=True),
    "b2019_graphln": _base("b2019_graphln", "2019",
        "layer norm written node by node on axis 1; ReLU by copy and masked assignment; optimizers through "
        "local variables written back to config; no cs231n/__init__.py"),
    "b2021_vectorized": _base("b2021_vectorized", "2021",
        "dropout_keep_ratio signature; f-string parameter names; svm_loss kept (copied from assignment 1)"),
    "b2021_nosvm": _base("b2021_nosvm", "2021",
        "a later year without svm_loss; one-hot softmax; recomputing batch norm; no layer_utils.py, no "
        "__init__.py anywhere", svm=False),
    "b2021_dictcache": _base("b2021_dictcache", "2021",
        "dict caches, boolean dropout mask, the course's affine_relu pair shipped in layer_utils.py"),
    "b2021_inplace": _base("b2021_inplace", "2021",
        "in-place idioms that stay correct: out[out < 0] = 0 on a copy, running statistics updated with *= and "
        "+=, `out += beta` on a fresh array; Adam's and SGD's course-given in-place `w -=`"),
    "b2021_regen": _base("b2021_regen", "2021",
        "dropout keeps the generator's state, not the mask, and the backward draws the same mask again; "
        "running statistics updated in place; no classifiers/__init__.py"),
    "b2016_py2": _base("b2016_py2", "2017",
        "the 2016 assignment's Python 2: 2-space indents, xrange without an import, the course's own "
        "`self.params.iteritems()` cast and `bn_param[mode] = mode` (which leaves the net in train mode at test "
        "time: the pack must not grade that) and a print statement in fc_net.py; dict caches; batch norm's variance "
        "as E[x^2] - E[x]^2; a helper that skips the norm on a flag; Adam and RMSProp named (x, dx)",
        python2=True),
    "b2019_py2compat": _base("b2019_py2compat", "2019",
        "Python 2 and numpy 1 habits met in public submissions: past.builtins' xrange in loops (the future package, "
        "which a grader need not have), np.float in astype and np.product for D (both gone from numpy 2), caches "
        "as a list fc_net pops in reverse, layer norm on the transpose with gamma as a column; no layer_utils.py"),
    "b2021_repo": _base("b2021_repo", "2021",
        "a whole course repository as pushed to GitHub: assignment1/ and assignment3/ hold cs231n/ packages too "
        "(assignment3's layers.py has affine_forward), notebooks, a Cython .pyx, setup.py, cnn.py, data_utils.py "
        "importing imageio; fc_net calls student-written layer_utils helpers by keyword",
        svm=False, root="cs231n-spring2021/assignment2"),
    "b2023_nosvm": _base("b2023_nosvm", "2021",
        "no svm_loss; node-by-node batch norm, layer norm through batchnorm_backward_alt on the transpose",
        svm=False),
}


def _bug(folder, base, file, diagnosis, why, changes=None, unreachable=None):
    variant, svm = BASES[base]["variant"], BASES[base]["svm"]
    changes = dict(changes or {})
    for unit in diagnosis:
        changes.setdefault(unit, "fail")
    expected = verdicts(variant, svm, changes=changes)
    # A net that fails through a layer it calls gets the layer's diagnosis, marked as inherited.
    inherited = sorted(u for u, s in expected.items() if s == "fail" and u in FC_UNITS and file == L)
    diagnosis = {**{u: next(iter(diagnosis.values())) for u in inherited}, **diagnosis}
    entry = {"path": f"bugs/{folder}", "kind": "bug", "base": base, "file": file, "variant": variant,
             "expected": expected, "diagnosis": diagnosis, "inherited": inherited, "why": why}
    if unreachable:
        entry["unreachable"] = unreachable
    return entry


L, O, F = "cs231n/layers.py", "cs231n/optim.py", "cs231n/classifiers/fc_net.py"
FC_2017 = ("FullyConnectedNet[plain]", "FullyConnectedNet[batchnorm]", "FullyConnectedNet[dropout]", "FullyConnectedNet[reg]")


def _all(units, status="fail"):
    return {u: status for u in units}


BUGS = {
    "transposed_dw": _bug("transposed_dw", "b2019_graph", L, {"affine_backward": "transposed_dw"},
        "dw = dout.T x_flat is (M, D), the transpose of w's shape; every net uses affine_backward",
        changes=_all(FC_ALL)),
    "db_not_summed": _bug("db_not_summed", "b2021_vectorized", L, {"affine_backward": "db_not_summed"},
        "db is the batch mean of dout, 1/N of the sum", changes=_all(FC_ALL)),
    "relu_mutates_dout": _bug("relu_mutates_dout", "b2021_inplace", L, {"relu_backward": "relu_mutates_dout"},
        "the copy is gone: `dx = dout; dx[x <= 0] = 0` zeroes the caller's upstream gradient; the values are right",
        unreachable={"FullyConnectedNet[*]": "the net hands relu_backward a fresh array nobody reads again"}),
    "relu_ge_zero": _bug("relu_ge_zero", "b2017_vectorized", L, {"relu_backward": "relu_ge_zero"},
        "dout * (x >= 0) takes ReLU'(0) = 1; only an input with exact zeros shows it",
        unreachable={"FullyConnectedNet[*]": "pre-activations from random data are never exactly 0"}),
    "softmax_not_stabilized": _bug("softmax_not_stabilized", "b2019_einsum", L,
        {"softmax_loss": "softmax_not_stabilized"},
        "exp of the raw scores: overflows to inf/nan for scores near 1000 (a large common offset, modest spread, "
        "where the course's own max-shifted form stays finite)",
        unreachable={"FullyConnectedNet[*]": "the nets' scores are small"}),
    "loss_not_averaged": _bug("loss_not_averaged", "b2017_loops", L, {"softmax_loss": "loss_not_averaged"},
        "the per-sample loop never divides the loss or dx by N", changes=_all(FC_2017)),
    "loss_not_averaged_svm": _bug("loss_not_averaged_svm", "b2021_vectorized", L, {"svm_loss": "loss_not_averaged"},
        "svm loss and dx summed over the batch, not averaged; the nets use softmax_loss"),
    "eps_outside_sqrt": _bug("eps_outside_sqrt", "b2019_recompute", L,
        {"batchnorm_forward": "eps_outside_sqrt", "FullyConnectedNet[batchnorm]": "eps_outside_sqrt"},
        "x_hat = (x - mu) / (sqrt(var) + eps) in training mode; the backward recomputes from the cached input "
        "with sqrt(var + eps), so the backward units pass"),
    "eps_missing": _bug("eps_missing", "b2021_nosvm", L,
        {"batchnorm_forward": "eps_missing", "FullyConnectedNet[batchnorm]": "eps_missing"},
        "x_hat = (x - mu) / sqrt(var) in training mode; the recomputing backward keeps eps and passes"),
    "unbiased_variance": _bug("unbiased_variance", "b2019_recompute", L,
        {"batchnorm_forward": "unbiased_variance", "FullyConnectedNet[batchnorm]": "unbiased_variance"},
        "np.var(ddof=1) (torch's running_var convention) normalises the batch and feeds the running variance; "
        "the recomputing backward uses the biased variance and passes"),
    "running_stats_in_test_mode": _bug("running_stats_in_test_mode", "b2017_vectorized", L,
        {"batchnorm_forward": "running_stats_in_test_mode"},
        "test mode normalises with the test batch's own mean and variance instead of the running statistics",
        unreachable={"FullyConnectedNet[batchnorm]": "judged on training-mode loss and gradients"}),
    "momentum_reversed": _bug("momentum_reversed", "b2019_graph", L, {"batchnorm_forward": "momentum_reversed"},
        "running = (1 - momentum) running + momentum batch: the running statistics follow the last batch",
        unreachable={"FullyConnectedNet[batchnorm]": "running statistics never enter training-mode outputs",
                     "layernorm_*": "layer norm reuses batchnorm_forward in training mode on a throwaway bn_param"}),
    "layernorm_wrong_axis": _bug("layernorm_wrong_axis", "b2019_recompute", L,
        {"layernorm_forward": "layernorm_wrong_axis", "FullyConnectedNet[layernorm]": "layernorm_wrong_axis"},
        "mean and variance over the batch axis (batch norm without running statistics); the recomputing "
        "backward uses axis 1 and passes"),
    "layernorm_divides_by_n": _bug("layernorm_divides_by_n", "b2019_einsum", L,
        {"layernorm_backward": "layernorm_divides_by_n", "FullyConnectedNet[layernorm]": "layernorm_divides_by_n"},
        "the batch-norm formula kept N where layer norm needs D (visible whenever N != D)"),
    "dropout_not_inverted": _bug("dropout_not_inverted", "b2021_vectorized", L,
        {"dropout_forward": "dropout_not_inverted", "FullyConnectedNet[dropout]": "dropout_not_inverted"},
        "the mask is 0/1 with no 1/p: kept units are not scaled, the expected activation shrinks by p; the "
        "backward multiplies by the same cached mask, consistent with its forward"),
    "dropout_scaled_in_test": _bug("dropout_scaled_in_test", "b2019_graph", L,
        {"dropout_forward": "dropout_scaled_in_test"},
        "vanilla-dropout habit on top of inverted dropout: test mode returns x * p",
        unreachable={"FullyConnectedNet[dropout]": "judged in training mode", "dropout_backward": "train mode unchanged"}),
    "dropout_mask_distribution": _bug("dropout_mask_distribution", "b2019_einsum", L,
        {"dropout_forward": "dropout_mask_distribution", "FullyConnectedNet[dropout]": "dropout_mask_distribution"},
        "(rand > p) / p: keeps with probability 1 - p but scales by 1 / p (the drop-probability sense of p in "
        "a keep-probability year)"),
    "dropout_mask_distribution_p_as_keep": _bug("dropout_mask_distribution_p_as_keep", "b2017_loops", L,
        {"dropout_forward": "dropout_mask_distribution", "FullyConnectedNet[dropout]": "dropout_mask_distribution"},
        "the later years' (rand < p) / p in a year where p is the drop probability: keeps p, not 1 - p "
        "(the mean is preserved, the keep rate is not)"),
    "dropout_mask_shared": _bug("dropout_mask_shared", "b2021_dictcache", L,
        {"dropout_forward": "dropout_mask_shared", "FullyConnectedNet[dropout]": "dropout_mask_shared"},
        "rand(*x.shape[1:]): one mask of shape (D,) broadcast over every sample of the batch"),
    "dropout_mask_regenerated": _bug("dropout_mask_regenerated", "b2021_regen", L,
        {"dropout_backward": "dropout_mask_regenerated"},
        "the backward reseeds with dropout_param's seed to redraw the mask instead of restoring the saved "
        "state: right only when a seed was given, a fresh random mask otherwise",
        unreachable={"FullyConnectedNet[dropout]": "judged with a seed, which makes the redrawn mask the same",
                     "dropout_forward": "unchanged"}),
    "momentum_sign": _bug("momentum_sign", "b2017_loops", O, {"sgd_momentum": "momentum_sign"},
        "v = mu v - lr dw, then w - v: the step goes uphill"),
    "rmsprop_eps_inside_sqrt": _bug("rmsprop_eps_inside_sqrt", "b2019_graph", O,
        {"rmsprop": "rmsprop_eps_inside_sqrt"},
        "dw / sqrt(cache + epsilon) instead of dw / (sqrt(cache) + epsilon); visible when cache is small"),
    "adam_t_before_increment": _bug("adam_t_before_increment", "b2021_vectorized", O,
        {"adam": "adam_t_before_increment"},
        "bias correction with the old t, t incremented after the update (from t = 0 the first step divides by 0)"),
    "adam_no_bias_correction": _bug("adam_no_bias_correction", "b2019_recompute", O,
        {"adam": "adam_no_bias_correction"}, "the step uses the raw m and v"),
    "adam_bias_correction_no_power": _bug("adam_bias_correction_no_power", "b2017_vectorized", O,
        {"adam": "adam_bias_correction_no_power"}, "m / (1 - beta1) and v / (1 - beta2): no power of t"),
    "l2_missing_layer": _bug("l2_missing_layer", "b2019_graph", F, {"FullyConnectedNet[reg]": "l2_missing_layer"},
        "the regularisation loop stops at L - 1: the output layer's W is neither penalised nor decayed"),
    "l2_missing_half": _bug("l2_missing_half", "b2021_vectorized", F, {"FullyConnectedNet[reg]": "l2_missing_half"},
        "reg * sum W^2 in the loss while the gradient adds reg * W: loss and gradients disagree"),
    "gamma_beta_wrong_width": _bug("gamma_beta_wrong_width", "b2021_dictcache", F,
        {"FullyConnectedNet[batchnorm]": "gamma_beta_wrong_width", "FullyConnectedNet[layernorm]": "gamma_beta_wrong_width"},
        "gamma_i and beta_i sized by the layer's input width dims[i], not its output width; running it raises "
        "a broadcasting error whenever the widths differ"),
    "input_mutated": _bug("input_mutated", "b2021_inplace", L, {"batchnorm_forward": "input_mutated"},
        "`xc = x; xc -= mu` centres the caller's x in place; every value is right",
        unreachable={"FullyConnectedNet[batchnorm]": "the net's batch-norm input is a fresh array",
                     "batchnorm_backward*": "the cache holds the centred values it needs"}),
    "input_mutated_dout": _bug("input_mutated_dout", "b2019_graph", L, {"dropout_backward": "input_mutated"},
        "`dout *= mask` writes into the upstream gradient; the values are right",
        unreachable={"FullyConnectedNet[dropout]": "the net's upstream gradient is a fresh array"}),
    "gamma_grad_keepdims": _bug("gamma_grad_keepdims", "b2021_vectorized", L,
        {"batchnorm_backward": "gamma_grad_keepdims", "FullyConnectedNet[batchnorm]": "gamma_grad_keepdims"},
        "seen in real submissions: sums with keepdims=True return dgamma and dbeta as (1, D), which the "
        "notebook's rel_error broadcasts and accepts; the alt backward and layer norm (through the alt) are untouched"),
    "optim_state_not_saved": _bug("optim_state_not_saved", "b2019_einsum", O, {"adam": "optim_state_not_saved"},
        "seen in real submissions (moments kept in locals or reset each call): m and v never written back to "
        "config, so the first step is right and the second starts from stale moments"),
    "running_stats_keepdims": _bug("running_stats_keepdims", "b2019_recompute", L,
        {"batchnorm_forward": "running_stats_keepdims"},
        "seen in real submissions: the batch mean and variance taken with keepdims=True feed the running averages, "
        "which become (1, D); the output broadcasts and stays right, and test mode broadcasts the (1, D) statistics",
        unreachable={"FullyConnectedNet[batchnorm]": "running statistics never enter training-mode outputs",
                     "batchnorm_backward*": "the recomputing backward reads only the cached input"}),
    "norm_after_relu": _bug("norm_after_relu", "b2017_dictcache", F,
        {"FullyConnectedNet[batchnorm]": "norm_after_relu"},
        "a layer-order mistake: affine - relu - batchnorm instead of affine - batchnorm - relu, forward and "
        "backward consistently"),
}

HOSTILE = {
    "infinite_loop": {"path": "hostile/infinite_loop", "kind": "hostile", "base": "b2021_vectorized",
        "variant": "2021", "contained": "timeout",
        "expected": verdicts("2021", changes={"relu_backward": "timeout", **_all(FC_ALL, "timeout")}),
        "why": "relu_backward's while loop never increments its index; every net calls relu_backward"},
    "raises_at_import": {"path": "hostile/raises_at_import", "kind": "hostile", "base": "b2019_graph",
        "variant": "2019", "contained": "import_error",
        "expected": verdicts("2019", changes=_all(OPTIM_ALL, "crash")),
        "why": "test code left at the bottom of optim.py raises TypeError at import; layers.py and fc_net never "
               "import optim, so only the four optimizers are lost"},
    "missing_optim": {"path": "hostile/missing_optim", "kind": "hostile", "base": "b2021_dictcache",
        "variant": "2021", "expected": verdicts("2021", changes=_all(OPTIM_ALL, "missing")),
        "why": "the package has no optim.py at all"},
    "partial_layernorm": {"path": "hostile/partial_layernorm", "kind": "hostile", "base": "b2019_recompute",
        "variant": "2019",
        "expected": verdicts("2019", changes={"layernorm_forward": "missing", "layernorm_backward": "missing",
                                               "FullyConnectedNet[layernorm]": "missing"}),
        "why": "a 2019 package whose layers.py stops before layer norm; fc_net still calls layernorm_forward "
               "(NameError) when normalization='layernorm': unfinished, so the net waits on the missing layers"},
    "print_flood": {"path": "hostile/print_flood", "kind": "hostile", "base": "b2019_einsum",
        "variant": "2019", "contained": "output_flood",
        "expected": verdicts("2019", changes={"affine_forward": "crash", "affine_backward": "crash",
                                               **_all(FC_ALL, "crash")}),
        "why": "a debugging print left in a million-iteration loop inside affine_forward; affine_backward "
               "runs it too (it is fed its own forward's cache), and so does every net"},
}

ENTRIES = {**BASES, **{f"bug:{k}": v for k, v in BUGS.items()}, **{f"hostile:{k}": v for k, v in HOSTILE.items()}}

# The pack's diagnosis ids this zoo exercises: the pack's design named the first block; the second adds
# mistakes met in the study of public submissions (gamma_grad_keepdims, optim_state_not_saved,
# running_stats_keepdims) and two
# plausible ones (norm_after_relu, dropout_mask_regenerated).
DIAGNOSES = (
    "transposed_dw", "db_not_summed", "relu_mutates_dout", "relu_ge_zero", "softmax_not_stabilized",
    "loss_not_averaged", "eps_outside_sqrt", "eps_missing", "unbiased_variance", "running_stats_in_test_mode",
    "momentum_reversed", "layernorm_wrong_axis", "layernorm_divides_by_n", "dropout_not_inverted",
    "dropout_scaled_in_test", "dropout_mask_distribution", "dropout_mask_shared", "momentum_sign",
    "rmsprop_eps_inside_sqrt", "adam_t_before_increment", "adam_no_bias_correction",
    "adam_bias_correction_no_power", "l2_missing_layer", "l2_missing_half", "gamma_beta_wrong_width",
    "input_mutated",
    "gamma_grad_keepdims", "optim_state_not_saved", "norm_after_relu", "dropout_mask_regenerated",
    "running_stats_keepdims",
)
