"""The same-process hazard: is `mlp-ref parity` slower than its two sides run apart?

parity alternates numpy and torch in one process. Without OPENBLAS_THREAD_TIMEOUT and
OMP_WAIT_POLICY=PASSIVE, each library's idle threads spin on the 2 cores while the other works.
Here the default parity job is timed whole (one process, both libraries) and split into its two
sides, each run alone in a process of its own:
    numpy side: the reference's five stages, the grads copy and the comparisons (numpy work,
                done here against a copy of the reference's own values);
    torch side: the twin's five stages and the copies of its tensors into numpy.
The goal: parity <= 1.2 x (numpy side + torch side).

The default job is small enough that neither library starts its threads, so it cannot show the
hazard. The control does: parity at the small size (64, 784 -> 128 -> 10), run with the variables
and, in another process, with spinning threads (OpenBLAS's default timeout, OMP_WAIT_POLICY=ACTIVE).
"""
import numpy as np

from mlp_ref.compare import compare
from mlp_ref.env import SPINNING_VARIABLES as SPINNING_ENV
from mlp_ref.parity import anchor_configs, batches, stages
from mlp_ref.tolerances import tolerance


def default_configs():
    """What `mlp-ref parity` runs with no arguments on a machine without CUDA."""
    return anchor_configs(("float64", "float32"), ("cpu",))


def parity_run():
    from mlp_ref.parity import run_parity

    def run():
        for config in default_configs():
            run_parity(config)
    return run


def numpy_side():
    def run():
        for config in default_configs():
            net, tol = config.model(), tolerance(config.dtype)
            opt = config.optimizer(net)
            names = [name for _, names in stages(net, opt) for name in names]
            for x, y in batches(config):
                value = net.loss(net.forward(x), y)
                net.zero_grad()
                inter = net.backward()
                grads = {f"d{k}": v.copy() for k, v in net.grads.items()}
                opt.step() if opt is not None else net.step(config.lr)
                state = {} if opt is None else {f"{key}[{name}]": v for name, s in opt.state.items()
                                                for key, v in s.items() if isinstance(v, np.ndarray)}
                ours = {**{k: getattr(net.cache, k) for k in net.forward_names},
                        "loss": np.asarray(value, dtype=config.dtype), **inter, **grads, **state, **net.params}
                for name in names:
                    if ours.get(name) is not None:
                        compare(name, ours[name], ours[name].copy(), tol)
    return run


def torch_side():
    from mlp_ref.twin import TorchTwin

    def run():
        for config in default_configs():
            net = config.model()
            opt = config.optimizer(net)
            twin = TorchTwin(net, device=config.device, optimizer=opt)
            for x, y in batches(config):
                t_value = twin.loss(twin.forward(x), y)
                twin.zero_grad()
                t_back = twin.backward()
                twin.step(None if opt is not None else config.lr)
                t_value.item()
                for t in (*twin.inter.values(), *t_back.values()):
                    if t is not None:
                        t.detach().cpu().numpy()
                twin.params()
                twin.state()
    return run


def small_parity_run():
    from mlp_ref.parity import run_parity

    config = anchor_configs(("float32",), ("cpu",), n_in=784, n_hidden=128, n_out=10, batch=64,
                            steps=20, lr=1e-5)[0]
    return lambda: run_parity(config)


SIDES = {"parity": parity_run, "parity-numpy": numpy_side, "parity-torch": torch_side,
         "parity-small": small_parity_run}
