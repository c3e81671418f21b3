"""`mlp-ref explain --norm batch`: batch norm's N x N coupling laid out and checked against torch,
with planted wrong derivations that must fail."""
import json

import numpy as np

from mlp_ref.cli.main import main
from mlp_ref.explain import batchnorm


def test_the_derivation_agrees_with_torch_four_ways(capsys):
    assert main(["explain", "--norm", "batch"]) == 0
    out = capsys.readouterr().out
    for words in ("dz_hat/dz via mean", "dz_hat/dz via variance", "dzn/dz = gamma dz_hat/dz",
                  "dz = gamma s (dout - dbeta/N - z_hat dgamma/N)", "z1 (N=4, H=3)"):
        assert words in out
    assert out.strip().splitlines()[-1].endswith("-> OK")


def test_json_carries_every_feature_and_the_four_ways(capsys):
    assert main(["explain", "--norm", "batch", "--batch", "5", "--n-hidden", "2", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["ok"] is True and len(d["features"]) == 2
    assert np.shape(d["features"][0]["dz_hat/dz"]) == (5, 5)
    assert set(d["gradients"]["dz"]) == {"jacobian", "compact", "reference", "torch"}


def test_the_coupling_ignores_a_shift_of_the_batch_and_a_scale_but_for_eps():
    """Independent of torch: z_hat does not change when z shifts, so each row of dz_hat/dz sums to 0;
    scaling z by (1 + t) moves z_hat only through eps: d z_hat / dt = z_hat eps / (var + eps)."""
    net, x, y = batchnorm.default_model(n_hidden=3, batch=6, seed=3)
    d = batchnorm.derive(net, x, y)
    for j, f in enumerate(d.features):
        J = f["dz_hat/dz"]
        np.testing.assert_allclose(J.sum(axis=1), 0, atol=1e-12)
        along_scale = J @ (d.z[:, j] - d.mean[j])
        np.testing.assert_allclose(along_scale, d.z_hat[:, j] * d.eps / (d.var[j] + d.eps), rtol=1e-8, atol=1e-14)


def test_a_derivation_without_the_variance_term_fails_every_block(monkeypatch, capsys):
    good = batchnorm.jacobian_terms
    monkeypatch.setattr(batchnorm, "jacobian_terms", lambda zh, s: {**good(zh, s), "via variance": 0 * np.eye(len(zh))})
    assert main(["explain", "--norm", "batch"]) == 1
    out = capsys.readouterr().out
    assert "FAIL dzn/dz [feature 0]" in out and "FAIL dz jacobian" in out and "FAIL dz compact" not in out


def test_a_compact_form_without_the_mean_term_fails_there(monkeypatch, capsys):
    def no_mean(dout, z_hat, gamma, inv_std):
        n = dout.shape[0]
        dgamma = (dout * z_hat).sum(axis=0)
        return gamma * inv_std * (dout - z_hat * dgamma / n), dgamma, dout.sum(axis=0)

    monkeypatch.setattr(batchnorm, "compact", no_mean)
    assert main(["explain", "--norm", "batch"]) == 1
    out = capsys.readouterr().out
    assert "FAIL dz compact" in out and "FAIL dz jacobian" not in out


def test_bad_combinations_are_refused_by_name(capsys, tmp_path):
    assert main(["explain", "--norm", "batch", "--input", str(tmp_path / "p.json")]) == 2
    assert "--input: --norm batch derives its own small model" in capsys.readouterr().err
    assert main(["explain", "--norm", "batch", "--batch", "1"]) == 2
    assert "batch: batch norm in training needs more than 1 sample, got 1" in capsys.readouterr().err
    assert main(["explain", "--norm", "layer"]) == 2
    capsys.readouterr()
    assert main(["explain", "--norm", "batch", "--batch", "2000", "--n-hidden", "400"]) == 2
    err = capsys.readouterr().err
    assert "--n-hidden 400 --batch 2000 --norm batch: would need about" in err and "over the memory limit" in err
