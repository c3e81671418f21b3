"""The model's batch norm, layer norm and dropout: parameters, buffers, modes, masks, refusals, and
every gradient against finite differences (the torch side is tests/test_parity_layers.py)."""
import pickle

import numpy as np
import pytest

from mlp_ref import MLP, functional, memory
from mlp_ref.gradcheck import check_model

D, K, N = 3, 2, 6
HIDDEN = [5, 4]


def data(seed=0, n=N, loss="mse"):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, D))
    y = rng.integers(0, K, n) if loss == "ce" else rng.uniform(0, 1, (n, K))
    return x, y


def test_norm_adds_gamma_and_beta_per_hidden_layer_and_batch_norm_its_running_statistics():
    net = MLP(D, HIDDEN, K, norm="batch")
    assert net.param_names == ("W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3")
    assert tuple(net.buffers) == ("running_mean1", "running_var1", "running_mean2", "running_var2")
    for l, width in enumerate(HIDDEN, start=1):
        assert np.array_equal(net.params[f"gamma{l}"], np.ones(width))
        assert np.array_equal(net.params[f"beta{l}"], np.zeros(width))
        assert np.array_equal(net.buffers[f"running_mean{l}"], np.zeros(width))
        assert np.array_equal(net.buffers[f"running_var{l}"], np.ones(width))
    assert tuple(MLP(D, HIDDEN, K, norm="layer").buffers) == ()


def test_norm_and_dropout_draw_the_same_weights_as_the_plain_model():
    plain = MLP(D, HIDDEN, K, seed=3)
    for kwargs in (dict(norm="batch"), dict(norm="layer", dropout=0.5), dict(dropout=0.2)):
        net = MLP(D, HIDDEN, K, seed=3, **kwargs)
        for name in plain.param_names:
            assert np.array_equal(net.params[name], plain.params[name]), (kwargs, name)


def test_the_plain_model_keeps_its_names_and_cache():
    net = MLP(D, 4, K)
    assert net.param_names == ("W1", "b1", "W2", "b2") and net.buffer_names == () and dict(net.buffers) == {}
    net.forward(data()[0])
    assert type(net.cache).__name__ == "ForwardCache2" and "training" not in net.cache


