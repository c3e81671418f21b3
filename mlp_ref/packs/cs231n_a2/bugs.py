"""How students get this assignment wrong: each diagnosis, its fix, and the mutant that shows it.

A mutant is the reference (reference.py) with one known mistake, computed on the same case. A failed
unit gets the first diagnosis whose mutant the student's output matches (within the grading
tolerance), or whose shape it has (a transposed dw, a gamma of the wrong width). The dropout
diagnoses are read from the mask itself (grade_dropout.py).
"""
import numpy as np

from mlp_ref import functional as F
from mlp_ref.packs.cs231n_a2 import reference as R
from mlp_ref.packs.cs231n_a2.interface import BN_MOMENTUM, EPS, OPTIM_DEFAULTS
from mlp_ref.tolerances import GRADING

# id -> (what the output shows, the fix).
WORDS = {
    "input_mutated": ("an input array was changed by the call", "work on copies (x = x.copy(), or out-of-place "
                      "operations): the caller still holds its arrays"),
    "transposed_dw": ("dw is the transpose of the right answer", "dw = x.reshape(N, -1).T @ dout, shape (D, M) like w"),
    "db_not_summed": ("db is not summed over the batch", "db = dout.sum(axis=0): b is added to every sample, so its "
                      "gradient sums over them"),
    "relu_mutates_dout": ("relu_backward changed dout in place", "dx = dout * (x > 0), or dx = dout.copy() before "
                          "dx[x <= 0] = 0"),
    "relu_ge_zero": ("relu_backward passes the gradient where x == 0", "use x > 0, not x >= 0: ReLU'(0) is taken "
                     "as 0"),
    "softmax_not_stabilized": ("the loss overflows on large scores", "subtract each row's max before exp: "
                               "shifted = x - x.max(axis=1, keepdims=True)"),
    "loss_not_averaged": ("loss and dx are N times too large", "divide the loss and dx by N (the mean over the batch)"),
    "eps_outside_sqrt": ("eps is added outside the square root", "divide by np.sqrt(var + eps), not np.sqrt(var) + eps"),
    "eps_missing": ("eps is missing", "divide by np.sqrt(var + eps) with eps = bn_param.get('eps', 1e-5)"),
    "unbiased_variance": ("the variance divides by N - 1", "use the biased variance, x.var(axis=0) (ddof=0), in the "
                          "normalization and the running average"),
    "running_stats_in_test_mode": ("test mode mishandles the running statistics (updates them, or normalizes with "
                                   "the test batch's own statistics instead)", "in test mode normalize with "
                                   "running_mean and running_var, and update them in train mode only"),
    "momentum_reversed": ("the running average keeps (1 - momentum) of the old value", "running = momentum * running "
                          "+ (1 - momentum) * batch"),
    "layernorm_wrong_axis": ("layer norm normalizes over the batch axis", "take mean and variance over each row "
                             "(axis=1, keepdims=True)"),
    "layernorm_divides_by_n": ("layer norm's backward divides by N (the batch) where it should divide by D",
                               "in the backward, the row means are over D features: divide by x.shape[1]"),
    "dropout_not_inverted": ("kept units are not divided by the keep probability in training",
                             "inverted dropout: mask = (np.random.rand(*x.shape) < keep) / keep; out = x * mask"),
    "dropout_scaled_in_test": ("test mode scales the output", "in test mode out = x: inverted dropout already scaled "
                               "in training"),
    "dropout_mask_distribution": ("the mask keeps the wrong fraction of units", "mask = np.random.rand(*x.shape) < "
                                  "keep (uniform draws; p is the keep probability from 2018, the drop probability "
                                  "before)"),
    "dropout_mask_shared": ("one mask is shared across the batch or across features", "draw the mask with x's full "
                            "shape: np.random.rand(*x.shape)"),
    "dropout_mask_regenerated": ("dropout_backward draws the mask again instead of using the forward's",
                                 "keep the mask in the cache: cache = (dropout_param, mask); dx = dout * mask"),
    "dropout_seed_ignored": ("two calls with the same seed differ", "if 'seed' in dropout_param: "
                             "np.random.seed(dropout_param['seed']) before drawing the mask"),
    "momentum_sign": ("the velocity's sign is flipped", "v = momentum * v - learning_rate * dw; next_w = w + v"),
    "rmsprop_eps_inside_sqrt": ("eps is inside the square root", "next_w = w - lr * dw / (np.sqrt(cache) + eps)"),
    "adam_t_before_increment": ("the bias correction uses t before it is incremented", "config['t'] += 1 first, "
                                "then correct with 1 - beta ** t"),
    "adam_no_bias_correction": ("Adam's bias correction is missing", "mt = m / (1 - beta1 ** t), vt = v / "
                                "(1 - beta2 ** t); step with mt / (np.sqrt(vt) + eps)"),
    "adam_bias_correction_no_power": ("the bias correction divides by 1 - beta, not 1 - beta ** t",
                                      "use beta1 ** t and beta2 ** t"),
    "l2_missing_layer": ("the L2 term leaves out a layer's weights", "add 0.5 * reg * np.sum(W * W) for every W "
                         "(the last affine layer too), and reg * W to each dW"),
    "l2_missing_half": ("the L2 term lacks its 0.5", "loss += 0.5 * reg * np.sum(W * W), so that dW += reg * W"),
    "gamma_grad_keepdims": ("dgamma/dbeta have shape (1, D)", "sum without keepdims: dgamma = np.sum(dout * x_hat, "
                            "axis=0), shape (D,) like gamma"),
    "running_stats_keepdims": ("running_mean/running_var have shape (1, D)", "take the batch mean and variance "
                               "without keepdims (x.mean(axis=0), shape (D,)), or keep the keepdims ones out of "
                               "the running averages: bn_param's running statistics are (D,) like gamma"),
    "optim_state_not_saved": ("the optimizer's state in config was not updated", "write the new moments back: "
                              "config['m'], config['v'] (config['velocity'], config['cache']) = the new values"),
    "norm_after_relu": ("the norm comes after the ReLU", "the order is affine - norm - relu: normalize the affine "
                        "output, then apply ReLU"),
    "gamma_beta_wrong_width": ("gamma/beta have the wrong width", "gamma_i and beta_i have the width of hidden "
                               "layer i: np.ones(hidden_dims[i]), np.zeros(hidden_dims[i])"),
}


