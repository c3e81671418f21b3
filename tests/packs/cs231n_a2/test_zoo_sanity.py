"""The cs231n-a2 zoo is honest, checked without the pack's grader.

Every base is correct and complete for its year: each unit against torch (float64, the course's
conventions written out here), FullyConnectedNet's loss and gradients against torch autograd. Every bug
is one base with one small edit in one file, and the units it fails here are exactly the ones the
manifest says fail: so no bug is a no-op and no verdict is a guess. Hostile packages are only read,
never run. Packages are imported in this process one at a time: the `cs231n` modules of one package
leave sys.modules before the next is imported, so packages never see each other.
"""
import ast
import builtins
import difflib
import importlib
import inspect
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mlp_ref.packs.cs231n_a2 import py2

from .zoo import manifest
from .zoo.packaging import submission_zip

ZOO = Path(__file__).parent / "zoo"
STANDINS = ZOO / "standins"
RTOL, ATOL = 1e-7, 1e-9   # float64 on both sides: another order of summation moves ~1e-14
LAYER_FILE_FUNCS = {u: u for u in manifest.LAYER_UNITS}


# --- loading ----------------------------------------------------------------------------------------
def _forget_cs231n():
    return {k: sys.modules.pop(k) for k in [k for k in sys.modules if k == "cs231n" or k.startswith("cs231n.")]}


def import_package(root, python2=False):
    """Import root/cs231n (a folder or a zip) with the stand-ins behind it; return its three modules
    (None where the package has no such file). Nothing of it stays in sys.modules. python2: a 2016
    package, read through the pack's Python 2 reader (py2.py: dict iterators, print statements)."""
    saved, old_path, old_bytecode = _forget_cs231n(), list(sys.path), sys.dont_write_bytecode
    finder = py2.Finder() if python2 else None
    if finder:
        sys.meta_path.insert(0, finder)
    sys.path.insert(0, str(root))
    sys.path.append(str(STANDINS))
    sys.dont_write_bytecode = True   # never write __pycache__ into the zoo
    importlib.invalidate_caches()
    try:
        pkg = importlib.import_module("cs231n")
        if isinstance(pkg.__path__, list):   # a regular package does not see the stand-ins' portion
            pkg.__path__.append(str(STANDINS / "cs231n"))
        found = {}
        for name in ("layers", "optim", "classifiers.fc_net"):
            try:
                found[name] = importlib.import_module("cs231n." + name)
            except ModuleNotFoundError as exc:
                if exc.name != "cs231n." + name:
                    raise
                found[name] = None
        return SimpleNamespace(layers=found["layers"], optim=found["optim"], fc_net=found["classifiers.fc_net"])
    finally:
        _forget_cs231n()
        sys.modules.update(saved)
        sys.path[:] = old_path
        sys.dont_write_bytecode = old_bytecode
        if finder:
            sys.meta_path.remove(finder)


_PACKAGES = {}


@pytest.fixture(scope="module")
def load(tmp_path_factory):
    def _load(name):
        if name not in _PACKAGES:
            entry = manifest.ENTRIES[name]
            root = ZOO / entry["path"] / entry.get("root", "")
            if entry.get("zip"):
                root = submission_zip(root, tmp_path_factory.mktemp("zip") / "assignment2.zip")
            _PACKAGES[name] = import_package(root, python2=entry.get("python2", False))
        return _PACKAGES[name]
    return _load


# --- the checks: each returns None when the unit is right, else why not ---------------------------------
def tt(a):
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64, requires_grad=True)


def differs(name, got, expected):
    expected = np.asarray(expected.detach() if torch.is_tensor(expected) else expected, dtype=np.float64)
    if got is None:
        return f"{name} is None"
    if np.shape(got) != expected.shape:
        return f"{name}: shape {np.shape(got)}, expected {expected.shape}"
    got = np.asarray(got, dtype=np.float64)
    if not np.all(np.isfinite(got)):
        return f"{name}: non-finite values"
    if not np.allclose(got, expected, rtol=RTOL, atol=ATOL):
        return f"{name}: worst |error| {np.nanmax(np.abs(got - expected)):.3g}"
    return None


