"""The chain rule made visible: one small MLP's gradients as products of explicit Jacobian matrices.

This derivation writes the textbook chain, one name per quantity:

    z1 = x W1^T + b1,   z2 = f(z1),   z3 = z2 W2^T + b2,   y_hat = g(z3),   l = loss(y_hat, y)

so its z2 is the reference's h and its z3 the reference's z2 (see NAMING). Per sample n the factors
are a row vector and matrices, m the hidden width and K the output width:

    dl/dy_hat (1 x K)   dy_hat/dz3 (K x K)   dz3/dz2 = W2 (K x m)   dz2/dz1 (m x m, diagonal)

and the gradients are their products, summed over the batch (dz3_k/dW2_kj = z2_j, hence the outer
products):

    dl/dz3 = dl/dy_hat dy_hat/dz3     db2 = sum_n dl/dz3     dW2 = sum_n (dl/dz3)^T z2
    dl/dz1 = dl/dz3 W2 dz2/dz1        db1 = sum_n dl/dz1     dW1 = sum_n (dl/dz1)^T x

Every gradient is also taken from the vectorised reference (mlp_ref.MLP, built on mlp_ref.functional)
and from torch autograd (mlp_ref.twin), and every Jacobian is confirmed by
torch.autograd.functional.jacobian. The Jacobians are built here, for teaching, not taken from the
reference: a wrong one must show up as a disagreement. The JSON input (and a student's own numbers to
hold against the derivation) is read by mlp_ref.explain.input.
"""
from dataclasses import dataclass, field

import numpy as np

from mlp_ref import losses, validate
from mlp_ref.compare import compare
from mlp_ref.model import MLP
from mlp_ref.tolerances import tolerance

NAMING = {"z1": "z1", "z2": "h", "z3": "z2", "y_hat": "y_hat"}
GRADIENTS = ("db2", "dW2", "db1", "dW1")
FACTORS = ("dl/dy_hat", "dy_hat/dz3", "dz3/dz2", "dz2/dz1")
TOL = tolerance("float64")


@dataclass
class Problem:
    """One derivation's inputs, in float64. x: (N, D), y: (N, K) (or (N,) class indices for ce),
    W1: (m, D), b1: (m,), W2: (K, m), b2: (K,); f hidden, g output activation; loss and reduction."""
    x: np.ndarray
    y: np.ndarray
    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray
    b2: np.ndarray
    f: str = "relu"
    g: str = "identity"
    loss: str = "mse"
    reduction: str = "sum"
    negative_slope: float = 0.01

    def model(self):
        """The reference MLP holding this problem's parameters."""
        (m, d), k = self.W1.shape, self.W2.shape[0]
        net = MLP(d, m, k, f=self.f, g=self.g, loss=self.loss, reduction=self.reduction,
                  negative_slope=self.negative_slope)
        return net.set_params({"W1": self.W1, "b1": self.b1, "W2": self.W2, "b2": self.b2})


def default_problem(f="relu", g=None, loss="mse", reduction=None, *, n_in=2, n_hidden=3, n_out=2, batch=2,
                    seed=0, negative_slope=0.01):
    """A small problem with a fixed seed: the reference's torch-style init, x standard normal, and
    targets that suit the loss (real for mse, in (0, 1) for bce, class indices for ce)."""
    g = g or losses.OUTPUTS.get(loss, ("identity",))[0]
    reduction = reduction or ("mean" if loss == "ce" else "sum")
    net = MLP(n_in, n_hidden, n_out, f=f, g=g, loss=loss, reduction=reduction, seed=seed,
              negative_slope=negative_slope)
    rng = np.random.default_rng(seed + 1)
    x = rng.standard_normal((validate.positive_int("batch", batch), n_in))
    y = {"ce": lambda: rng.integers(0, n_out, batch),
         "bce": lambda: rng.uniform(0.05, 0.95, (batch, n_out))}.get(loss, lambda: rng.standard_normal((batch, n_out)))()
    return bce_outputs_in_range(Problem(x, y, **net.params, f=f, g=g, loss=loss, reduction=reduction,
                                        negative_slope=negative_slope))


