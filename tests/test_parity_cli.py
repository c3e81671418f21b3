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
                 "sigmoid/sigmoid/bce-sum float64 cpu", "tanh/identity/mse-mean adam float64 cpu",
                 "relu/identity/mse-sum batchnorm dropout 0.2 adam float64 cpu"):
        assert task in out
    assert out.count("quantity ") == 10
    assert "5 -> 16 -> 12 -> 8 -> 3, batch 16, 20 steps, lr 0.01" in out, "the deep anchor: three hidden layers"
    for row in ("dW4", "exp_avg ", "exp_avg_sq", "dgamma1", "beta2", "running_var2", "eval:y_hat"):
        assert f"\n  {row}" in out
    assert out.strip().splitlines()[-1] == "parity: 10/10 runs match torch step for step -> OK"


def test_json_has_a_top_level_ok_and_a_report_per_run(capsys):
    assert main(["parity", "--steps", "3", "--dtype", "float64", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True and len(report["runs"]) == 5
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
    monkeypatch.setitem(fn.ACTIVATIONS, "relu", fn.ACTIVATIONS["relu"]._replace(backward=lambda dout, cache: dout))
    assert main(["parity", "--steps", "3", "--dtype", "float64"]) == 1
    out = capsys.readouterr().out
    assert "parity failed: relu/identity/mse-sum float64 cpu: step 1, backward, dz1" in out
    assert out.strip().splitlines()[-1] == "parity: 3/5 runs match torch step for step -> FAIL", "relu: two anchors"


def test_json_stays_strict_when_the_errors_are_infinite(capsys, monkeypatch):
    infinite = fn.ACTIVATIONS["relu"]._replace(backward=lambda dout, cache: dout * np.inf)
    monkeypatch.setitem(fn.ACTIVATIONS, "relu", infinite)
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


@pytest.mark.parametrize("args, message", [
    (["--n-hidden", "0"], "--n-hidden: expected a positive integer, got 0"),
    (["--lr", "nan"], "--lr: expected a finite number >= 0, got 'nan'"),
    (["--hidden", "64,x"], "--hidden: expected hidden widths separated by commas, like 64,32, got '64,x'"),
    (["--hidden", "64,0"], "--hidden: expected positive widths, like 64,32, got '64,0'"),
    (["--hidden", "4", "--n-hidden", "3"], "--hidden: expected either --hidden (a deep model) or --n-hidden"),
    (["--optim", "lbfgs"], "--optim: invalid choice: 'lbfgs'"),
    (["--optim", "sgd", "--momentum", "-0.9"], "--momentum: expected a finite number >= 0, got '-0.9'"),
    (["--optim", "sgd", "--momentum", "fast"], "--momentum: expected a finite number, got 'fast'"),
    (["--optim", "sgd", "--nesterov"], "--nesterov: needs --momentum > 0 and --dampening 0, as torch requires"),
    (["--optim", "sgd", "--nesterov", "--momentum", "0.9", "--dampening", "0.1"], "--nesterov: needs --momentum > 0"),
    (["--optim", "adam", "--betas", "0.9"], "--betas: expected two numbers separated by a comma, like 0.9,0.999, got '0.9'"),
    (["--optim", "adamw", "--betas", "0.9,1"], "--betas: expected beta2 in [0, 1), got '0.9,1'"),
    (["--optim", "adam", "--eps=-1e-8"], "--eps: expected a finite number >= 0, got '-1e-8'"),
    (["--optim", "adamw", "--weight-decay", "-1"], "--weight-decay: expected a finite number >= 0, got '-1'"),
    (["--optim", "rmsprop", "--alpha", "-0.5"], "--alpha: expected a finite number >= 0, got '-0.5'"),
    (["--optim", "sgd", "--amsgrad"], "--amsgrad: an argument of adam and adamw only, so expected --optim adam or adamw, got --optim sgd"),
    (["--momentum", "0.9"], "--momentum: an argument of sgd and rmsprop only, so expected --optim sgd or rmsprop, got no --optim"),
    (["--optim", "adam", "--centered"], "--centered: an argument of rmsprop only, so expected --optim rmsprop, got --optim adam"),
])
def test_bad_options_are_named(capsys, args, message):
    assert main(["parity", "--steps", "2", "--dtype", "float64", *args]) == 2
    out = capsys.readouterr()
    assert out.err.startswith(f"mlp-ref parity: {message}") and out.err.count("\n") == 1 and out.out == "", out


def test_a_deep_custom_task_with_an_optimizer_from_the_flags(capsys):
    assert main(["parity", "--hidden", "6,5", "--optim", "adamw", "--amsgrad", "--weight-decay", "0.05", "--betas",
                 "0.8,0.99", "--eps", "1e-7", "--f", "leaky_relu", "--lr", "0.003", "--steps", "5", "--dtype",
                 "float64"]) == 0
    out = capsys.readouterr().out
    assert "leaky_relu/identity/mse-sum adamw weight_decay=0.05 betas=(0.8, 0.99) eps=1e-07 amsgrad=True" in out
    assert "5 -> 6 -> 5 -> 3" in out and "\n  max_exp_avg_sq " in out


def test_norm_and_dropout_flags_train_every_anchor(capsys):
    assert main(["parity", "--norm", "layer", "--dropout", "0.1", "--norm-eps", "1e-3", "--steps", "3",
                 "--dtype", "float64"]) == 0
    out = capsys.readouterr().out
    assert out.count("layernorm dropout 0.1") == 5 and "batchnorm" not in out
    assert main(["parity", "--f", "tanh", "--norm", "batch", "--norm-momentum", "0.5", "--steps", "3",
                 "--dtype", "float64", "--json"]) == 0
    run = json.loads(capsys.readouterr().out)["runs"][0]
    assert run["config"]["norm_momentum"] == 0.5 and "running_mean1" in run["worst"]


def test_a_batch_of_one_gives_the_norm_anchor_layer_norm(capsys):
    assert main(["parity", "--batch", "1", "--steps", "2", "--dtype", "float64"]) == 0
    assert "relu/identity/mse-sum layernorm dropout 0.2 adam" in capsys.readouterr().out


@pytest.mark.parametrize("argv, words", [
    (["--norm-eps", "1e-3"], "--norm-eps: only a norm uses it, so expected --norm batch or --norm layer, got no --norm"),
    (["--norm", "layer", "--norm-momentum", "0.2"], "--norm-momentum: only batch norm's running statistics use it"),
    (["--dropout", "1"], "--dropout: expected a finite number >= 0 and < 1, got '1'"),
    (["--dropout", "-0.5"], "--dropout: expected a finite number >= 0 and < 1, got '-0.5'"),
    (["--norm", "group"], "--norm: invalid choice: 'group'"),
    (["--norm", "batch", "--norm-eps", "0"], "--norm-eps: expected a finite number > 0, got '0'"),
    (["--norm", "batch", "--norm-momentum", "1.5"], "--norm-momentum: expected a finite number >= 0 and <= 1"),
    (["--norm", "batch", "--batch", "1"], "--batch: batch norm in training needs more than 1 sample per batch"),
])
def test_bad_norm_and_dropout_flags_are_refused_by_name(capsys, argv, words):
    assert main(["parity", *argv]) == 2
    assert words in capsys.readouterr().err