def first(*reasons):
    return next((r for r in reasons if r), None)


def mutated(**pairs):
    """pairs: name -> (array after the call, copy taken before)."""
    return next((f"{n} was modified in place" for n, (a, b) in pairs.items() if not np.array_equal(a, b)), None)


RNG_SEED = 231

# Names numpy 2 removed that a zoo package of an older year still calls, with the meaning they had
# (written out here, not taken from the pack, so the zoo is checked without the pack's grader).
OLD_NUMPY = {"float": float, "product": np.prod}


@pytest.fixture(autouse=True, scope="module")
def old_numpy_names():
    """Also xrange as a builtin, for the 2016 package's loops."""
    added = [name for name in OLD_NUMPY if name not in vars(np)]
    for name in added:
        setattr(np, name, OLD_NUMPY[name])
    had_xrange = hasattr(builtins, "xrange")
    builtins.xrange = range
    yield
    for name in added:
        delattr(np, name)
    if not had_xrange:
        del builtins.xrange


def rng():
    return np.random.default_rng(RNG_SEED)


def check_affine_forward(pkg, variant):
    r = rng()
    x, w, b = r.normal(size=(6, 2, 3)), r.normal(size=(6, 4)), r.normal(size=4)
    x0 = x.copy()
    out, _ = pkg.layers.affine_forward(x, w, b)
    return first(mutated(x=(x, x0)), differs("out", out, tt(x0).reshape(6, -1) @ tt(w) + tt(b)))


def check_affine_backward(pkg, variant):
    r = rng()
    x, w, b, dout = r.normal(size=(6, 2, 3)), r.normal(size=(6, 4)), r.normal(size=4), r.normal(size=(6, 4))
    _, cache = pkg.layers.affine_forward(x, w, b)
    d0 = dout.copy()
    dx, dw, db = pkg.layers.affine_backward(dout, cache)
    tx, tw, tb = tt(x), tt(w), tt(b)
    (tx.reshape(6, -1) @ tw + tb).backward(torch.tensor(d0))
    return first(mutated(dout=(dout, d0)), differs("dx", dx, tx.grad), differs("dw", dw, tw.grad),
                 differs("db", db, tb.grad))


def relu_input():
    x = rng().normal(size=(5, 6))
    x[::2, ::3] = 0.0   # the kink: torch and the course take ReLU'(0) = 0
    return x


def check_relu_forward(pkg, variant):
    x = relu_input()
    x0 = x.copy()
    out, _ = pkg.layers.relu_forward(x)
    return first(mutated(x=(x, x0)), differs("out", out, torch.relu(tt(x0))))


def check_relu_backward(pkg, variant):
    x = relu_input()
    dout = rng().normal(size=x.shape) + 2.0
    _, cache = pkg.layers.relu_forward(x)
    d0 = dout.copy()
    dx = pkg.layers.relu_backward(dout, cache)
    tx = tt(x)
    torch.relu(tx).backward(torch.tensor(d0))
    return first(mutated(dout=(dout, d0)), differs("dx", dx, tx.grad))


def loss_cases():
    r = rng()
    x = r.normal(size=(7, 5)) * 2.0
    y = r.integers(0, 5, size=7)
    # A large common offset with a modest spread: the max-shifted forms stay finite, exp(x) overflows.
    return [(x, y), (x + 1000.0, y)]


def check_softmax_loss(pkg, variant):
    for x, y in loss_cases():
        x0 = x.copy()
        loss, dx = pkg.layers.softmax_loss(x, y)
        tx = tt(x0)
        ref = F.cross_entropy(tx, torch.tensor(y))
        ref.backward()
        why = first(mutated(x=(x, x0)), differs("loss", loss, ref), differs("dx", dx, tx.grad))
        if why:
            return why
    return None


