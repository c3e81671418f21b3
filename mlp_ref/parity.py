"""The parity engine: the reference and its torch twin, step for step on the same mini-batches.

At every step both sides run the five stages; then every layer's pre-activation and activation
(z1, h, .., y_hat), the loss, the intermediate gradients, every parameter gradient, every state
buffer of the optimizer and every updated parameter are compared with the one tolerance table.
The report keeps every comparison; the first failure is the story.
"""
from dataclasses import asdict, dataclass, field

import numpy as np

from mlp_ref.compare import Comparison, compare_many
from mlp_ref.model import MLP
from mlp_ref.tolerances import tolerance
from mlp_ref.validate import choice


def stages(net, optimizer=None):
    """The quantities compared at every step, stage by stage. Order matters: a report names the
    first quantity that disagrees, and the ones before it that agreed. The optimizer's state comes
    before the parameters it moves, so a wrong buffer is named before the weights it spoils. With
    norm or dropout, the running statistics follow the forward that updated them, and an eval-mode
    forward (on the parameters this step's training forward used) follows the backward."""
    by_layer = {}
    for name in net.param_names:
        by_layer.setdefault(name.lstrip("Wbgamet"), []).append(f"d{name}")
    grads = tuple(g for l in range(net.n_layers, 0, -1) for g in by_layer[str(l)])
    state = () if optimizer is None else tuple(
        f"{key}[{name}]" for key in optimizer.BUFFERS for name in net.param_names)
    evaluation = () if getattr(net, "_plain", True) else tuple(f"eval:{name}" for name in net.forward_names)
    return (("forward", net.forward_names), ("statistics", getattr(net, "buffer_names", ())), ("loss", ("loss",)),
            ("backward", net.backward_names + grads), ("eval", evaluation),
            ("optimizer", state), ("update", net.param_names))


# The stages compared before the update (the rest after it).
BEFORE_UPDATE = 5


# The hyperparameters each optimizer takes (torch.optim's names); lr is every optimizer's.
OPTIM_ARGS = {"sgd": ("momentum", "dampening", "nesterov", "weight_decay"),
              "adam": ("betas", "eps", "weight_decay", "amsgrad"),
              "adamw": ("betas", "eps", "weight_decay", "amsgrad"),
              "rmsprop": ("alpha", "eps", "weight_decay", "momentum", "centered")}
# Every optimizer argument, each once.
OPTIMIZER_FLAGS = tuple(dict.fromkeys(a for taken in OPTIM_ARGS.values() for a in taken))


class Diverged(ValueError):
    """The reference's training overflowed (NaN or inf): the run fails; the arguments were valid."""


