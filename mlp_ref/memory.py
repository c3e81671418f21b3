"""Memory estimates from sizes alone, so a run too large for the machine is refused before it allocates.

The estimates are upper bounds of the arrays a run keeps alive at once, in bytes; what they leave
out (Python objects, torch's allocator slack) is small next to the arrays at sizes that matter.
The limit defaults to half of MemAvailable (/proc/meminfo): the rest is for the OS, torch's own
import and whatever else runs.
"""
import os
import time

# Bytes per element of each float dtype the package supports.
ITEMSIZE = {"float64": 8, "float32": 4}


class TooLarge(ValueError):
    """A run whose estimate exceeds the memory limit."""


def available_bytes():
    """MemAvailable from /proc/meminfo; elsewhere, free physical pages; None when neither is known."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


_cached = [None, -1.0]  # (limit, monotonic time read): a model built in a loop reads /proc once a second


def default_limit():
    """Half of the available memory (64 GiB when it cannot be read)."""
    now = time.monotonic()
    if now - _cached[1] > 1.0:
        avail = available_bytes()
        _cached[:] = [avail // 2 if avail else 64 * 2 ** 30, now]
    return _cached[0]


def human(n):
    """1536 -> '1.5 KiB'."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def n_params(widths):
    """Weights and biases of a chain of Linear layers, widths = (D, H1, ..., K)."""
    return sum(a * b + b for a, b in zip(widths[:-1], widths[1:]))


def model_bytes(widths, dtype="float64", norm=None):
    """An MLP's own arrays: params, grads, this batch's gradients and lr*grads (4 packed copies), the
    init's float64 draws and zero copies on the way (3 more, float64 at most). norm adds gamma and
    beta per hidden unit (as parameters) and batch norm two running statistics (one copy each)."""
    units = sum(widths[1:-1])
    extra = 0 if norm is None else 2 * units * (4 * ITEMSIZE[dtype] + 3 * 8)
    buffers = 2 * units * ITEMSIZE[dtype] if norm == "batch" else 0
    return n_params(widths) * (4 * ITEMSIZE[dtype] + 3 * 8) + extra + buffers


def batch_bytes(widths, batch, dtype="float64", norm=None, dropout=False):
    """One forward, loss and backward on a batch: per sample the input and, per layer, the
    pre-activation, the activation, the activation's cache and their three gradients. Per hidden
    unit, norm adds its output, the normalized input, their gradient and a temporary (4); dropout
    f's output, the mask, the scaled mask and a gradient (4)."""
    per_unit = 4 * (norm is not None) + 4 * bool(dropout)
    return batch * (widths[0] + 6 * sum(widths[1:]) + per_unit * sum(widths[1:-1])) * ITEMSIZE[dtype]


def compared_per_step(widths, state_buffers=0, norm=None, dropout=False):
    """The quantities a parity step compares: per layer z, h (or y_hat), dz, dh (or dy_hat), dW, db,
    W, b and each optimizer state buffer of W and b, plus the loss (17 for one hidden layer, SGD).
    Per hidden layer, norm adds zn, dzn, gamma, beta, their gradients and state (batch norm: two
    running statistics), dropout a and da; with either, the eval forward's z, (zn, a,) h, y_hat."""
    layers, hidden = len(widths) - 1, len(widths) - 2
    count = 8 * layers + 1 + 2 * layers * state_buffers
    if norm is not None:
        count += hidden * (6 + 2 * state_buffers + 2 * (norm == "batch"))
    if dropout:
        count += 2 * hidden
    if norm is not None or dropout:
        count += 2 * layers + hidden * ((norm is not None) + bool(dropout))
    return count


def parity_bytes(widths, batch, steps, dtype="float64", runs=1, as_json=False, state_buffers=0, norm=None,
                 dropout=False):
    """A parity run: the reference and its torch twin (a model and a batch's work each, and as much
    again for the comparisons' temporaries, state_buffers more parameter-sized arrays each for the
    optimizer), the float64 batch drawn per step, and the report's comparisons
    (compared_per_step) kept for every step of every run: measured 490 bytes each, 1.1 KiB more
    as a dict for --json, so 640 and 2048 are counted.
    Measured: 500 -> 4000 -> 200, batch 2000, float64 peaks 1.48 GB above the process's baseline;
    this gives 1.9 GB. norm and dropout: the model's and a batch's extra arrays, and more comparisons."""
    one = (2 * model_bytes(widths, dtype, norm) + 4 * batch_bytes(widths, batch, dtype, norm, dropout)
           + 2 * state_buffers * (n_params(widths) + 2 * sum(widths[1:-1]) * (norm is not None)) * ITEMSIZE[dtype])
    data = 8 * (widths[0] * widths[-1] + 3 * batch * (widths[0] + widths[-1]))
    compared = compared_per_step(widths, state_buffers, norm, dropout)
    return one + data + runs * steps * compared * (2048 if as_json else 640)


def explain_bytes(n_in, n_hidden, n_out, batch):
    """explain's derivation: per sample the four factors (K x K, K x m, m x m, and the 1 x K row),
    the products and the per-sample dW terms. Each element costs far more than its 8 bytes: torch's
    copy, the comparison, and the report (a Python float in a list, its strict copy, its text).
    Measured: D=50, m=400, K=20, N=30 with --json peaks 852 MB above the process's baseline, about
    145 bytes per element; 160 are counted."""
    k, m, d = n_out, n_hidden, n_in
    per_sample = k * k + k * m + m * m + k + 2 * m + k * m + m * d
    return 160 * batch * per_sample + 3 * parity_bytes((d, m, k), batch, 1)


def batchnorm_explain_bytes(n_hidden, batch):
    """explain --norm batch: torch's full Jacobian of the norm, (N H)^2 float64 elements (to show the
    features do not mix), about three copies of it on the way, and per feature the N x N terms (6 of
    them, 160 bytes per element in the report, as explain_bytes counts)."""
    return 3 * 8 * (batch * n_hidden) ** 2 + 160 * 6 * n_hidden * batch ** 2


def check(what, estimate, limit=None, how=""):
    """Raise TooLarge naming the estimate and the limit when estimate > limit (default: default_limit())."""
    limit = default_limit() if limit is None else limit
    if estimate > limit:
        raise TooLarge(f"{what}: would need about {human(estimate)}, over the memory limit of {human(limit)}"
                       + (f" ({how})" if how else ""))
    return estimate