def matches(actual, expected):
    """Whether an output is a mutant's, within the grading tolerance."""
    if actual is None or np.shape(actual) != np.shape(expected):
        return False
    allowed = GRADING["float64"].allowed(expected)
    with np.errstate(invalid="ignore"):
        return bool(np.all(np.abs(np.asarray(actual, np.float64) - expected) <= allowed))


def _norm(x, gamma, beta, axis, inv_std):
    mean = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, keepdims=True)
    return gamma * (x - mean) * inv_std(var) + beta


def _bn_mutants(case):
    i, bn = case.inputs, case.inputs["bn_param"]
    x, g, b = i["x"], i["gamma"], i["beta"]
    d = x.shape[1]
    rm, rv = bn.get("running_mean", np.zeros(d)), bn.get("running_var", np.zeros(d))
    out = {}
    if bn["mode"] == "test":
        for bug, s in (("eps_outside_sqrt", 1 / (np.sqrt(rv) + EPS)), ("eps_missing", 1 / np.sqrt(rv))):
            out[bug] = {"out@batchnorm_forward": g * (x - rm) * s + b}
        out["running_stats_in_test_mode"] = {"out@batchnorm_forward": _norm(x, g, b, 0, lambda v: 1 / np.sqrt(v + EPS))}
        return out
    m = BN_MOMENTUM
    out["eps_outside_sqrt"] = {"out@batchnorm_forward": _norm(x, g, b, 0, lambda v: 1 / (np.sqrt(v) + EPS))}
    out["eps_missing"] = {"out@batchnorm_forward": _norm(x, g, b, 0, lambda v: 1 / np.sqrt(v))}
    n = x.shape[0]
    if n > 1:
        unbiased = x.var(axis=0, ddof=1)
        out["unbiased_variance"] = {"running_var@batchnorm_forward": m * rv + (1 - m) * unbiased}
        out["unbiased_variance/out"] = {"out@batchnorm_forward": _norm(x, g, b, 0, lambda v: 1 / np.sqrt(v * n / (n - 1) + EPS))}
    out["momentum_reversed"] = {"running_mean@batchnorm_forward": (1 - m) * rm + m * x.mean(axis=0)}
    return out


