"""`mlp-ref parity`, the main job: a table per task, one summary line, exit 0 only when all match."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mlp_ref import functional as fn
from mlp_ref.cli.main import main


def test_the_main_job_passes_and_prints_a_table_per_task(capsys):
    assert main(["parity", "--steps", "20"]) == 0
    out = capsys.readouterr().out
    for task in ("relu/identity/mse-sum float64 cpu", "sigmoid/sigmoid/mse-sum float32 cpu, resynced",
                 "sigmoid/sigmoid/bce-sum float64 cpu"):
        assert task in out
    assert out.count("quantity  max |err|") == 6
    assert out.strip().splitlines()[-1] == "parity: 6/6 runs match torch step for step -> OK"


def test_json_has_a_top_level_ok_and_a_report_per_run(capsys):
    assert main(["parity", "--steps", "3", "--dtype", "float64", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True and len(report["runs"]) == 3
    run = report["runs"][0]
    assert run["config"]["steps"] == 3 and len(run["steps"]) == 3
    worst = run["worst"]["dW1"]
    assert {"max_abs", "max_rel", "worst_index", "actual", "expected", "rtol", "atol", "ok", "step"} <= set(worst)


def test_a_custom_task_from_the_options(capsys):
    assert main(["parity", "--f", "tanh", "--g", "softmax", "--steps", "5", "--n-in", "3", "--n-hidden", "4",
                 "--n-out", "6", "--batch", "2", "--dtype", "float32"]) == 0
    out = capsys.readouterr().out
    assert "tanh/softmax/ce-mean float32 cpu" in out and "3 -> 4 -> 6, batch 2, 5 steps" in out


def test_a_wrong_reference_makes_the_main_job_fail_with_exit_1(capsys, monkeypatch):
    """Negative control: plant ReLU'(z) = 1 everywhere; the regression task must fail."""
    monkeypatch.setitem(fn.ACTIVATIONS, "relu", fn.Activation(fn.relu_forward, lambda dout, cache: dout))
    assert main(["parity", "--steps", "3", "--dtype", "float64"]) == 1
    out = capsys.readouterr().out
    assert "parity failed: relu/identity/mse-sum float64 cpu: step 1, backward, dz1" in out
    assert out.strip().splitlines()[-1] == "parity: 2/3 runs match torch step for step -> FAIL"


def test_json_stays_strict_when_the_errors_are_infinite(capsys, monkeypatch):
    monkeypatch.setitem(fn.ACTIVATIONS, "relu", fn.Activation(fn.relu_forward, lambda dout, cache: dout * np.inf))
    assert main(["parity", "--steps", "1", "--dtype", "float64", "--json"]) == 1
    report = json.loads(capsys.readouterr().out, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    assert report["ok"] is False and report["runs"][0]["worst"]["dz1"]["max_abs"] == "inf"


def test_a_diverging_run_is_a_failure_with_a_clear_line_not_bad_input(capsys):
    assert main(["parity", "--lr", "50", "--steps", "30", "--dtype", "float64"]) == 1
    assert "training diverged: try a smaller lr" in capsys.readouterr().err


def test_importing_the_package_sets_the_thread_variables_before_numpy_loads():
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_THREAD_TIMEOUT", "OMP_WAIT_POLICY")}
    probe = ("import sys, os, mlp_ref.cli.main; assert 'torch' not in sys.modules;"
             "print(os.environ['OPENBLAS_THREAD_TIMEOUT'], os.environ['OMP_WAIT_POLICY'])")
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["4", "PASSIVE"]


def test_the_console_script_is_installed_and_runs():
    script = Path(sys.executable).with_name("mlp-ref")
    done = subprocess.run([str(script), "parity", "--steps", "2", "--dtype", "float64"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith("-> OK")


@pytest.mark.parametrize("args, message", [(["--n-hidden", "0"], "--n-hidden: expected a positive integer, got 0"),
                                           (["--lr", "nan"], "--lr: expected a finite number >= 0, got 'nan'")])
def test_bad_options_are_named(capsys, args, message):
    assert main(["parity", "--steps", "2", "--dtype", "float64", *args]) == 2
    out = capsys.readouterr()
    assert message in out.err and out.out == ""