@dataclass
class ParityConfig:
    """One parity run. Defaults are non-square on purpose: a transposed gradient cannot pass."""
    n_in: int = 5
    n_hidden: object = 7  # an int, or a list of hidden widths for a deep model
    n_out: int = 3
    batch: int = 16
    f: str = "relu"
    g: str = "identity"
    loss: str = "mse"
    reduction: str = "sum"
    dtype: str = "float64"
    device: str = "cpu"
    steps: int = 100
    lr: float = 0.02
    seed: int = 0
    zero_grad: bool = True
    negative_slope: float = 0.01
    # "auto": float32 copies the reference's updated parameters into the twin after each step, so
    # each step is judged on one step's rounding at torch.testing's float32 tolerance; left free, the
    # two float32 trajectories drift apart as rounding compounds through the updates (measured in
    # README, "float32 drift"). float64 runs free: its drift stays ~1e-14. "always" | "never" force it.
    resync: str = "auto"
    # "sgd" with no momentum and no weight decay is the model's own net.step(lr); anything else runs
    # mlp_ref.optim against torch.optim. None: torch's default for that optimizer.
    optim: str = "sgd"
    momentum: float = None
    dampening: float = None
    nesterov: bool = None
    weight_decay: float = None
    betas: tuple = None
    eps: float = None
    amsgrad: bool = None
    alpha: float = None
    centered: bool = None
    # Each hidden layer Linear -> norm -> f -> dropout (mlp_ref.hidden); torch's eps and momentum.
    norm: str = None
    dropout: float = 0.0
    norm_eps: float = 1e-5
    norm_momentum: float = 0.1

    @property
    def resyncs(self):
        """auto: float32 (its drift compounds) and batch norm (a feature whose batch spread is small
        beside its mean amplifies float64's ~1e-14 drift by |z| / std, past 1e-12; docs/parity.md)."""
        return self.resync == "always" or (self.resync == "auto" and (self.dtype == "float32"
                                                                      or self.norm == "batch"))

    def __post_init__(self):
        choice("resync", self.resync, ("auto", "always", "never"))
        choice("optim", self.optim, tuple(OPTIM_ARGS))
        self.optimizer_kwargs()
        if self.norm == "batch" and isinstance(self.batch, int) and self.batch < 2:
            raise ValueError(f"batch: batch norm in training needs more than 1 sample per batch, got {self.batch}")

    def optimizer_kwargs(self):
        """The optimizer's hyperparameters given here; one not taken by self.optim is an error naming it."""
        given = {k: getattr(self, k) for k in ("momentum", "dampening", "nesterov", "weight_decay", "betas",
                                               "eps", "amsgrad", "alpha", "centered") if getattr(self, k) is not None}
        for k in given:
            if k not in OPTIM_ARGS[self.optim]:
                takers = [o for o, args in OPTIM_ARGS.items() if k in args]
                raise ValueError(f"{k}: an argument of {' and '.join(takers)} only, not of optim={self.optim!r}")
        return given

    def optimizer(self, net):
        """The mlp_ref.optim optimizer for net, or None for the model's own plain SGD (net.step(lr))."""
        from mlp_ref import optim
        kwargs = self.optimizer_kwargs()
        if self.optim == "sgd" and not any(kwargs.get(k) for k in ("momentum", "weight_decay", "nesterov")):
            return None
        return optim.OPTIMIZERS[self.optim](net, lr=self.lr, **kwargs)

    def model(self):
        return MLP(self.n_in, self.n_hidden, self.n_out, f=self.f, g=self.g, loss=self.loss,
                   reduction=self.reduction, dtype=self.dtype, seed=self.seed,
                   negative_slope=self.negative_slope, norm=self.norm, dropout=self.dropout,
                   norm_eps=self.norm_eps, norm_momentum=self.norm_momentum)

    @property
    def name(self):
        mode = ", resynced" if self.resyncs else ""
        kwargs = self.optimizer_kwargs()
        opt = "" if self.optim == "sgd" and not kwargs else " " + self.optim + "".join(
            f" {k}={v}" for k, v in kwargs.items())
        layers = (f" {self.norm}norm" if self.norm else "") + (f" dropout {self.dropout:g}" if self.dropout else "")
        return f"{self.f}/{self.g}/{self.loss}-{self.reduction}{layers}{opt} {self.dtype} {self.device}{mode}"


def batches(config):
    """The stream of (x, y) both sides see: x standard normal; y from a fixed random teacher, so
    training has something to learn. mse on identity: real targets; sigmoid outputs: {0, 1}
    targets (mse and bce); ce: integer classes. Drawn in float64, then cast to the run's dtype."""
    rng = np.random.default_rng(config.seed + 1)
    teacher = rng.standard_normal((config.n_out, config.n_in))
    for _ in range(config.steps):
        x = rng.standard_normal((config.batch, config.n_in))
        logits = x @ teacher.T
        if config.loss == "ce":
            y = logits.argmax(axis=1)
        elif config.loss == "bce" or config.g in ("sigmoid", "softmax"):
            y = (logits > 0).astype(config.dtype)
        else:
            y = (np.tanh(logits) + 0.1 * rng.standard_normal(logits.shape)).astype(config.dtype)
        yield x.astype(config.dtype), y