def bce_outputs_in_range(problem):
    """The problem, if bce's log terms are defined: y_hat in [0, 1]; else a ValueError saying which g."""
    if problem.loss == "bce":
        y_hat = problem.model().forward(problem.x)
        bad = (y_hat < 0) | (y_hat > 1)
        if bad.any():
            index = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f"loss: 'bce' needs y_hat in [0, 1], but g={problem.g!r} gave y_hat = "
                             f"{y_hat[index]:.4g} at {index}; use g='sigmoid' or 'softmax'")
    return problem


# --- the Jacobians, built by hand --------------------------------------------------------------
def activation_jacobian(name, z, out, slope=0.01):
    """d out / d z for one sample's row z (k,), as a k x k matrix: diagonal for the elementwise
    activations (their slope at z), diag(s) - s s^T for softmax, with out = the forward output."""
    if name == "softmax":
        return np.diag(out) - np.outer(out, out)
    # Written out here, not taken from mlp_ref.functional: a wrong slope there must show up as a
    # disagreement with this derivation, not be copied into it. The names are functional's.
    diagonal = {"identity": lambda: np.ones_like(z),
                "relu": lambda: (z > 0).astype(z.dtype),  # ReLU'(0) = 0, as torch
                "leaky_relu": lambda: np.where(z > 0, 1.0, slope),  # LeakyReLU'(0) = slope, as torch
                "sigmoid": lambda: out * (1 - out),
                "tanh": lambda: 1 - out * out}[name]()
    return np.diag(diagonal)


def loss_jacobian(loss, reduction, y_hat_n, y_n, n_rows):
    """dl/dy_hat for one sample as a (1, K) row: its own term of the loss, differentiated.

    mse: 2 (y_hat - y); bce: (y_hat - y) / (y_hat (1 - y_hat)) (floored at 1e-12 as torch);
    ce on softmax outputs, l_n = -log y_hat[target]: -onehot / y_hat. Times 1/(N K) for mean
    (1/N for ce), as torch reduces.
    """
    k = y_hat_n.shape[0]
    if loss == "mse":
        row = 2 * (y_hat_n - y_n)
    elif loss == "bce":
        row = (y_hat_n - y_n) / np.maximum(y_hat_n * (1 - y_hat_n), losses.BCE_GRAD_EPS)
    else:
        row = -np.eye(k)[int(y_n)] / y_hat_n
    if reduction == "mean":
        row = row / (n_rows if loss == "ce" else n_rows * k)
    return row[None, :]


# --- torch's side (torch loads here only: the grader's hints use the numpy side alone) -------------
def _torch_loss(problem, y_hat):
    import torch
    import torch.nn.functional as F

    from mlp_ref.twin import LOSS_MODULES

    y = torch.tensor(problem.y)
    if problem.loss != "ce":
        return LOSS_MODULES[problem.loss](reduction=problem.reduction)(y_hat, y)
    # The twin's cross-entropy takes logits; written here on the softmax outputs (nll of log y_hat),
    # so that dl/dy_hat exists to confirm.
    return F.nll_loss(torch.log(y_hat), y.long(), reduction=problem.reduction)


def torch_jacobians(problem, forward):
    """Each factor for each sample from torch.autograd.functional.jacobian, as numpy arrays."""
    import torch

    from mlp_ref.twin import activation_module

    jac = torch.autograd.functional.jacobian
    g, f = activation_module(problem.g, problem.negative_slope), activation_module(problem.f, problem.negative_slope)
    W2, b2 = torch.tensor(problem.W2), torch.tensor(problem.b2)
    dl_dy_hat = jac(lambda y_hat: _torch_loss(problem, y_hat), torch.tensor(forward["y_hat"])).numpy()
    out = []
    for n in range(problem.x.shape[0]):
        z1, z2, z3 = (torch.tensor(forward[k][n]) for k in ("z1", "z2", "z3"))
        out.append({"dl/dy_hat": dl_dy_hat[n][None, :],
                    "dy_hat/dz3": jac(lambda z: g(z[None, :])[0], z3).numpy(),
                    "dz3/dz2": jac(lambda a: a @ W2.T + b2, z2).numpy(),
                    "dz2/dz1": jac(lambda z: f(z[None, :])[0], z1).numpy()})
    return out


def torch_gradients(net, problem):
    """dW1, db1, dW2, db2 from torch autograd, through the reference's torch twin."""
    from mlp_ref.twin import TorchTwin

    twin = TorchTwin(net)
    twin.loss(twin.forward(problem.x), problem.y)
    twin.backward()
    return {f"d{k}": v for k, v in twin.grads().items()}


