"""What a student's `cs231n/` package offers: the units, where each lives, its signature, by section.

Written from the assignment's public interface (the function names, arguments and return values its
notebooks call), not from the course's files. Shapes: N batch, D input features (x may arrive as
(N, d1, ..., dk) with D = d1 ... dk), M outputs of an affine layer, C classes.
"""

# section -> its units, in report order. FullyConnectedNet is graded twice per configuration: with
# the pack's reference layers in place of the student's (one wrong layer costs its own unit only),
# and end to end with the student's own layers ("own layers").
MODEL_CONFIGS = ("plain", "batchnorm", "layernorm", "dropout", "reg")
OWN = " (own layers)"
SECTIONS = {
    "layers": ("affine_forward", "affine_backward", "relu_forward", "relu_backward", "softmax_loss", "svm_loss"),
    "batchnorm": ("batchnorm_forward", "batchnorm_backward", "batchnorm_backward_alt"),
    "layernorm": ("layernorm_forward", "layernorm_backward"),
    "dropout": ("dropout_forward", "dropout_backward"),
    "optim": ("sgd", "sgd_momentum", "rmsprop", "adam"),
    "fc_net": tuple(f"FullyConnectedNet[{c}]{own}" for c in MODEL_CONFIGS for own in ("", OWN)),
}
UNITS = tuple(u for units in SECTIONS.values() for u in units)
SECTION_OF = {u: s for s, units in SECTIONS.items() for u in units}

# The module of the package each function is looked up in (the layers move to assignment 1 in later
# years, but the package still exposes them as cs231n.layers).
MODULE = {**{u: "layers" for s in ("layers", "batchnorm", "layernorm", "dropout") for u in SECTIONS[s]},
          **{u: "optim" for u in SECTIONS["optim"]}}
MODEL_MODULE, MODEL_CLASS = "classifiers.fc_net", "FullyConnectedNet"

# A backward is fed the student's own forward cache: the forward it needs.
FORWARD_OF = {"affine_backward": "affine_forward", "relu_backward": "relu_forward",
              "batchnorm_backward": "batchnorm_forward", "batchnorm_backward_alt": "batchnorm_forward",
              "layernorm_backward": "layernorm_forward", "dropout_backward": "dropout_forward"}

# The signatures, as the student's files state them (the templates are written from these).
SIGNATURES = {
    "affine_forward": ("x, w, b", "out, cache", "x: (N, d1, ..., dk), w: (D, M), b: (M,) -> out: (N, M)"),
    "affine_backward": ("dout, cache", "dx, dw, db", "dout: (N, M) -> dx: x's shape, dw: (D, M), db: (M,)"),
    "relu_forward": ("x", "out, cache", "out = max(0, x), any shape"),
    "relu_backward": ("dout, cache", "dx", "dx = dout where x > 0, else 0"),
    "softmax_loss": ("x, y", "loss, dx", "x: (N, C) scores, y: (N,) labels -> mean cross-entropy, dx: (N, C)"),
    "svm_loss": ("x, y", "loss, dx", "x: (N, C) scores, y: (N,) labels -> mean multiclass hinge (margin 1), dx"),
    "batchnorm_forward": ("x, gamma, beta, bn_param", "out, cache",
                          "x: (N, D); bn_param: mode 'train'|'test', eps, momentum, running_mean, running_var"),
    "batchnorm_backward": ("dout, cache", "dx, dgamma, dbeta", "dout: (N, D) -> (N, D), (D,), (D,)"),
    "batchnorm_backward_alt": ("dout, cache", "dx, dgamma, dbeta", "as batchnorm_backward, simplified on paper"),
    "layernorm_forward": ("x, gamma, beta, ln_param", "out, cache", "x: (N, D), statistics over each row; ln_param: eps"),
    "layernorm_backward": ("dout, cache", "dx, dgamma, dbeta", "dout: (N, D) -> (N, D), (D,), (D,)"),
    "dropout_forward": ("x, dropout_param", "out, cache", "dropout_param: p, mode 'train'|'test', optional seed"),
    "dropout_backward": ("dout, cache", "dx", "the forward's mask, the forward's scale"),
    "sgd": ("w, dw, config=None", "next_w, config", "config: learning_rate"),
    "sgd_momentum": ("w, dw, config=None", "next_w, config", "config: learning_rate, momentum, velocity"),
    "rmsprop": ("w, dw, config=None", "next_w, config", "config: learning_rate, decay_rate, epsilon, cache"),
    "adam": ("w, dw, config=None", "next_w, config", "config: learning_rate, beta1, beta2, epsilon, m, v, t"),
}

# Optimizer defaults, as the assignment states them.
OPTIM_DEFAULTS = {
    "sgd": {"learning_rate": 1e-2},
    "sgd_momentum": {"learning_rate": 1e-2, "momentum": 0.9},
    "rmsprop": {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8},
    "adam": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "t": 0},
}
OPTIM_STATE = {"sgd": (), "sgd_momentum": ("velocity",), "rmsprop": ("cache",), "adam": ("m", "v", "t")}

# The course's batch norm: running = momentum * running + (1 - momentum) * batch.
BN_MOMENTUM, EPS = 0.9, 1e-5