@dataclass
class StepResult:
    step: int
    comparisons: list

    @property
    def ok(self):
        return all(c.ok for c in self.comparisons)


@dataclass
class ParityReport:
    config: ParityConfig
    stages: tuple = ()
    steps: list = field(default_factory=list)
    losses: list = field(default_factory=list)

    @property
    def ok(self):
        return all(s.ok for s in self.steps)

    def first_failure(self):
        """(step, comparison, the names that agreed before it in that step) or None."""
        for s in self.steps:
            for i, c in enumerate(s.comparisons):
                if not c.ok:
                    return s.step, c, [p.name for p in s.comparisons[:i]]
        return None

    def worst(self):
        """Per quantity, the comparison with the largest error relative to its allowance, over all steps."""
        out = {}
        for s in self.steps:
            for c in s.comparisons:
                key = (not c.ok, c.max_abs / (c.atol + c.rtol * abs(c.expected or 0.0)))
                if c.name not in out or key > out[c.name][0]:
                    out[c.name] = (key, s.step, c)
        return {name: (step, c) for name, (_, step, c) in out.items()}

    def stage_of(self, name):
        return next(stage for stage, names in self.stages if name in names)

    def failure_message(self):
        """The mismatch report for the first failure, in the shape STYLE.md gives; '' when all agree."""
        first = self.first_failure()
        if first is None:
            return ""
        step, c, before = first
        header = (f"parity failed: {self.config.name}: step {step}, {self.stage_of(c.name)}, {c.name}  "
                  f"{c.shape} {c.dtype} {c.device}")
        earlier = f"  earlier stages ok: {', '.join(before)}" if before else "  no earlier stage to blame"
        return "\n".join([header, c.describe(), earlier])

    def to_dict(self):
        return {
            "config": asdict(self.config), "ok": self.ok, "final_loss": self.losses[-1] if self.losses else None,
            "first_failure": self.failure_message() or None,
            "worst": {name: dict(c.to_dict(), step=step) for name, (step, c) in self.worst().items()},
            "steps": [{"step": s.step, "ok": s.ok, "comparisons": [c.to_dict() for c in s.comparisons]}
                      for s in self.steps],
        }


def _numpy(t):
    return None if t is None else t.detach().cpu().numpy()


def _compare_all(names, ours, theirs, tol, device, bound_of):
    """compare_many over the names either side has, in order; a quantity on one side only (a state
    buffer) is a failed Comparison. bound_of(name): (expected, allowed, model) for a quantity judged
    by its size (a dead bias's), else None."""
    out, items, slots = [], [], []
    for name in names:
        o, t = ours.get(name), theirs.get(name)
        if o is None and t is None:
            continue
        if o is None or t is None:
            present = t if o is None else o
            out.append(Comparison(name=name, ok=False, shape=present.shape, dtype=present.dtype.name, rtol=tol.rtol,
                                  atol=tol.atol, device=device,
                                  problem=f"{'numpy' if o is None else 'torch'} has no {name}; the other side does"))
            continue
        bound = bound_of(name)
        if bound is None:
            items.append((name, o, t, tol))
        else:
            expected, allowed, model = bound
            items.append((name, o, t if expected is None else expected, tol, allowed, model))
        slots.append(len(out))
        out.append(None)
    for i, c in zip(slots, compare_many(items, device=device)):
        out[i] = c
    return out


def dead_biases(net):
    """The biases just before batch norm (training mode): the norm subtracts the batch mean, so b_l
    changes no output and its true gradient is exactly 0; what each side computes is rounding noise."""
    if getattr(net, "norm", None) != "batch":
        return ()
    return tuple(f"b{l}" for l in range(1, net.n_layers))


