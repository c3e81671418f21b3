"""The inputs each unit is graded on, built the same way in the grader and in the child from one seed.

float64 throughout, as the course works. Upstream gradients are random and non-uniform (a uniform one
makes batch norm's input gradient vanish and hides its bugs); ReLU gets exact zeros (its kink); batch
norm gets a near-constant column and layer norm a near-constant row (variance ~1e-8, below eps = 1e-5,
so where eps sits shows); batch norm runs in train and test mode with running statistics given; the
optimizers get tiny second moments (so eps inside or outside the square root shows) and a later t.
"""
from typing import NamedTuple

import numpy as np

from mlp_ref.packs.cs231n_a2.interface import MODEL_CONFIGS, OWN

# Which units a group of calls grades: one child call sequence feeds a forward and its backward.
GROUP_UNITS = {"affine": ("affine_forward", "affine_backward"), "relu": ("relu_forward", "relu_backward"),
               "softmax_loss": ("softmax_loss",), "svm_loss": ("svm_loss",),
               "batchnorm": ("batchnorm_forward", "batchnorm_backward", "batchnorm_backward_alt"),
               "layernorm": ("layernorm_forward", "layernorm_backward"),
               "dropout": ("dropout_forward", "dropout_backward"),
               "sgd": ("sgd",), "sgd_momentum": ("sgd_momentum",), "rmsprop": ("rmsprop",), "adam": ("adam",)}
# The model: N, input_dim, hidden_dims, num_classes; reg for the [reg] configuration.
MODEL_SHAPE = dict(n=5, d=6, hidden=(7, 6), c=4)
MODEL_REG = 0.3
# Dropout inside the model: wide enough (2400 and 2000 units) that its keep rate and sharing show.
DROPOUT_MODEL_SHAPE = dict(n=40, d=6, hidden=(60, 50), c=4)
MODEL_KEEP = 0.6
DROPOUT_KEEP = (0.3, 0.75)
DROPOUT_SHAPE = (100, 100)


class Case(NamedTuple):
    id: str
    group: str
    inputs: dict
    units: tuple

    def array(self, name):
        """A fresh copy of an input, so what a submission does to it never reaches the next call."""
        v = self.inputs[name]
        return v.copy() if isinstance(v, np.ndarray) else v


def _kinked(rng, shape):
    x = rng.standard_normal(shape)
    x.flat[:: 3] = 0.0  # ReLU's kink, hit exactly: random inputs never land on it
    return x


def _nonuniform(rng, shape):
    """A random upstream gradient, far from uniform."""
    return rng.standard_normal(shape) * rng.uniform(0.5, 2.0, shape)