def test_running_statistics_follow_torchs_rule_with_the_unbiased_variance():
    net = MLP(D, HIDDEN, K, norm="batch", norm_momentum=0.25)
    x, _ = data()
    net.forward(x)
    z1 = net.cache.z1
    np.testing.assert_allclose(net.buffers["running_mean1"], 0.25 * z1.mean(axis=0), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(net.buffers["running_var1"], 0.75 + 0.25 * z1.var(axis=0, ddof=1), rtol=1e-14)
    # The normalization itself uses the biased variance.
    z_hat = (z1 - z1.mean(axis=0)) / np.sqrt(z1.var(axis=0) + 1e-5)
    np.testing.assert_allclose(net.cache.zn1, z_hat, rtol=1e-12, atol=1e-12)


def test_eval_uses_the_running_statistics_and_leaves_them_alone():
    net = MLP(D, HIDDEN, K, norm="batch", dropout=0.5)
    x, _ = data()
    net.forward(x)
    before = {k: v.copy() for k, v in net.buffers.items()}
    assert net.eval() is net and net.training is False
    y_eval = net.forward(x[:1])  # a batch of 1 is fine in evaluation
    assert all(np.array_equal(net.buffers[k], v) for k, v in before.items())
    rm, rv = before["running_mean1"], before["running_var1"]
    z1 = net.cache.z1
    np.testing.assert_allclose(net.cache.zn1, (z1 - rm) / np.sqrt(rv + 1e-5), rtol=1e-13)
    assert net.cache.mask1 is None and net.cache.h1 is net.cache.a1, "dropout is the identity in eval"
    assert y_eval.shape == (1, K)
    assert net.train() is net and net.training is True


def test_batch_norm_in_training_refuses_a_batch_of_one():
    net = MLP(D, HIDDEN, K, norm="batch")
    with pytest.raises(ValueError, match=r"x: batch norm in training mode needs more than 1 sample per batch .* got N=1"):
        net.forward(data()[0][:1])
    assert np.array_equal(net.buffers["running_mean1"], np.zeros(HIDDEN[0])), "refused before any update"
    MLP(D, HIDDEN, K, norm="layer").forward(data()[0][:1])  # layer norm normalizes each row: fine


def test_dropout_is_inverted_with_a_cached_mask_from_the_models_seeded_generator():
    p = 0.3
    net = MLP(D, [50, 40], K, dropout=p, seed=1)
    x, _ = data(n=200)
    net.forward(x)
    mask, a, h = net.cache["mask1"], net.cache["a1"], net.cache["h1"]
    assert mask.shape == h.shape and set(np.unique(mask)) <= {0.0, 1.0}
    np.testing.assert_allclose(h, a * mask / (1 - p), rtol=1e-15)
    assert abs(mask.mean() - (1 - p)) < 0.02, "each unit kept with probability 1 - p"
    again = MLP(D, [50, 40], K, dropout=p, seed=1)
    again.forward(x)
    assert np.array_equal(again.cache.mask2, net.cache.mask2), "the same seed draws the same masks"
    net.forward(x)
    assert not np.array_equal(net.cache.mask1, mask), "each forward draws a new mask"


def test_frozen_masks_are_reused_until_unfrozen():
    net = MLP(D, HIDDEN, K, dropout=0.5)
    x, _ = data()
    net.forward(x)
    first = net.cache.mask1
    net.freeze_masks()
    net.forward(x)
    assert np.array_equal(net.cache.mask1, first)
    net.unfreeze_masks()
    masks = {"mask1": np.ones((N, 5)), "mask2": np.zeros((N, 4))}
    net.freeze_masks(masks)
    assert np.array_equal(net.cache.mask1, first), "freezing alone runs no forward"
    net.forward(x)
    assert np.array_equal(net.cache.h2, np.zeros((N, 4)))


@pytest.mark.parametrize("call, error, words", [
    (lambda: MLP(D, 4, K, norm="group"), ValueError, "norm: expected one of ('batch', 'layer'), got 'group'"),
    (lambda: MLP(D, 4, K, norm=True), ValueError, "norm: expected one of"),
    (lambda: MLP(D, 4, K, dropout=1.0), ValueError, "dropout: expected a finite number in [0, 1), got 1.0"),
    (lambda: MLP(D, 4, K, dropout=-0.1), ValueError, "dropout: expected a finite number in [0, 1)"),
    (lambda: MLP(D, 4, K, dropout="0.5"), TypeError, "dropout: expected a real number, got str '0.5'"),
    (lambda: MLP(D, 4, K, dropout=float("nan")), ValueError, "dropout: expected a finite number"),
    (lambda: MLP(D, 4, K, norm="batch", norm_eps=0), ValueError, "norm_eps: expected a finite number > 0, got 0"),
    (lambda: MLP(D, 4, K, norm="batch", norm_eps=float("inf")), ValueError, "norm_eps: expected a finite number"),
    (lambda: MLP(D, 4, K, norm="batch", norm_momentum=1.5), ValueError,
     "norm_momentum: expected a finite number in [0, 1] (torch's momentum), got 1.5"),
    (lambda: MLP(D, 4, K, norm="batch", norm_momentum=None), TypeError, "norm_momentum: expected a real number"),
    (lambda: MLP(D, 4, K).train("yes"), TypeError, "mode: expected True or False, got str 'yes'"),
    (lambda: MLP(D, 4, K).freeze_masks(), ValueError, "freeze_masks: the model has no dropout"),
    (lambda: MLP(D, 4, K, dropout=0.5).freeze_masks(), ValueError, "freeze_masks: no masks to freeze"),
    (lambda: MLP(D, 4, K, dropout=0.5).freeze_masks({"mask1": np.ones((2, 3))}), ValueError,
     "masks['mask1']: expected an array of shape (N, 4), got (2, 3)"),
    (lambda: MLP(D, 4, K, dropout=0.5).freeze_masks({"mask1": np.full((2, 4), 0.5)}), ValueError,
     "masks['mask1']: expected 0/1 values only"),
    (lambda: MLP(D, 4, K, dropout=0.5).freeze_masks({"m": np.ones((2, 4))}), ValueError,
     "masks: expected a dict with keys ['mask1'], got ['m']"),
])
def test_bad_arguments_are_refused_by_name(call, error, words):
    with pytest.raises(error) as e:
        call()
    assert words in str(e.value)


def test_a_frozen_mask_of_another_batch_size_is_refused_by_name():
    net = MLP(D, 4, K, dropout=0.5).freeze_masks({"mask1": np.ones((2, 4))})
    with pytest.raises(ValueError, match=r"x: the frozen mask1 has shape \(2, 4\), this forward needs \(6, 4\)"):
        net.forward(data()[0])


def test_cache_is_a_read_only_mapping_beside_its_attributes():
    net = MLP(D, 4, K)
    x, _ = data()
    net.forward(x)
    c = net.cache
    assert c["z1"] is c.z1 and c["y_hat"] is c.y_hat and "h" in c and "dz1" not in c
    assert list(c.keys())[:5] == ["x", "z1", "h", "z2", "y_hat"] and dict(c.items())["h"] is c.h
    assert c.get("nothing") is None
    with pytest.raises(KeyError, match=r"cache: expected one of \['x', 'z1'"):
        c["z9"]
    with pytest.raises(TypeError, match=r"cache: read-only \(the values of the last forward\); got an assignment to 'z1'"):
        c["z1"] = x
    with pytest.raises(AttributeError, match="cache: read-only"):
        c.z1 = x
    assert c[1] is c.z1, "positional access stays a tuple's"


@pytest.mark.parametrize("loss, g", [("ce", "softmax"), ("bce", "sigmoid"), ("mse", "identity")])
def test_a_loss_without_g_takes_its_own_output(loss, g):
    assert MLP(4, 8, 3, loss=loss).g == g


@pytest.mark.parametrize("norm", [None, "batch", "layer"])
@pytest.mark.parametrize("dropout", [0.0, 0.4])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_every_gradient_matches_finite_differences(norm, dropout, mode):
    net = MLP(D, HIDDEN, K, f="tanh", g="sigmoid", loss="bce", norm=norm, dropout=dropout, seed=2)
    x, y = data(1)
    net.forward(x)  # running statistics that are not 0 and 1 for eval
    getattr(net, mode)()
    before = {k: v.copy() for k, v in net.buffers.items()}
    result = check_model(net, x, y)
    assert result.ok, {k: c.max_abs for k, c in result.comparisons.items()}
    assert set(result.comparisons) == set(net.param_names)
    assert all(np.array_equal(net.buffers[k], v) for k, v in before.items()), "the running statistics are restored"
    if dropout:
        assert net._frozen_masks is None, "check_model unfreezes what it froze"


def test_finite_differences_catch_gammas_gradient_taken_as_the_batch_mean(monkeypatch):
    """Negative control for the third oracle on the new layers."""
    good = functional.batchnorm_backward

    def mean_dgamma(dout, cache):
        dz, dgamma, dbeta = good(dout, cache)
        return dz, dgamma / dout.shape[0], dbeta

    monkeypatch.setattr(functional, "batchnorm_backward", mean_dgamma)
    net = MLP(D, HIDDEN, K, f="tanh", norm="batch")
    result = check_model(net, *data(1))
    failed = {k for k, c in result.comparisons.items() if not c.ok}
    assert failed == {"gamma1", "gamma2"}


def test_a_model_with_norm_and_dropout_pickles_with_its_cache_and_buffers():
    net = MLP(D, HIDDEN, K, norm="batch", dropout=0.3)
    net.forward(data()[0])
    clone = pickle.loads(pickle.dumps(net))
    assert type(clone.cache).__name__ == "ForwardCache3_batch_dropout"
    assert np.array_equal(clone.cache["mask2"], net.cache.mask2)
    assert np.array_equal(clone.buffers["running_var1"], net.buffers["running_var1"])


def test_the_memory_estimate_covers_gamma_beta_and_the_running_statistics():
    net = MLP(50, [60, 30], 7, dtype="float32", norm="batch", dropout=0.5)
    owned = sum(a.nbytes for a in (net._params.flat, net._grads.flat, net._dparams.flat, net._update,
                                   net._buffers.flat))
    estimate = memory.model_bytes(net.sizes, "float32", "batch")
    assert owned <= estimate < 10 * owned
    assert estimate > memory.model_bytes(net.sizes, "float32"), "norm adds to the estimate"
    assert memory.batch_bytes(net.sizes, 8, "float32", "batch", True) > memory.batch_bytes(net.sizes, 8, "float32")
