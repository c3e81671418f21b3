"""Bad input gets a clear error naming the argument, what was expected and what came. One test per case."""
import numpy as np
import pytest

from mlp_ref import MLP

D, H, K, N = 4, 6, 3, 5


@pytest.fixture
def net():
    return MLP(D, H, K)


@pytest.fixture
def x():
    return np.random.default_rng(0).standard_normal((N, D))


@pytest.fixture
def y():
    return np.random.default_rng(1).standard_normal((N, K))


def test_x_with_the_wrong_width(net):
    with pytest.raises(ValueError, match=r"x: expected shape \(N, n_in=4\), got \(5, 3\)"):
        net.forward(np.zeros((N, 3)))


def test_x_with_the_wrong_number_of_dims(net):
    with pytest.raises(ValueError, match=r"x: expected 2-d array of shape \(N, n_in=4\), got 1-d array of shape \(4,\)"):
        net.forward(np.zeros(D))


def test_x_of_integer_dtype(net):
    with pytest.raises(TypeError, match=r"x: expected dtype float64, got int64 \(cast it explicitly\)"):
        net.forward(np.zeros((N, D), dtype=np.int64))


def test_x_of_object_dtype(net):
    with pytest.raises(TypeError, match=r"x: expected dtype float64, got object"):
        net.forward(np.zeros((N, D), dtype=object))


def test_x_of_the_other_float_dtype_is_not_silently_cast(net):
    with pytest.raises(TypeError, match=r"x: expected dtype float64, got float32"):
        net.forward(np.zeros((N, D), dtype=np.float32))


def test_x_that_is_not_an_array(net):
    with pytest.raises(TypeError, match=r"x: expected a numpy.ndarray of float64, got builtins.list"):
        net.forward([[0.0] * D] * N)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_x_with_a_non_finite_value(net, x, bad):
    x[2, 1] = bad
    with pytest.raises(ValueError, match=r"x: expected finite values, got .* at index \(2, 1\)"):
        net.forward(x)


def test_y_with_a_shape_that_would_broadcast(net, x):
    y_hat = net.forward(x)
    with pytest.raises(ValueError, match=r"y: expected shape \(N=5, n_out=3\), got \(5, 1\)"):
        net.loss(y_hat, np.zeros((N, 1)))


def test_y_with_the_wrong_number_of_dims(net, x):
    y_hat = net.forward(x)
    with pytest.raises(ValueError, match=r"y: expected 2-d array .* got 1-d array of shape \(5,\)"):
        net.loss(y_hat, np.zeros(N))


def test_y_with_a_nan(net, x, y):
    y[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"y: expected finite values, got nan at index \(0, 0\)"):
        net.loss(net.forward(x), y)


def test_y_hat_of_another_batch(net, x, y):
    net.forward(x)
    with pytest.raises(ValueError, match=r"y_hat: expected shape \(N=5, n_out=3\), got \(4, 3\)"):
        net.loss(np.zeros((4, K)), y)


def test_bce_target_outside_0_1(x):
    net = MLP(D, H, K, g="sigmoid", loss="bce")
    y = np.full((N, K), 0.5)
    y[1, 2] = 1.5
    with pytest.raises(ValueError, match=r"y: expected values in \[0, 1\] for bce, got 1.5"):
        net.loss(net.forward(x), y)


def test_ce_target_that_is_not_integer(x):
    net = MLP(D, H, K, g="softmax", loss="ce", reduction="mean")
    with pytest.raises(TypeError, match=r"y: expected integer class indices for cross-entropy, got dtype float64"):
        net.loss(net.forward(x), np.zeros(N))


def test_ce_target_out_of_range(x):
    net = MLP(D, H, K, g="softmax", loss="ce", reduction="mean")
    with pytest.raises(ValueError, match=r"y: expected class indices in \[0, 3\), got 3"):
        net.loss(net.forward(x), np.array([0, 1, 2, 3, 0]))


@pytest.mark.parametrize("name", ["W1", "b1", "W2", "b2"])
def test_parameter_with_a_nan_is_caught_at_forward(net, x, name):
    net.params[name].flat[0] = np.nan
    with pytest.raises(ValueError, match=rf"params\['{name}'\]: expected finite values, got nan"):
        net.forward(x)


def test_set_params_with_an_inf(net):
    params = {k: v.copy() for k, v in net.params.items()}
    params["W2"][1, 1] = np.inf
    with pytest.raises(ValueError, match=r"params\['W2'\]: expected finite values, got inf at index \(1, 1\)"):
        net.set_params(params)


def test_set_params_with_a_transposed_weight(net):
    params = {k: v.copy() for k, v in net.params.items()}
    params["W1"] = params["W1"].T.copy()
    with pytest.raises(ValueError, match=r"params\['W1'\]: expected shape \(6, 4\), got \(4, 6\)"):
        net.set_params(params)


def test_set_params_with_a_missing_key(net):
    with pytest.raises(ValueError, match=r"params: expected a dict with keys \['W1', 'b1', 'W2', 'b2'\], got \['W1'\]"):
        net.set_params({"W1": net.params["W1"]})


@pytest.mark.parametrize("arg, value", [("f", "relu6"), ("g", "softplus"), ("loss", "hinge"), ("reduction", "none"),
                                        ("init", "zeros")])
def test_unknown_names(arg, value):
    with pytest.raises(ValueError, match=rf"{arg}: expected one of \(.*\), got '{value}'"):
        MLP(D, H, K, **{arg: value})


def test_softmax_as_a_hidden_activation():
    with pytest.raises(ValueError, match=r"f: expected one of \('identity', 'relu', 'leaky_relu', 'sigmoid', 'tanh'\), got 'softmax'"):
        MLP(D, H, K, f="softmax")


def test_cross_entropy_without_softmax():
    with pytest.raises(ValueError, match=r"g: 'ce' is cross-entropy on softmax outputs, so it needs g='softmax': expected softmax, got 'sigmoid'"):
        MLP(D, H, K, g="sigmoid", loss="ce")


def test_unknown_dtype():
    with pytest.raises(TypeError, match=r"dtype: expected one of \('float64', 'float32'\), got 'float16'"):
        MLP(D, H, K, dtype="float16")


@pytest.mark.parametrize("size", [0, -3, 2.5, True])
def test_sizes_that_are_not_positive_integers(size):
    with pytest.raises(ValueError, match=rf"n_hidden: expected a positive integer, got {size!r}"):
        MLP(D, size, K)


@pytest.mark.parametrize("lr", [float("nan"), float("inf"), -0.1])
def test_lr_that_is_not_a_finite_non_negative_number(net, lr):
    with pytest.raises(ValueError, match=r"lr: expected a finite number >= 0, got"):
        net.step(lr)


@pytest.mark.parametrize("lr", ["0.1", None, True])
def test_lr_that_is_not_a_number(net, lr):
    with pytest.raises(TypeError, match=r"lr: expected a finite real number, got"):
        net.step(lr)


def test_backward_before_forward(net):
    with pytest.raises(ValueError, match=r"backward\(\) called before forward\(\)"):
        net.backward()


def test_backward_before_loss(net, x):
    net.forward(x)
    with pytest.raises(ValueError, match=r"backward\(\) called before loss\(\)"):
        net.backward()


def test_backward_twice_on_one_loss(net, x, y):
    net.loss(net.forward(x), y)
    net.backward()
    with pytest.raises(ValueError, match=r"backward\(\) called before loss\(\).*once"):
        net.backward()


def test_loss_before_forward(net, y):
    with pytest.raises(ValueError, match=r"loss\(\) called before forward\(\)"):
        net.loss(np.zeros((N, K)), y)