def _dead_bias_rounding(net, theirs, l, tol):
    """The rounding in db_l = sum_n dz_l, per feature, atol apart: rtol times the size of the terms that
    dz_l = gamma s (dout - dbeta / N - z_hat dgamma / N) is the difference of, summed over the batch
    (dz_l itself can be far smaller than its terms, which then set the noise). From torch's z_l and
    dout = dzn_l of this step (torch's dgamma_l and dbeta_l hold every step's, without zero_grad);
    s = (var + eps)^(-1/2), z_hat = (z_l - mu) s, over the batch."""
    z, dout = theirs[f"z{l}"], theirs[f"dzn{l}"]
    s = 1 / np.sqrt(z.var(axis=0) + net.norm_eps)
    z_hat = (z - z.mean(axis=0)) * s
    dbeta, dgamma = dout.sum(axis=0), (dout * z_hat).sum(axis=0)
    terms = np.abs(dout).sum(axis=0) + np.abs(dbeta) + np.abs(dgamma) * np.abs(z_hat).mean(axis=0)
    return tol.rtol * np.abs(net.params[f"gamma{l}"]) * s * terms


def _size_bound(name, noise, theirs, tol, config=None, opt=None):
    """(expected, allowed, model) for the quantities of a dead bias, judged by their size; None for the rest.

    db_l: |db_l| <= noise (its true value, 0). Its optimizer state, from the same state on both sides:
    apart by at most 2 noise (+ 2 noise^2 for squared averages). noise: per dead bias, the size of its
    rounding noise per feature, atol + _dead_bias_rounding. The bias itself: the two sides' steps
    on their noise, at most 2 lr K apart, K the largest step per unit lr a noise gradient can cause
    (1 for SGD, 1/sqrt(1 - beta2) or 1/sqrt(1 - alpha) where the step is divided by a root mean square)."""
    if not noise:
        return None
    base = name[1:] if name.startswith("d") else name[name.index("[") + 1:-1] if name.endswith("]") else name
    if base not in noise:
        return None
    noise = noise[base]
    if name == f"d{base}":
        return np.zeros_like(theirs[name]), noise, "a dead bias: |db| <= atol + rtol sum_n |dz's terms|, its true value 0"
    expected = theirs[name]
    k = _largest_step(opt)
    if name.startswith("momentum_buffer[") and k > 1:
        # RMSprop's momentum buffer accumulates the normalized step g / (sqrt(v) + eps), not g.
        return None, tol.atol + tol.rtol * np.abs(expected) + 2 * k, \
            f"a dead bias's state: atol + rtol |torch| + 2 K, K = {k:.3g}"
    if name.endswith("]"):
        return None, tol.atol + tol.rtol * np.abs(expected) + 2 * noise + 2 * noise ** 2, \
            "a dead bias's state: atol + rtol |torch| + 2 noise (+ 2 noise^2)"
    return None, tol.atol + tol.rtol * np.abs(expected) + 2 * config.lr * k, \
        f"a dead bias: atol + rtol |torch| + 2 lr K, K = {k:.3g}"


def _largest_step(opt):
    """K: the largest step per unit lr a noise gradient can cause. 1 for SGD (a noise-sized step);
    where the step is divided by a root mean square of the gradients (Adam's beta2, RMSprop's alpha),
    |g| / sqrt((1 - decay) g^2) = 1 / sqrt(1 - decay)."""
    hyper = getattr(opt, "hyper", {}) if opt is not None else {}
    decay = hyper["betas"][1] if "betas" in hyper else hyper.get("alpha")
    return 1.0 if decay is None else float(1 / np.sqrt(1 - decay))


def _masks(net):
    """The reference's dropout masks of its last forward, for the twin to apply."""
    if not getattr(net, "dropout", 0):
        return None
    return {f"mask{l}": net.cache[f"mask{l}"] for l in range(1, net.n_layers)}