def check_svm_loss(pkg, variant):
    x, y = loss_cases()[0]
    x0 = x.copy()
    loss, dx = pkg.layers.svm_loss(x, y)
    tx = tt(x0)
    n = torch.arange(len(y))
    margins = torch.clamp(tx - tx[n, y][:, None] + 1.0, min=0.0)
    ref = (margins.sum() - margins[n, y].sum()) / len(y)
    ref.backward()
    return first(mutated(x=(x, x0)), differs("loss", loss, ref), differs("dx", dx, tx.grad))


def norm_inputs(n=8, d=5):
    r = rng()
    # Small variances in some features make eps matter; N != D tells the two axes apart.
    scale = np.array([0.01, 0.1, 1.0, 2.0, 0.05, 0.5, 3.0][:d])
    x = r.normal(size=(n, d)) * scale + r.normal(size=d)
    return x, 1.0 + 0.3 * r.normal(size=d), 0.2 * r.normal(size=d), r.normal(size=(n, d))


def check_batchnorm_forward(pkg, variant):
    x, gamma, beta, _ = norm_inputs()
    rm0, rv0 = rng().normal(size=5), rng().uniform(0.5, 2.0, size=5)
    bn_param = {"mode": "train", "eps": 1e-5, "momentum": 0.9, "running_mean": rm0.copy(), "running_var": rv0.copy()}
    x0 = x.copy()
    out, _ = pkg.layers.batchnorm_forward(x, gamma, beta, bn_param)
    ref = F.batch_norm(tt(x0), None, None, tt(gamma), tt(beta), training=True, eps=1e-5)
    # The course's running statistics: momentum weights the old value, the batch variance is biased.
    rm = 0.9 * rm0 + 0.1 * x0.mean(axis=0)
    rv = 0.9 * rv0 + 0.1 * x0.var(axis=0)
    why = first(mutated(x=(x, x0)), differs("out (train)", out, ref),
                differs("running_mean", bn_param.get("running_mean"), rm),
                differs("running_var", bn_param.get("running_var"), rv))
    if why:
        return why
    bn_param["mode"] = "test"
    x2 = rng().normal(size=(4, 5)) * 2.0
    out2, _ = pkg.layers.batchnorm_forward(x2, gamma, beta, bn_param)
    return differs("out (test)", out2, gamma * (x2 - rm) / np.sqrt(rv + 1e-5) + beta)


def _norm_backward(pkg, forward, backward, param, reference):
    x, gamma, beta, dout = norm_inputs()
    _, cache = getattr(pkg.layers, forward)(x, gamma, beta, param)
    d0 = dout.copy()
    dx, dgamma, dbeta = getattr(pkg.layers, backward)(dout, cache)
    tx, tg, tb = tt(x), tt(gamma), tt(beta)
    reference(tx, tg, tb).backward(torch.tensor(d0))
    return first(mutated(dout=(dout, d0)), differs("dx", dx, tx.grad), differs("dgamma", dgamma, tg.grad),
                 differs("dbeta", dbeta, tb.grad))


def _bn(tx, tg, tb):
    return F.batch_norm(tx, None, None, tg, tb, training=True, eps=1e-5)


def _ln(tx, tg, tb):
    return F.layer_norm(tx, (tx.shape[1],), tg, tb, eps=1e-5)


def check_batchnorm_backward(pkg, variant):
    return _norm_backward(pkg, "batchnorm_forward", "batchnorm_backward", {"mode": "train", "eps": 1e-5}, _bn)


def check_batchnorm_backward_alt(pkg, variant):
    return _norm_backward(pkg, "batchnorm_forward", "batchnorm_backward_alt", {"mode": "train", "eps": 1e-5}, _bn)


def check_layernorm_forward(pkg, variant):
    x, gamma, beta, _ = norm_inputs()
    x0 = x.copy()
    out, _ = pkg.layers.layernorm_forward(x, gamma, beta, {"eps": 1e-5})
    return first(mutated(x=(x, x0)), differs("out", out, _ln(tt(x0), tt(gamma), tt(beta))))


def check_layernorm_backward(pkg, variant):
    return _norm_backward(pkg, "layernorm_forward", "layernorm_backward", {"eps": 1e-5}, _ln)


