"""Paired timing: each side in its own long-lived process, taking turns A B B A, median of ratios.

Absolute times drift 30-50% between identical runs on a shared 2-core machine, but two processes
that take turns within a second see the same machine, so the ratio of the two is stable. Each
process only ever loads what its side needs (the numpy worker never imports torch), and the
thread variables are set before either library loads, so an idle side does not spin.

Worker protocol, one JSON object per line on stdin/stdout:
    {"side": "numpy", "args": [...], "budget": 0.2, "blocks": 5}  ->  {"seconds": <s per call>}
    {"info": true}                                   ->  {"blas": "...", "pid": ...}
"""
import json
import os
import statistics
import subprocess
import sys
import time

from mlp_ref.env import THREAD_VARIABLES

THREAD_ENV = THREAD_VARIABLES
# A turn is the fastest of BLOCKS blocks of n calls: other work on a shared machine only ever
# adds time, so the fastest block is the nearest to what the code itself costs.
BLOCKS = 5


def _sides():
    from mlp_ref.bench import hazard, workloads

    def sized(make):
        return lambda size, dtype: make(workloads.Size("custom", *size), dtype)
    return {"numpy": sized(workloads.numpy_step), "torch": sized(workloads.torch_step),
            "jax": sized(workloads.jax_step),
            "torch-cuda": lambda size, dtype: workloads.torch_step(workloads.Size("custom", *size), dtype, "cuda"),
            "gemm": sized(workloads.gemm_only), "bare": sized(workloads.bare_step), **hazard.SIDES}


def measure(fn, budget, blocks=BLOCKS):
    """Seconds per call of fn in the fastest of `blocks` blocks that together take about `budget` s.

    A first call sizes the blocks; when it alone fills a block's share of the budget (large
    sizes), it counts as the first block, so a slow step is not run once more just to size it.
    Budget 0: one call per block, no sizing call.
    """
    times = []
    n = 1
    if budget > 0:
        start = time.perf_counter()
        fn()
        once = time.perf_counter() - start
        n = max(1, int(budget / blocks / max(once, 1e-7)))
        if n == 1:
            times.append(once)
    while len(times) < blocks:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        times.append((time.perf_counter() - start) / n)
    return min(times)


def worker():
    """Serve measurements until stdin closes; each (side, args) is built once and kept warm."""
    sides, built = _sides(), {}
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("info"):
            from mlp_ref.bench import runtime
            blas = (runtime.torch_blas() if "torch" in sys.modules else
                    runtime.jax_backend() if "jax" in sys.modules else runtime.numpy_blas())
            reply = {"blas": blas, "pid": os.getpid(), "torch_loaded": "torch" in sys.modules}
        else:
            key = (request["side"], json.dumps(request["args"]))
            if key not in built:
                built[key] = sides[request["side"]](*request["args"])
                built[key]()  # the first call pays for lazy imports, allocation and page faults
            reply = {"seconds": measure(built[key], request["budget"], request.get("blocks", BLOCKS))}
        print(json.dumps(reply), flush=True)


class Worker:
    """One side's process. The environment carries the thread variables before anything loads."""

    def __init__(self, name, env=None):
        """env: variables to set on top of THREAD_ENV (a control run can undo them this way)."""
        self.name = name
        env = {**os.environ, **THREAD_ENV, **(env or {})}
        self.proc = subprocess.Popen([sys.executable, "-m", "mlp_ref.bench.paired", "--worker"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)

    def ask(self, **request):
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"bench worker {self.name!r} died (exit code {self.proc.wait()})")
        return json.loads(line)

    def time(self, side, args, budget, blocks=BLOCKS):
        return self.ask(side=side, args=args, budget=budget, blocks=blocks)["seconds"]

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


if __name__ == "__main__" and sys.argv[1:] == ["--worker"]:
    worker()
