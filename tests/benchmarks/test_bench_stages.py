"""The reference's five stages, each timed alone, per size and dtype (one group each)."""
import numpy as np
import pytest

from mlp_ref.bench.workloads import DTYPES, SIZES, numpy_stages

STAGES = ("forward", "loss", "zero_grad", "backward", "step")


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", SIZES)
def test_numpy_stage(benchmark, size, dtype, stage):
    benchmark.group = f"stages {SIZES[size].label} {dtype}"
    benchmark.extra_info.update(size=size, dtype=dtype, side="numpy", stage=stage)
    net, stages = numpy_stages(SIZES[size], dtype)
    benchmark(stages[stage])
    # The timed calls ran on a live model: a stage that silently did nothing would leave no trace,
    # but one that broke the model (a stale workspace, say) would leave non-finite values.
    assert net.cache is not None and all(np.isfinite(v).all() for v in net.params.values())