def p_for(keep, variant):
    """The dropout_param 'p' that keeps `keep`: a drop probability in 2017, a keep probability after."""
    return 1.0 - keep if variant == "2017" else keep


def dropout_input():
    return rng().uniform(0.5, 2.0, size=(400, 50))


def check_dropout_forward(pkg, variant):
    for keep in (0.3, 0.75):
        x = dropout_input()
        x0 = x.copy()
        param = {"mode": "train", "p": p_for(keep, variant), "seed": 7}
        out, _ = pkg.layers.dropout_forward(x, dict(param))
        again, _ = pkg.layers.dropout_forward(x, dict(param))
        multiplier = np.asarray(out) / x0
        kept = multiplier != 0
        if (why := mutated(x=(x, x0))):
            return why
        if not np.array_equal(out, again):
            return "the same seed gave two different outputs"
        if not np.allclose(multiplier[kept], 1.0 / keep, rtol=1e-12):
            return f"kept units scaled by {np.unique(np.round(multiplier[kept], 6))[:3]}, expected 1/keep = {1 / keep:.6g}"
        if abs(kept.mean() - keep) > 0.02:   # 20000 draws: the keep rate's standard deviation is < 0.0035
            return f"keep rate {kept.mean():.3f}, expected {keep}"
        if np.all(kept == kept[0]):
            return "every sample got the same mask"
        test_out, _ = pkg.layers.dropout_forward(x, {"mode": "test", "p": param["p"]})
        if (why := differs("out (test)", test_out, x0)):
            return why
    return None


def check_dropout_backward(pkg, variant):
    x, dout = dropout_input(), rng().normal(size=(400, 50))
    p = p_for(0.6, variant)
    out, cache = pkg.layers.dropout_forward(x, {"mode": "train", "p": p, "seed": 7})
    d0 = dout.copy()
    dx = pkg.layers.dropout_backward(dout, cache)
    # Judged against the multiplier its own forward applied (forward's rules are dropout_forward's).
    why = first(mutated(dout=(dout, d0)), differs("dx (train)", dx, d0 * (np.asarray(out) / x)))
    if why:
        return why
    # Without a seed the backward must still use the forward's mask (a redrawn one would differ).
    out, cache = pkg.layers.dropout_forward(x, {"mode": "train", "p": p})
    if (why := differs("dx (train, unseeded)", pkg.layers.dropout_backward(d0.copy(), cache), d0 * (np.asarray(out) / x))):
        return why
    _, test_cache = pkg.layers.dropout_forward(x, {"mode": "test", "p": p})
    return differs("dx (test)", pkg.layers.dropout_backward(d0.copy(), test_cache), d0)


def _two_steps(fn, w, config, dws):
    ws = []
    for dw in dws:
        w, config = fn(w.copy(), dw.copy(), config)
        ws.append(w)
    return ws, config


def optim_inputs(scale=1.0):
    r = rng()
    return r.normal(size=(3, 4)), [scale * r.normal(size=(3, 4)) for _ in range(2)]


def check_sgd(pkg, variant):
    w, (dw, _) = optim_inputs()
    next_w, _ = pkg.optim.sgd(w.copy(), dw.copy(), {"learning_rate": 0.05})
    return differs("next_w", next_w, w - 0.05 * dw)


def check_sgd_momentum(pkg, variant):
    w, dws = optim_inputs()
    v = rng().normal(size=(3, 4))
    ws, config = _two_steps(pkg.optim.sgd_momentum, w, {"learning_rate": 0.05, "momentum": 0.8, "velocity": v.copy()}, dws)
    expected = []
    for dw in dws:
        v = 0.8 * v - 0.05 * dw
        w = w + v
        expected.append(w)
    return first(differs("w after step 1", ws[0], expected[0]), differs("w after step 2", ws[1], expected[1]),
                 differs("velocity", config.get("velocity"), v))


