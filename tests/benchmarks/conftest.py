"""Benchmarks run by `make bench` (pytest-benchmark); `make test` leaves this folder out by path.

Both libraries share this process, which is fair only because the thread variables are set
before either loads (root conftest.py): an idle library's threads then sleep instead of spinning.
The ratio goals are checked apart, each side in its own process: python -m mlp_ref.bench.
"""
from mlp_ref.bench import runtime


def pytest_benchmark_update_machine_info(config, machine_info):
    machine_info["numpy_blas"] = runtime.numpy_blas()
    machine_info["torch_blas"] = runtime.torch_blas()
