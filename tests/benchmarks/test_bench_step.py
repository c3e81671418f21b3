"""One full training step (SGD; Adam for the medium-adam size), numpy reference against torch eager
and jax.jit (when the optional extra `bench` is installed), per size and dtype (one group each).

The GEMM-only benchmark in each group is numpy's own rate on the step's GEMMs, the ceiling
the summary measures the numpy step against.
"""
import numpy as np
import pytest
import torch

from mlp_ref.bench.workloads import (DTYPES, JAX_MISSING, SIZES, gemm_only, jax_available, jax_step, numpy_step,
                                     step_flops, torch_step)

JAX = pytest.mark.skipif(not jax_available(), reason=JAX_MISSING)
CUDA = pytest.mark.skipif(not torch.cuda.is_available(),
                          reason="CUDA not available: torch.cuda.is_available() is False")


def label(benchmark, size, dtype, side):
    benchmark.group = f"step {SIZES[size].label} {dtype}"
    benchmark.extra_info.update(size=size, dtype=dtype, side=side, flops=step_flops(SIZES[size]))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", SIZES)
def test_numpy_step(benchmark, size, dtype):
    label(benchmark, size, dtype, "numpy")
    step = numpy_step(SIZES[size], dtype)
    before = step.net.params["W1"].copy()
    benchmark(step)
    assert not np.array_equal(step.net.params["W1"], before), "the timed step did not update W1"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", SIZES)
def test_torch_step_cpu(benchmark, size, dtype):
    label(benchmark, size, dtype, "torch")
    step = torch_step(SIZES[size], dtype)
    before = step.twin.params()["W1"]
    benchmark(step)
    assert not np.array_equal(step.twin.params()["W1"], before), "the timed step did not update W1"


@JAX
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", SIZES)
def test_jax_jit_step_cpu(benchmark, size, dtype):
    label(benchmark, size, dtype, "jax")
    step = jax_step(SIZES[size], dtype)
    step()  # compiles
    before = step.params()["W1"]
    benchmark(step)
    assert not np.array_equal(step.params()["W1"], before), "the timed step did not update W1"


@CUDA
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", SIZES)
def test_torch_step_cuda(benchmark, size, dtype):
    label(benchmark, size, dtype, "torch-cuda")
    step = torch_step(SIZES[size], dtype, device="cuda")  # synchronises before returning
    before = step.twin.params()["W1"]
    benchmark(step)
    assert not np.array_equal(step.twin.params()["W1"], before), "the timed step did not update W1"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", SIZES)
def test_numpy_gemms_alone(benchmark, size, dtype):
    label(benchmark, size, dtype, "gemm")
    benchmark(gemm_only(SIZES[size], dtype))