def check_rmsprop(pkg, variant):
    w, dws = optim_inputs(scale=1e-3)   # a small cache makes where epsilon sits matter
    cache = rng().uniform(0.0, 1e-6, size=(3, 4))
    ws, config = _two_steps(pkg.optim.rmsprop, w, {"learning_rate": 0.01, "decay_rate": 0.9, "epsilon": 1e-8,
                                                   "cache": cache.copy()}, dws)
    expected = []
    for dw in dws:
        cache = 0.9 * cache + 0.1 * dw ** 2
        w = w - 0.01 * dw / (np.sqrt(cache) + 1e-8)
        expected.append(w)
    return first(differs("w after step 1", ws[0], expected[0]), differs("w after step 2", ws[1], expected[1]),
                 differs("cache", config.get("cache"), cache))


def check_adam(pkg, variant):
    w, dws = optim_inputs()
    m, v = 0.1 * rng().normal(size=(3, 4)), rng().uniform(0.0, 0.1, size=(3, 4))
    # t given explicitly: the course's default start differs across years; t is incremented before use.
    config = {"learning_rate": 0.01, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "m": m.copy(), "v": v.copy(), "t": 5}
    ws, config = _two_steps(pkg.optim.adam, w, config, dws)
    expected, t = [], 5
    for dw in dws:
        t += 1
        m = 0.9 * m + 0.1 * dw
        v = 0.999 * v + 0.001 * dw ** 2
        w = w - 0.01 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
        expected.append(w)
    return first(differs("w after step 1", ws[0], expected[0]), differs("w after step 2", ws[1], expected[1]),
                 differs("m", config.get("m"), m), differs("v", config.get("v"), v),
                 None if config.get("t") == t else f"t = {config.get('t')}, expected {t}")


# --- FullyConnectedNet ------------------------------------------------------------------------------------
FC_KWARGS = {
    "plain": {"2017": {}, "2019": {}, "2021": {}},
    "reg": {v: {"reg": 0.7} for v in manifest.VARIANTS},
    "batchnorm": {"2017": {"use_batchnorm": True}, "2019": {"normalization": "batchnorm"},
                  "2021": {"normalization": "batchnorm"}},
    "layernorm": {"2019": {"normalization": "layernorm"}, "2021": {"normalization": "layernorm"}},
    "dropout": {"2017": {"dropout": 0.4}, "2019": {"dropout": 0.6}, "2021": {"dropout_keep_ratio": 0.6}},
}
KEEP = 0.6
SIGNATURE = {"2017": ("dropout", "use_batchnorm"), "2019": ("dropout", "normalization"),
             "2021": ("dropout_keep_ratio", "normalization")}


def fc_params(dims, norm, r):
    params = {}
    for i in range(1, len(dims)):
        params[f"W{i}"] = 0.5 * r.normal(size=(dims[i - 1], dims[i]))
        params[f"b{i}"] = 0.1 * r.normal(size=dims[i])
        if norm and i < len(dims) - 1:
            params[f"gamma{i}"] = 1.0 + 0.2 * r.normal(size=dims[i])
            params[f"beta{i}"] = 0.1 * r.normal(size=dims[i])
    return params


def torch_fc(params, X, y, norm, reg, multipliers):
    """The net in torch: scores, and the training loss (mean cross-entropy + 0.5 reg sum W^2)."""
    tp = {k: tt(v) for k, v in params.items()}
    L = sum(k.startswith("W") for k in params)
    h = torch.tensor(X.reshape(len(X), -1))
    for i in range(1, L):
        z = h @ tp[f"W{i}"] + tp[f"b{i}"]
        if norm == "batchnorm":
            z = _bn(z, tp[f"gamma{i}"], tp[f"beta{i}"])
        elif norm == "layernorm":
            z = _ln(z, tp[f"gamma{i}"], tp[f"beta{i}"])
        h = torch.relu(z)
        if multipliers is not None:
            h = h * torch.tensor(multipliers[i - 1])
    scores = h @ tp[f"W{L}"] + tp[f"b{L}"]
    loss = F.cross_entropy(scores, torch.tensor(y)) + 0.5 * reg * sum((tp[f"W{i}"] ** 2).sum() for i in range(1, L + 1))
    loss.backward()
    return scores, loss, {k: t.grad for k, t in tp.items()}