def _eval_forward(net, twin, x, ours, theirs):
    """Both sides' evaluation-mode forward on x, as eval:z1, .., eval:y_hat; training mode after."""
    net.eval()
    twin.eval()
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            net.forward(x)
        twin.forward(x)
        ours.update({f"eval:{k}": getattr(net.cache, k) for k in net.forward_names})
        theirs.update({f"eval:{k}": _numpy(v) for k, v in twin.inter.items()})
    finally:
        net.train()
        twin.train()


def _reference_step(net, opt, x, y, config):
    """The reference's first four stages; returns the loss, the intermediate gradients and a copy of grads."""
    # A diverging run overflows on the way; the finite checks of the next stage report it once.
    with np.errstate(over="ignore", invalid="ignore"):
        value = net.loss(net.forward(x), y)
        if config.zero_grad:
            (opt or net).zero_grad()
        inter = net.backward()
        grads = {f"d{k}": v.copy() for k, v in net.grads.items()}
    return value, inter, grads


def _reference_update(net, opt, config):
    with np.errstate(over="ignore", invalid="ignore"):
        opt.step() if opt is not None else net.step(config.lr)


def _diverged(config, step, e):
    """Diverged when the reference's training overflowed (the arguments were valid), else ValueError."""
    diverged = "finite" in str(e)
    return (Diverged if diverged else ValueError)(
        f"{config.name}: step {step}: {e}" + (" (training diverged: try a smaller lr)" if diverged else ""))


def run_parity(config: ParityConfig, reference=None, data=None, optimizer=None):
    """Train the reference and its twin side by side and compare everything at every step.

    reference: an MLP-like object to test (default: a fresh MLP from config). The twin starts from
    a copy of its parameters, so a wrong reference is caught at the step and stage where it departs.
    optimizer: the reference's mlp_ref.optim optimizer (default: config.optimizer(reference)); the
    twin runs the matching torch.optim one, and every state buffer is compared at every step.
    data: an iterable of (x, y) mini-batches (default: batches(config), config.steps of them).
    A reference that departs in the backward stage and then cannot update (a gradient of the wrong
    shape) ends the run at that step: the departure is the story.
    """
    from mlp_ref.twin import TorchTwin  # torch loads only for a parity run

    net = reference if reference is not None else config.model()
    opt = optimizer if optimizer is not None else config.optimizer(net)
    twin = TorchTwin(net, device=config.device, optimizer=opt)
    tol = tolerance(config.dtype)
    report = ParityReport(config, stages(net, opt))
    device = str(twin.device)
    rounding = {}  # per dead bias, the rounding its gradient holds
    for step, (x, y) in enumerate(batches(config) if data is None else data, start=1):
        try:
            value, inter, grads = _reference_step(net, opt, x, y, config)
        except ValueError as e:
            raise _diverged(config, step, e) from e
        t_value = twin.loss(twin.forward(x, masks=_masks(net)), y)
        if config.zero_grad:
            twin.zero_grad()
        t_back = {k: _numpy(v) for k, v in twin.backward().items()}
        ours = {**{k: getattr(net.cache, k) for k in net.forward_names}, **dict(getattr(net, "buffers", {})),
                "loss": np.asarray(value, dtype=config.dtype), **inter, **grads}
        theirs = {**{k: _numpy(v) for k, v in twin.inter.items()}, **twin.buffers(),
                  "loss": np.asarray(t_value.item(), dtype=config.dtype), **t_back}
        if report.stages[4][1]:
            _eval_forward(net, twin, x, ours, theirs)
        # Without zero_grad a dead bias's gradient sums every step's rounding, and so does its allowance.
        rounding = {b: _dead_bias_rounding(net, theirs, int(b[1:]), tol)
                    + (0 if config.zero_grad else rounding.get(b, 0)) for b in dead_biases(net)}
        noise = {b: tol.atol + r for b, r in rounding.items()}
        comparisons = _compare_all([name for _, names in report.stages[:BEFORE_UPDATE] for name in names],
                                   ours, theirs, tol, device, lambda name: _size_bound(name, noise, theirs, tol))
        try:
            _reference_update(net, opt, config)
        except ValueError as e:
            if all(c.ok for c in comparisons):
                raise _diverged(config, step, e) from e
            report.steps.append(StepResult(step, comparisons))
            report.losses.append(value)
            break
        twin.step(None if opt is not None else config.lr)
        ours = dict(net.params)
        theirs = twin.params()
        if opt is not None:
            for name, s in opt.state.items():
                ours.update({f"{key}[{name}]": v for key, v in s.items() if isinstance(v, np.ndarray)})
            for name, s in twin.state().items():
                theirs.update({f"{key}[{name}]": v for key, v in s.items()})
        comparisons += _compare_all([name for _, names in report.stages[BEFORE_UPDATE:] for name in names],
                                    ours, theirs, tol, device,
                                    lambda name: _size_bound(name, noise, theirs, tol, config, opt))
        report.steps.append(StepResult(step, comparisons))
        report.losses.append(value)
        if config.resyncs:
            # Without zero_grad the gradients accumulate, and drift, as the parameters do: both resynced.
            twin.to_twin(net, grads=not config.zero_grad)
            if opt is not None:
                twin.load_state(opt)
        elif noise:
            # A dead bias moves on rounding noise alone, differently on each side: each step starts equal.
            twin.to_twin(net, grads=not config.zero_grad, names=tuple(noise))
            if opt is not None:
                twin.load_state(opt, names=tuple(noise))
    return report