def _ln_mutants(case):
    i = case.inputs
    x, g, b, dout = i["x"], i["gamma"], i["beta"], i["dout"]
    n = x.shape[0]
    _, cache = F.layernorm_forward(x, g, b, EPS)
    dz_hat = dout * g
    dx = cache.inv_std * (dz_hat - dz_hat.sum(axis=1, keepdims=True) / n
                          - cache.z_hat * (dz_hat * cache.z_hat).sum(axis=1, keepdims=True) / n)
    return {"layernorm_wrong_axis": {"out@layernorm_forward": _norm(x, g, b, 0, lambda v: 1 / np.sqrt(v + EPS))},
            "layernorm_divides_by_n": {"dx@layernorm_backward": dx}}


def _optim_mutants(case):
    name, i = case.group, case.inputs
    c = {**OPTIM_DEFAULTS[name], **(i["config"] or {})}
    w, dw, lr = i["w"], i["dw"], c["learning_rate"]
    zeros = np.zeros_like(w)
    if name == "sgd_momentum":
        v = c["momentum"] * c.get("velocity", zeros) - lr * dw
        v_plus = c["momentum"] * c.get("velocity", zeros) + lr * dw
        return {"momentum_sign": {"next_w@sgd_momentum": w - v}, "momentum_sign/plus": {"next_w@sgd_momentum": w + v_plus}}
    if name == "rmsprop":
        cache = c["decay_rate"] * c.get("cache", zeros) + (1 - c["decay_rate"]) * dw * dw
        return {"rmsprop_eps_inside_sqrt": {"next_w@rmsprop": w - lr * dw / np.sqrt(cache + c["epsilon"])}}
    if name == "adam":
        b1, b2, eps, t0 = c["beta1"], c["beta2"], c["epsilon"], c["t"]
        m = b1 * c.get("m", zeros) + (1 - b1) * dw
        v = b2 * c.get("v", zeros) + (1 - b2) * dw * dw

        def step(mt, vt):
            with np.errstate(divide="ignore", invalid="ignore"):
                return {"next_w@adam": w - lr * mt / (np.sqrt(vt) + eps)}
        with np.errstate(divide="ignore", invalid="ignore"):
            return {"adam_t_before_increment": step(m / (1 - b1 ** t0), v / (1 - b2 ** t0)),
                    "adam_no_bias_correction": step(m, v),
                    "adam_bias_correction_no_power": step(m / (1 - b1), v / (1 - b2))}
    return {}


def _layer_mutants(case):
    i = case.inputs
    if case.group == "affine":
        n = i["x"].shape[0]
        return {"db_not_summed": {"db@affine_backward": i["dout"]},
                "db_not_summed/mean": {"db@affine_backward": i["dout"].mean(axis=0)},
                "transposed_dw": {"dw@affine_backward": (i["x"].reshape(n, -1).T @ i["dout"]).T}}
    if case.group == "relu":
        return {"relu_ge_zero": {"dx@relu_backward": i["dout"] * (i["x"] >= 0)}}
    if case.group in ("softmax_loss", "svm_loss"):
        loss, dx = getattr(R, case.group)(i["x"], i["y"])
        n = i["x"].shape[0]
        return {"loss_not_averaged": {f"loss@{case.group}": np.float64(loss * n), f"dx@{case.group}": dx * n}}
    return {}