def judge_multipliers(records):
    """The dropout multipliers the net applied (out / x where x != 0): values, keep rate, independence."""
    multipliers = []
    for x, out in records:
        live = x != 0   # after a ReLU; where x is 0 the multiplier is invisible and irrelevant
        multiplier = np.where(live, np.asarray(out) / np.where(live, x, 1.0), 0.0)
        kept = (multiplier != 0) & live
        if not np.allclose(multiplier[kept], 1.0 / KEEP, rtol=1e-12):
            return None, "dropout in the net does not scale kept units by 1/keep"
        if abs(kept.sum() / live.sum() - KEEP) > 0.08:   # ~1000 live units: 5 standard deviations
            return None, f"dropout in the net keeps {kept.sum() / live.sum():.2f}, expected {KEEP}"
        columns_constant = all(len(set(kept[live[:, j], j])) <= 1 for j in range(x.shape[1]))
        if columns_constant:
            return None, "dropout in the net uses one mask for every sample"
        multipliers.append(multiplier)
    return multipliers, None


def check_fc(pkg, variant, kind):
    r = np.random.default_rng(5)
    n, hidden = (40, [50, 30]) if kind == "dropout" else (6, [7, 5])
    X, y = r.normal(size=(n, 2, 3)), r.integers(0, 4, size=n)
    dims = [6] + hidden + [4]
    norm = {"batchnorm": "batchnorm", "layernorm": "layernorm"}.get(kind)
    kwargs = dict(FC_KWARGS[kind][variant], input_dim=6, num_classes=4, weight_scale=0.5, dtype=np.float64, seed=3)
    model = pkg.fc_net.FullyConnectedNet(hidden, **kwargs)
    params = fc_params(dims, norm, r)
    got_shapes = {k: np.shape(v) for k, v in model.params.items()}
    if got_shapes != {k: v.shape for k, v in params.items()}:
        return f"constructor params {got_shapes}, expected {({k: v.shape for k, v in params.items()})}"
    for k, v in params.items():
        model.params[k] = v.copy()
    records, original = [], getattr(pkg.fc_net, "dropout_forward", None)

    def recording_dropout(x, dropout_param):
        out, cache = original(x, dropout_param)
        records.append((np.array(x), np.array(out)))
        return out, cache

    if kind == "dropout":
        pkg.fc_net.dropout_forward = recording_dropout
    try:
        loss, grads = model.loss(X, y)
    finally:
        if kind == "dropout":
            pkg.fc_net.dropout_forward = original
    multipliers = None
    if kind == "dropout":
        multipliers, why = judge_multipliers(records)
        if why:
            return why
    _, ref_loss, ref_grads = torch_fc(params, X, y, norm, kwargs.get("reg", 0.0), multipliers)
    if set(grads) != set(ref_grads):
        return f"grads has keys {sorted(grads)}, expected {sorted(ref_grads)}"
    why = first(differs("loss", loss, ref_loss), *(differs(k, grads[k], ref_grads[k]) for k in sorted(ref_grads)))
    if why or kind != "plain":
        return why
    scores = model.loss(X)
    ref_scores, _, _ = torch_fc(params, X, y, None, 0.0, None)
    return differs("test-mode scores", scores, ref_scores)


CHECKS = {unit: globals()[f"check_{unit}"] for unit in manifest.LAYER_UNITS + manifest.OPTIM_UNITS}
CHECKS.update({f"FullyConnectedNet[{k}]": (lambda kind: lambda pkg, v: check_fc(pkg, v, kind))(k) for k in FC_KWARGS})


def run(pkg, unit, variant):
    """None when the unit is right, else why not (an exception raised by the package counts as wrong)."""
    try:
        with np.errstate(all="ignore"):   # an overflow in the package is judged by its result
            return CHECKS[unit](pkg, variant)
    except Exception as exc:   # the package's own error is the finding
        return f"raised {type(exc).__name__}: {exc}"


def verdicts(name, pkg):
    entry = manifest.ENTRIES[name]
    return {unit: run(pkg, unit, entry["variant"]) for unit, status in entry["expected"].items() if status in ("pass", "fail")}


