"""The parity engine: the reference and its torch twin, step for step on the same mini-batches.

At every step both sides run the five stages; then y_hat (and z1, h, z2 on the way), the loss,
the intermediate gradients, every parameter gradient and every updated parameter are compared
with the one tolerance table. The report keeps every comparison; the first failure is the story.
"""
from dataclasses import asdict, dataclass, field

import numpy as np

from mlp_ref.compare import compare
from mlp_ref.model import MLP, PARAM_NAMES
from mlp_ref.tolerances import tolerance
from mlp_ref.validate import choice

# Order matters: a report names the first quantity that disagrees, and the ones before it that agreed.
STAGES = (
    ("forward", ("z1", "h", "z2", "y_hat")),
    ("loss", ("loss",)),
    ("backward", ("dy_hat", "dz2", "dh", "dz1", "dW2", "db2", "dW1", "db1")),
    ("update", ("W1", "b1", "W2", "b2")),
)


class Diverged(ValueError):
    """The reference's training overflowed (NaN or inf): the run fails; the arguments were valid."""


@dataclass
class ParityConfig:
    """One parity run. Defaults are non-square on purpose: a transposed gradient cannot pass."""
    n_in: int = 5
    n_hidden: int = 7
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

    @property
    def resyncs(self):
        return self.resync == "always" or (self.resync == "auto" and self.dtype == "float32")

    def __post_init__(self):
        choice("resync", self.resync, ("auto", "always", "never"))

    def model(self):
        return MLP(self.n_in, self.n_hidden, self.n_out, f=self.f, g=self.g, loss=self.loss,
                   reduction=self.reduction, dtype=self.dtype, seed=self.seed,
                   negative_slope=self.negative_slope)

    @property
    def name(self):
        mode = ", resynced" if self.resyncs else ""
        return f"{self.f}/{self.g}/{self.loss}-{self.reduction} {self.dtype} {self.device}{mode}"


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
        return next(stage for stage, names in STAGES if name in names)

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


def _reference_step(net, x, y, config):
    """The reference's five stages; returns the loss, the intermediate gradients and a copy of grads."""
    # A diverging run overflows on the way; the finite checks of the next stage report it once.
    with np.errstate(over="ignore", invalid="ignore"):
        value = net.loss(net.forward(x), y)
        if config.zero_grad:
            net.zero_grad()
        inter = net.backward()
        grads = {f"d{k}": v.copy() for k, v in net.grads.items()}
        net.step(config.lr)
    return value, inter, grads


def run_parity(config: ParityConfig, reference=None, data=None):
    """Train the reference and its twin side by side and compare everything at every step.

    reference: an MLP-like object to test (default: a fresh MLP from config). The twin starts from
    a copy of its parameters, so a wrong reference is caught at the step and stage where it departs.
    data: an iterable of (x, y) mini-batches (default: batches(config), config.steps of them).
    """
    from mlp_ref.twin import TorchTwin  # torch loads only for a parity run

    net = reference if reference is not None else config.model()
    twin = TorchTwin(net, device=config.device)
    tol = tolerance(config.dtype)
    report = ParityReport(config)
    device = str(twin.device)
    for step, (x, y) in enumerate(batches(config) if data is None else data, start=1):
        try:
            value, inter, grads = _reference_step(net, x, y, config)
        except ValueError as e:
            diverged = "finite" in str(e)
            raise (Diverged if diverged else ValueError)(
                f"{config.name}: step {step}: {e}" + (" (training diverged: try a smaller lr)" if diverged else "")) from e
        t_y_hat = twin.forward(x)
        t_value = twin.loss(t_y_hat, y)
        if config.zero_grad:
            twin.zero_grad()
        t_inter = twin.backward()
        t_grads = {f"d{k}": v for k, v in twin.grads().items()}
        twin.step(config.lr)

        ours = {**{k: getattr(net.cache, k) for k in ("z1", "h", "z2", "y_hat")},
                "loss": np.asarray(value, dtype=config.dtype), **inter, **grads,
                **{k: net.params[k] for k in PARAM_NAMES}}
        theirs = {**{k: _numpy(v) for k, v in twin.inter.items()},
                  "loss": np.asarray(t_value.item(), dtype=config.dtype),
                  **{k: _numpy(v) for k, v in t_inter.items()}, **t_grads, **twin.params()}
        comparisons = [compare(name, ours[name], theirs[name], tol, device=device)
                       for _, names in STAGES for name in names
                       if not (ours.get(name) is None and theirs.get(name) is None)]
        report.steps.append(StepResult(step, comparisons))
        report.losses.append(value)
        if config.resyncs:
            # Without zero_grad the gradients accumulate, and drift, as the parameters do: both resynced.
            twin.to_twin(net, grads=not config.zero_grad)
    return report


def anchor_configs(dtypes=("float64", "float32"), devices=("cpu",), **overrides):
    """The main job: regression (relu, identity, mse sum); classification (sigmoid, sigmoid, mse sum; and bce)."""
    tasks = [dict(f="relu", g="identity", loss="mse", reduction="sum"),
             dict(f="sigmoid", g="sigmoid", loss="mse", reduction="sum"),
             dict(f="sigmoid", g="sigmoid", loss="bce", reduction="sum")]
    return [ParityConfig(**{**task, "dtype": dtype, "device": device, **overrides})
            for task in tasks for device in devices for dtype in dtypes]