def model_mutants(case, answer, masks=()):
    """The model's mistakes, on torch's answer: an L2 term left out or without its 0.5; ReLU before the norm."""
    i = case.inputs
    reg = i["reg"]
    ws = sorted(k for k in i["params"] if k.startswith("W"))
    out = {}
    if i["config"] in ("batchnorm", "layernorm"):
        from mlp_ref.packs.cs231n_a2 import oracle  # torch's side, already loaded by the grading that calls this

        wrong = oracle.model(case, masks, i["keep"], len(i["shape"]["hidden"]), norm_first=False)
        out["norm_after_relu"] = {k: v for k, v in wrong.items() if k == "loss" or k.startswith("grad.")}
    if reg:
        total = sum(0.5 * reg * np.sum(i["params"][k] ** 2) for k in ws)
        out["l2_missing_half"] = {"loss": answer["loss"] + total,
                                  **{f"grad.{k}": answer[f"grad.{k}"] + reg * i["params"][k] for k in ws}}
        for k in ws:
            out[f"l2_missing_layer/{k}"] = {"loss": answer["loss"] - 0.5 * reg * np.sum(i["params"][k] ** 2),
                                            f"grad.{k}": answer[f"grad.{k}"] - reg * i["params"][k]}
    return out


MUTANTS = {"affine": _layer_mutants, "relu": _layer_mutants, "softmax_loss": _layer_mutants,
           "svm_loss": _layer_mutants, "batchnorm": _bn_mutants, "layernorm": _ln_mutants,
           "sgd": _optim_mutants, "sgd_momentum": _optim_mutants, "rmsprop": _optim_mutants, "adam": _optim_mutants}


def diagnose(unit, case, arrays, failed, answer, masks=()):
    """The diagnosis id for a unit that failed on quantity `failed` (its key), or None.

    arrays: what the child returned for the case; answer: torch's answers for it; masks: the model's
    dropout masks, for a model case.
    """
    if "@" in failed and failed.split("@")[0] in case.inputs and failed.split("@")[0] not in ("out",):
        return "relu_mutates_dout" if failed == "dout@relu_backward" else "input_mutated"
    if failed == "X@model":
        return "input_mutated"
    if case.group == "softmax_loss" and case.id.endswith("large") and not np.all(np.isfinite(arrays.get(failed, 0.0))):
        return "softmax_not_stabilized"
    if failed.startswith("dw@") and np.shape(arrays.get(failed)) == np.shape(answer[failed])[::-1] \
            and matches(arrays[failed], answer[failed].T):
        return "transposed_dw"
    if case.group == "batchnorm" and case.inputs["bn_param"]["mode"] == "test" and failed.startswith("running_"):
        return "running_stats_in_test_mode"
    actual = arrays.get(failed)
    shape = np.shape(answer.get(failed))
    reshaped = actual is not None and failed in answer and np.shape(actual) != shape \
        and np.size(actual) == np.prod(shape) and matches(np.reshape(actual, shape), answer[failed])
    if reshaped and failed.split("@")[0] in ("dgamma", "dbeta"):
        return "gamma_grad_keepdims"
    if reshaped and failed.split("@")[0] in ("running_mean", "running_var"):
        return "running_stats_keepdims"
    state = failed.split("@")[0]
    config = case.inputs.get("config") if case.group in OPTIM_DEFAULTS else None
    if isinstance(config, dict) and state in config and matches(actual, np.asarray(config[state], np.float64)):
        return "optim_state_not_saved"
    mutants = (MUTANTS.get(case.group, lambda c: {})(case) if case.group != "model"
               else model_mutants(case, answer, masks))
    for bug, outputs in mutants.items():
        if any(k.split("@")[-1] == unit or "@" not in k for k in outputs) and \
                all(matches(arrays.get(k), v) for k, v in outputs.items()) and failed in outputs:
            return bug.split("/")[0]
    for bug, outputs in mutants.items():  # a mutant that explains the failed quantity, if not every one
        if failed in outputs and matches(arrays.get(failed), outputs[failed]):
            return bug.split("/")[0]
    return None