# --- the tests ----------------------------------------------------------------------------------------------
BASE_NAMES = sorted(manifest.BASES)
BUG_NAMES = sorted(manifest.BUGS)


@pytest.mark.parametrize("name", BASE_NAMES)
def test_base_is_correct_and_complete_for_its_year(name, load):
    entry, pkg = manifest.ENTRIES[name], load(name)
    wrong = {unit: why for unit, why in verdicts(name, pkg).items() if why}
    assert not wrong, f"{name} is a base but disagrees with torch: {wrong}"
    assert set(entry["expected"].values()) <= {"pass", "n/a"}
    for unit, status in entry["expected"].items():
        if status == "n/a" and unit in manifest.LAYER_UNITS:
            assert not hasattr(pkg.layers, unit), f"{name}: {unit} is n/a for its year but is defined"
    init = inspect.signature(pkg.fc_net.FullyConnectedNet.__init__).parameters
    assert all(k in init for k in SIGNATURE[entry["variant"]]), f"{name}: constructor {list(init)}"


def test_the_zip_base_loads_from_a_zip_as_the_course_packs_it(tmp_path):
    name = next(n for n, e in manifest.BASES.items() if e.get("zip"))
    archive = submission_zip(ZOO / manifest.BASES[name]["path"], tmp_path / "assignment2.zip")
    import zipfile
    names = zipfile.ZipFile(archive).namelist()
    assert "cs231n/layers.py" in names and "FullyConnectedNets.ipynb" in names
    assert not any("__pycache__" in n for n in names)
    pkg = import_package(archive)
    assert ".zip" in pkg.layers.__file__
    assert run(pkg, "FullyConnectedNet[batchnorm]", "2019") is None


def changed_files(entry):
    base, copy = ZOO / manifest.ENTRIES[entry["base"]]["path"], ZOO / entry["path"]
    files = {p.relative_to(base) for p in base.rglob("*.py")} | {p.relative_to(copy) for p in copy.rglob("*.py")}
    return {str(f): (base / f, copy / f) for f in sorted(files)
            if not ((base / f).exists() and (copy / f).exists() and (base / f).read_text() == (copy / f).read_text())}


@pytest.mark.parametrize("name", BUG_NAMES)
def test_bug_is_one_small_edit_of_one_file_of_its_base(name):
    entry = manifest.BUGS[name]
    changed = changed_files(entry)
    assert list(changed) == [entry["file"]], f"{name}: changed {list(changed)}, the manifest says {entry['file']}"
    before, after = (p.read_text().splitlines() for p in changed[entry["file"]])
    diff = [d for d in difflib.unified_diff(before, after, lineterm="", n=0) if d[:1] in "+-" and d[:3] not in ("+++", "---")]
    removed, added = sum(d.startswith("-") for d in diff), sum(d.startswith("+") for d in diff)
    assert 0 < max(removed, added) <= 10, f"{name}: -{removed} +{added} lines"
    ast.parse("\n".join(after))


@pytest.mark.parametrize("name", BUG_NAMES)
def test_bug_fails_exactly_the_units_the_manifest_names(name, load):
    key = f"bug:{name}"
    entry = manifest.ENTRIES[key]
    found = verdicts(key, load(key))
    got = {unit: ("fail" if why else "pass") for unit, why in found.items()}
    expected = {unit: s for unit, s in entry["expected"].items() if s in ("pass", "fail")}
    assert got == expected, {u: (expected[u], got[u], found[u]) for u in got if got[u] != expected[u]}
    assert "fail" in got.values(), f"{name} changes no unit's output: not a bug"


# A control for each unit no bug in the zoo reaches: the check itself must be able to fail.
def _scaled(fn, factor):
    def wrong(*args, **kwargs):
        result = fn(*args, **kwargs)
        return (result[0] * factor,) + tuple(result[1:]) if isinstance(result, tuple) else result * factor
    return wrong