def chain_products(p, forward, hidden=activation_jacobian, output=activation_jacobian, loss_row=loss_jacobian):
    """Per sample the four factors and their products, and the gradients summed over the batch, from the
    forward values (the derivation's names). hidden builds dz2/dz1, output dy_hat/dz3, loss_row dl/dy_hat:
    parameters, so a planted slip (mlp_ref.explain.hints) runs through the same chain."""
    samples, total, n_rows = [], {name: 0.0 for name in GRADIENTS}, p.x.shape[0]
    for n in range(n_rows):
        s = {"dl/dy_hat": loss_row(p.loss, p.reduction, forward["y_hat"][n], p.y[n], n_rows),
             "dy_hat/dz3": output(p.g, forward["z3"][n], forward["y_hat"][n], p.negative_slope),
             "dz3/dz2": p.W2,
             "dz2/dz1": hidden(p.f, forward["z1"][n], forward["z2"][n], p.negative_slope)}
        s["dl/dz3"] = s["dl/dy_hat"] @ s["dy_hat/dz3"]
        s["dl/dz2"] = s["dl/dz3"] @ s["dz3/dz2"]
        s["dl/dz1"] = s["dl/dz2"] @ s["dz2/dz1"]
        s["dW2_n"] = s["dl/dz3"].T @ forward["z2"][n][None, :]
        s["dW1_n"] = s["dl/dz1"].T @ p.x[n][None, :]
        for name, part in (("db2", s["dl/dz3"][0]), ("dW2", s["dW2_n"]), ("db1", s["dl/dz1"][0]), ("dW1", s["dW1_n"])):
            total[name] = total[name] + part
        samples.append(s)
    return samples, {name: np.asarray(v) for name, v in total.items()}


# --- the derivation --------------------------------------------------------------------------
@dataclass
class Derivation:
    """Everything explain prints. forward: x, z1, z2, z3, y_hat, loss in the derivation's names;
    samples: per sample, the factors and the products; gradients: name -> {way: array};
    checks: Comparisons (expected = torch) of every factor and every gradient."""
    problem: Problem
    forward: dict
    samples: list
    gradients: dict
    checks: list = field(default_factory=list)

    @property
    def ok(self):
        return all(c.ok for c in self.checks)

    def failures(self):
        return [c for c in self.checks if not c.ok]


def derive(problem, jacobian=activation_jacobian):
    """Run the derivation three ways and check it. `jacobian` builds dy_hat/dz3 and dz2/dz1
    (a parameter so a planted wrong one can be shown to fail the check)."""
    p = problem
    net = p.model()
    # Finite inputs can still overflow on the way (x = 1e308): every side would then agree on inf,
    # which proves nothing, so the derivation refuses and names where it overflowed.
    with np.errstate(over="ignore", invalid="ignore"):
        y_hat = net.forward(p.x)
        value = net.loss(y_hat, p.y)
        net.zero_grad()
        net.backward()
    c = net.cache
    forward = {"x": p.x, "z1": c.z1, "z2": c.h, "z3": c.z2, "y_hat": c.y_hat, "loss": np.float64(value)}
    for name, v in (*forward.items(), *((f"d{k}", g) for k, g in net.grads.items())):
        if not np.isfinite(v).all():
            raise ValueError(f"{name}: the forward and backward pass overflow float64 on these inputs "
                             f"(first non-finite quantity: {name}); use smaller values")

    samples, total = chain_products(p, forward, jacobian, jacobian)
    reference = {f"d{k}": v.copy() for k, v in net.grads.items()}
    autograd = torch_gradients(net, p)
    gradients = {name: {"jacobian": total[name], "reference": reference[name], "torch": autograd[name]}
                 for name in GRADIENTS}
    d = Derivation(p, forward, samples, gradients)
    for n, (s, t) in enumerate(zip(samples, torch_jacobians(p, forward))):
        d.checks += [compare(f"{factor} [n={n}]", s[factor], t[factor], TOL) for factor in FACTORS]
    for name, ways in gradients.items():
        d.checks += [compare(f"{name} {way}", ways[way], ways["torch"], TOL) for way in ("jacobian", "reference")]
    return d