# The deep anchor: three hidden layers trained by Adam at its own lr, beside the three SGD tasks.
DEEP_ANCHOR = dict(f="tanh", g="identity", loss="mse", reduction="mean", n_hidden=[16, 12, 8], optim="adam", lr=0.01)
# The norm anchor: two hidden layers, each Linear -> batch norm -> ReLU -> dropout 0.2, trained by Adam,
# whose steps on the biases before batch norm (true gradient 0) are judged by their size.
NORM_ANCHOR = dict(f="relu", g="identity", loss="mse", reduction="sum", n_hidden=[16, 8], norm="batch", dropout=0.2,
                   optim="adam", lr=0.01)
LAYER_FIELDS = ("norm", "dropout", "norm_eps", "norm_momentum")
OPTIMIZER_FIELDS = ("optim", "lr", "momentum", "dampening", "nesterov", "weight_decay", "betas", "eps", "amsgrad",
                    "alpha", "centered")


def anchor_configs(dtypes=("float64", "float32"), devices=("cpu",), **overrides):
    """The main job: regression (relu, identity, mse sum); classification (sigmoid, sigmoid, mse sum;
    and bce); a deep regression (three tanh layers, Adam); and a regression through batch norm and
    dropout (two ReLU layers, Adam; layer norm for a batch of 1). An optimizer given in overrides trains every anchor, the deep and
    norm ones included; a norm or dropout given applies to every anchor, the norm one's replaced."""
    deep, norm = dict(DEEP_ANCHOR), dict(NORM_ANCHOR)
    if any(k in overrides for k in OPTIMIZER_FIELDS):
        deep = {k: v for k, v in deep.items() if k not in ("optim", "lr")}
        norm = {k: v for k, v in norm.items() if k not in ("optim", "lr")}
    if any(k in overrides for k in LAYER_FIELDS):
        norm = {k: v for k, v in norm.items() if k not in LAYER_FIELDS}
    elif overrides.get("batch", 2) < 2:
        norm["norm"] = "layer"  # batch norm has no variance in one sample; layer norm normalizes each row
    tasks = [dict(f="relu", g="identity", loss="mse", reduction="sum"),
             dict(f="sigmoid", g="sigmoid", loss="mse", reduction="sum"),
             dict(f="sigmoid", g="sigmoid", loss="bce", reduction="sum"), deep, norm]
    return [ParityConfig(**{**task, "dtype": dtype, "device": device, **overrides})
            for task in tasks for device in devices for dtype in dtypes]