NEGATIVE_CONTROLS = {
    "affine_forward": ("layers", lambda f: lambda x, w, b: f(x, w, 0 * b)),
    "relu_forward": ("layers", lambda f: lambda x: (np.abs(x), x)),
    "batchnorm_backward_alt": ("layers", lambda f: _scaled(f, 2.0)),
    "sgd": ("optim", lambda f: lambda w, dw, config=None: f(w, 2 * dw, config)),
}


@pytest.mark.parametrize("unit", sorted(NEGATIVE_CONTROLS))
def test_each_check_fails_a_planted_mistake(unit, load):
    name = "b2021_vectorized"
    pkg = load(name)
    module, plant = NEGATIVE_CONTROLS[unit]
    original = getattr(getattr(pkg, module), unit)
    wrong = SimpleNamespace(**{**vars(pkg), module: SimpleNamespace(**{**vars(getattr(pkg, module)), unit: plant(original)})})
    assert run(pkg, unit, "2021") is None
    assert run(wrong, unit, "2021") is not None


def test_manifest_covers_the_zoo_and_names_valid_verdicts():
    folders = {f"{kind}/{p.name}" for kind in ("bases", "bugs", "hostile") for p in (ZOO / kind).iterdir() if p.is_dir()}
    assert folders == {e["path"] for e in manifest.ENTRIES.values()}
    for name, entry in manifest.ENTRIES.items():
        assert set(entry["expected"]) == set(manifest.UNITS), name
        assert set(entry["expected"].values()) <= set(manifest.STATUSES), name
        assert entry["variant"] in manifest.VARIANTS and entry["why"], name
        if entry["kind"] == "bug":
            failing = {u for u, s in entry["expected"].items() if s == "fail"}
            assert failing == set(entry["diagnosis"]), name
            assert set(entry["diagnosis"].values()) <= set(manifest.DIAGNOSES), name
    named = {d for e in manifest.BUGS.values() for d in e["diagnosis"].values()}
    assert named == set(manifest.DIAGNOSES)
    assert sum(e["variant"] == "2017" for e in manifest.BASES.values()) >= 3
    assert sum(e.get("zip", False) for e in manifest.BASES.values()) == 1


# --- hostile packages: read, never run -------------------------------------------------------------------
def hostile(name, rel):
    return ZOO / manifest.HOSTILE[name]["path"] / rel


def function(tree, name):
    return next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name)


def test_hostile_infinite_loop_never_advances_its_index():
    loop = next(n for n in ast.walk(function(ast.parse(hostile("infinite_loop", "cs231n/layers.py").read_text()),
                                             "relu_backward")) if isinstance(n, ast.While))
    assigned = {t.id for n in ast.walk(loop) if isinstance(n, (ast.Assign, ast.AugAssign))
                for t in (n.targets if isinstance(n, ast.Assign) else [n.target]) if isinstance(t, ast.Name)}
    assert "i" not in assigned


def test_hostile_optim_raises_at_import():
    source = hostile("raises_at_import", "cs231n/optim.py").read_text()
    with pytest.raises(TypeError):
        exec(compile(source, "optim.py", "exec"), {"__name__": "zoo_optim_raises"})


def test_hostile_missing_optim_and_partial_layernorm():
    assert not hostile("missing_optim", "cs231n/optim.py").exists()
    assert hostile("missing_optim", "cs231n/layers.py").exists()
    defined = {n.name for n in ast.parse(hostile("partial_layernorm", "cs231n/layers.py").read_text()).body
               if isinstance(n, ast.FunctionDef)}
    assert {"batchnorm_forward", "dropout_forward"} <= defined and not defined & {"layernorm_forward", "layernorm_backward"}
    assert "layernorm_forward(" in hostile("partial_layernorm", "cs231n/classifiers/fc_net.py").read_text()


def test_hostile_print_flood_prints_a_million_lines_in_affine_forward():
    tree = function(ast.parse(hostile("print_flood", "cs231n/layers.py").read_text()), "affine_forward")
    loop = next(n for n in ast.walk(tree) if isinstance(n, ast.For))
    assert ast.unparse(loop.iter) == "range(10 ** 6)"
    assert any(isinstance(n, ast.Call) and getattr(n.func, "id", None) == "print" for n in ast.walk(loop))