def build(seed=0, variant=None):
    """Every case, in the order they run. `variant` (variants.Variant) sets dropout's p."""
    rng = np.random.default_rng(seed)
    out = []

    def add(cid, group, units=None, **inputs):
        out.append(Case(cid, group, inputs, units or GROUP_UNITS[group]))

    for i, (shape, m) in enumerate((((4, 2, 3), 5), ((1, 7), 3))):
        d = int(np.prod(shape[1:]))
        add(f"affine/{i}", "affine", x=rng.standard_normal(shape), w=rng.standard_normal((d, m)),
            b=rng.standard_normal(m), dout=_nonuniform(rng, (shape[0], m)))
    add("relu/0", "relu", x=_kinked(rng, (5, 6)), dout=_nonuniform(rng, (5, 6)))
    y = rng.integers(0, 5, 6)
    add("softmax_loss/0", "softmax_loss", x=rng.standard_normal((6, 5)), y=y)
    # Scores in the thousands: exp overflows unless the row's max is subtracted first.
    add("softmax_loss/large", "softmax_loss", x=rng.standard_normal((6, 5)) * 50 + 1000.0, y=y)
    add("svm_loss/0", "svm_loss", x=rng.standard_normal((6, 5)), y=rng.integers(0, 5, 6))

    def norm_input(n, d, axis):
        x = rng.standard_normal((n, d)) * rng.uniform(0.5, 3.0, d) + rng.uniform(-2, 2, d)
        if axis == 0:
            x[:, 0] = 3.0 + 1e-4 * rng.standard_normal(n)  # a near-constant column: var ~1e-8 << eps
        else:
            x[0] = 2.0 + 1e-4 * rng.standard_normal(d)     # a near-constant row
        return x

    for i, (n, d, given) in enumerate(((8, 5, True), (3, 4, False))):
        bn = {"mode": "train"}
        if given:
            bn.update(running_mean=rng.standard_normal(d), running_var=rng.uniform(0.5, 2.0, d))
        add(f"batchnorm/train{i}", "batchnorm", x=norm_input(n, d, 0), gamma=rng.uniform(0.5, 2.0, d),
            beta=rng.standard_normal(d), dout=_nonuniform(rng, (n, d)), bn_param=bn)
    d = 5
    running_var = rng.uniform(0.5, 2.0, d)
    running_var[0] = 1e-8  # eps inside the square root matters here
    add("batchnorm/test", "batchnorm", ("batchnorm_forward",), x=rng.standard_normal((6, d)),
        gamma=rng.uniform(0.5, 2.0, d), beta=rng.standard_normal(d),
        bn_param={"mode": "test", "running_mean": rng.standard_normal(d), "running_var": running_var})
    add("layernorm/0", "layernorm", x=norm_input(6, 8, 1), gamma=rng.uniform(0.5, 2.0, 8),
        beta=rng.standard_normal(8), dout=_nonuniform(rng, (6, 8)), ln_param={})

    for keep in DROPOUT_KEEP:
        p = keep if variant is None or variant.p_is_keep else 1 - keep
        # Positive and away from 0, so each output element shows its mask bit.
        add(f"dropout/{keep}", "dropout", x=rng.uniform(1.0, 3.0, DROPOUT_SHAPE), p=p, keep=keep,
            dout=_nonuniform(rng, DROPOUT_SHAPE))

    w, dw = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    dw[:, 0] *= 1e-9  # tiny gradients: a tiny second moment, where eps's place shows
    v0, cache0 = rng.standard_normal((4, 5)), rng.uniform(0.01, 1.0, (4, 5))
    cache0[:, 0] = 1e-18
    m0, s0 = rng.standard_normal((4, 5)) * 0.1, rng.uniform(0.01, 1.0, (4, 5))
    s0[:, 0] = 1e-18
    configs = {"sgd": {"learning_rate": 0.05},
               "sgd_momentum": {"learning_rate": 0.05, "momentum": 0.8, "velocity": v0},
               "rmsprop": {"learning_rate": 0.05, "decay_rate": 0.9, "epsilon": 1e-8, "cache": cache0},
               "adam": {"learning_rate": 0.05, "beta1": 0.8, "beta2": 0.95, "epsilon": 1e-8, "m": m0, "v": s0, "t": 4}}
    for name, config in configs.items():
        add(f"{name}/given", name, w=w, dw=dw, config=config)
        if not (name == "adam" and variant is not None and variant.adam_t is None):
            add(f"{name}/defaults", name, w=w, dw=dw, config=None)

    def model_inputs(s):
        dims = (s["d"],) + s["hidden"] + (s["c"],)
        params = {}
        for i in range(len(dims) - 1):
            params[f"W{i + 1}"] = rng.standard_normal((dims[i], dims[i + 1])) / np.sqrt(dims[i])
            params[f"b{i + 1}"] = 0.1 * rng.standard_normal(dims[i + 1])
            if i < len(dims) - 2:
                params[f"gamma{i + 1}"] = rng.uniform(0.5, 2.0, dims[i + 1])
                params[f"beta{i + 1}"] = 0.1 * rng.standard_normal(dims[i + 1])
        return params, rng.standard_normal((s["n"], 2, 3)), rng.integers(0, s["c"], s["n"])

    small, large = model_inputs(MODEL_SHAPE), model_inputs(DROPOUT_MODEL_SHAPE)
    # The student's own layers last: a layer that hangs costs the cases after it (see runner.MAX_TIMEOUTS).
    for own in ("", OWN):
        for config in MODEL_CONFIGS:
            params, X, y = large if config == "dropout" else small
            keys = [k for k in params if config in ("batchnorm", "layernorm") or not k.startswith(("gamma", "beta"))]
            add(f"model/{config}{'/own' if own else ''}", "model", (f"FullyConnectedNet[{config}]{own}",),
                config=config, own=bool(own), X=X, y=y, params={k: params[k] for k in keys},
                shape=DROPOUT_MODEL_SHAPE if config == "dropout" else MODEL_SHAPE,
                reg=MODEL_REG if config == "reg" else 0.0, keep=MODEL_KEEP)
    return out


def by_id(seed=0, variant=None):
    return {c.id: c for c in build(seed, variant)}
