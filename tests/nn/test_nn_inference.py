"""Nothing inferred by hand (issue 12): module sizes from the data, the
input-scale warning, and settings checked once per fit (issue 18)."""

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import skfral.nn._net_checks as net_module
from skfral.nn import (
    MLP,
    InputScaleWarning,
    ResNet18,
    RobustNeuralNetClassifier,
    SmallCNN,
)


def three_classes(n=90, n_features=5, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, n_features).astype(np.float32)
    y = np.digitize(X[:, 0], [-0.4, 0.4])  # 0, 1, 2
    return X, y


def quick(module=MLP, **params):
    params = {"adversarial": None, "max_epochs": 2, "random_state": 0, **params}
    return RobustNeuralNetClassifier(module, **params)


# ------------------------------------------------------------ module sizes
def test_mlp_sizes_and_multiclass_with_defaults():
    X, y = three_classes()
    net = quick(adversarial="pgd", attack_n_steps=2).fit(X, y)
    assert net.module_.n_features == 5
    assert net.module_.head.out_features == 3
    assert net.predict_proba(X).shape == (90, 3)
    assert set(net.predict(X)) <= {0, 1, 2}


def test_string_labels_and_classes_parameter_set_the_number_of_outputs():
    X, y = three_classes()
    labels = np.array(["lo", "mid", "hi"])[y]
    assert quick().fit(X, labels).module_.head.out_features == 3
    # classes=[...] lists a label the labelled set misses: it still gets a logit
    net = quick(classes=[0, 1, 2, 3]).fit(X, y)
    assert net.module_.head.out_features == 4
    assert net.predict_proba(X).shape == (90, 4)


def test_inside_a_pipeline_after_a_column_transformer():
    X, y = three_classes(n_features=2)
    rng = np.random.RandomState(1)
    df = pd.DataFrame(
        {
            "age": X[:, 0] * 10 + 40,
            "income": X[:, 1] * 1e4 + 5e4,
            "city": rng.choice(["a", "b", "c", "d"], len(y)),
        }
    )
    pre = ColumnTransformer(
        [
            ("num", StandardScaler(), ["age", "income"]),
            ("cat", OneHotEncoder(), ["city"]),
        ]
    )
    pipe = make_pipeline(pre, quick()).fit(df, y)
    assert pipe[-1].module_.n_features == 2 + 4  # two scaled, four one-hot columns
    assert pipe[-1].module_.head.out_features == 3
    assert pipe.predict(df).shape == (len(y),)


def test_an_explicit_module_parameter_wins():
    X, y = three_classes()
    with pytest.raises(ValueError, match=r"samples of shape \(5,\) does not fit"):
        quick(module__n_features=4).fit(X, y)
    net = quick(module__n_classes=4, classes=[0, 1, 2, 3]).fit(X, y)
    assert net.module_.head.out_features == 4


def test_a_fresh_fit_resizes_and_a_warm_start_keeps_the_module():
    X, y = three_classes()
    net = quick().fit(X, y)
    net.fit(X[:, :3], y % 2)
    assert net.module_.n_features == 3 and net.module_.head.out_features == 2
    net.set_params(warm_start=True)
    module = net.module_
    net.fit(X[:, :3], y % 2)
    assert net.module_ is module


@pytest.mark.parametrize("module, attr", [(SmallCNN, "conv"), (ResNet18, "stem")])
def test_image_modules_read_channels_and_classes(module, attr):
    rng = np.random.RandomState(0)
    X = rng.rand(24, 2, 8, 8).astype(np.float32)
    y = np.arange(24) % 3
    net = quick(module, module__width=4, max_epochs=1).fit(X, y)
    first_conv = next(
        m
        for m in getattr(net.module_, attr).modules()
        if isinstance(m, torch.nn.Conv2d)
    )
    assert first_conv.in_channels == 2
    assert net.module_.head.out_features == 3


def test_initialize_without_data_says_what_is_missing():
    with pytest.raises(
        TypeError, match=r"needs n_features: fit the net .*module__n_features"
    ):
        quick().initialize()


# ------------------------------------------------------------ input scale
def fit_quietly(net, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputScaleWarning)
        return net.fit(X, y)


@pytest.mark.parametrize("factor, kind", [(1000.0, "negligible"), (0.01, "wider")])
def test_unscaled_features_warn(factor, kind):
    X, y = three_classes()
    net = quick(adversarial="pgd", attack_n_steps=1, max_epochs=1)
    with pytest.warns(InputScaleWarning, match=rf"attack_eps=0.1 is .*{kind}"):
        net.fit(X * factor, y)


def test_scaled_inputs_do_not_warn():
    X, y = three_classes()
    fit_quietly(quick(adversarial="pgd", attack_n_steps=1, max_epochs=1), X, y)
    images = np.random.RandomState(0).rand(24, 3, 8, 8).astype(np.float32)
    fit_quietly(
        quick(
            SmallCNN,
            adversarial="pgd",
            attack_eps=8 / 255,
            attack_n_steps=1,
            module__width=2,
            max_epochs=1,
        ),
        images,
        np.arange(24) % 2,
    )
    # no attack, nothing to compare: unscaled data does not warn
    fit_quietly(quick(max_epochs=1), X * 1000, y)


# ------------------------------------------------------ checked once a fit
@pytest.fixture
def counters(monkeypatch):
    calls = {"settings": 0, "X": 0}
    check_settings = RobustNeuralNetClassifier._check_hyperparameters
    check_x = net_module.check_input_array

    def counted_settings(self):
        calls["settings"] += 1
        return check_settings(self)

    def counted_x(*args, **kwargs):
        calls["X"] += 1
        return check_x(*args, **kwargs)

    monkeypatch.setattr(
        RobustNeuralNetClassifier, "_check_hyperparameters", counted_settings
    )
    monkeypatch.setattr(net_module, "check_input_array", counted_x)
    return calls


@pytest.mark.parametrize("adversarial", ["pgd", "trades", None])
def test_settings_and_X_are_checked_once_per_fit(counters, adversarial):
    X, y = three_classes()
    net = quick(adversarial=adversarial, attack_n_steps=1, batch_size=16)
    net.fit(X, y)  # 2 epochs of 6 batches
    assert counters == {"settings": 1, "X": 1}
    net.partial_fit(X, y)
    assert counters == {"settings": 2, "X": 2}
    net.predict_proba(X)
    assert counters == {"settings": 2, "X": 3}


# ------------------------------------------------------------- bad settings
@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"device": "gpu"}, ValueError, r"device='gpu' is not a torch device"),
        ({"amp_dtype": "fp16"}, ValueError, r"amp_dtype='fp16' is not valid"),
        (
            {"amp_dtype": "float16"},
            ValueError,
            r"amp_dtype='float16' needs device='cuda'",
        ),
        (
            {"channels_last": 1},
            TypeError,
            r"channels_last=1 has type int: expected True or False",
        ),
        ({"augment": "rotate"}, ValueError, r"augment='rotate' is not valid"),
        (
            {"augment": "flip"},
            ValueError,
            r"augment='flip' needs image inputs .* X has shape \(90, 5\)",
        ),
        ({"augment_padding": -1}, ValueError, r"augment_padding=-1 is invalid"),
        ({"predict_batch_size": 0}, ValueError, r"predict_batch_size=0 is invalid"),
        ({"lr": float("nan")}, ValueError, r"lr=nan is invalid"),
        ({"max_epochs": -1}, ValueError, r"max_epochs=-1 is invalid"),
        ({"batch_size": 0}, ValueError, r"batch_size=0 is invalid"),
    ],
)
def test_bad_settings_fail_at_fit_naming_the_argument(params, error, match):
    X, y = three_classes()
    with pytest.raises(error, match=match):
        quick(**params).fit(X, y)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_without_cuda_is_a_clear_error():
    X, y = three_classes()
    with pytest.raises(ValueError, match=r"device='cuda' but CUDA is not available"):
        quick(device="cuda").fit(X, y)


def test_a_checkpoint_restores_an_inferred_module(tmp_path):
    from skfral.nn._checkpoint import (
        get_net_state,
        load_checkpoint,
        save_checkpoint,
        set_net_state,
    )

    X, y = three_classes()
    net = quick(module__hidden_sizes=(8,)).fit(X, y)
    save_checkpoint({"robust": get_net_state(net)}, tmp_path / "state.pt")
    state = load_checkpoint(tmp_path / "state.pt")["robust"]
    twin = quick(module__hidden_sizes=(8,), classes=[0, 1, 2])  # never fitted
    set_net_state(twin, state)
    assert twin.module_.n_features == 5 and twin.module_.head.out_features == 3
    np.testing.assert_array_equal(twin.predict_proba(X), net.predict_proba(X))
    with pytest.raises(ValueError, match=r"X has 4 features, but .* expecting 5"):
        twin.predict(X[:, :4])


def test_partial_fit_on_an_initialized_net_probes_the_module_first():
    X, y = three_classes()
    net = quick(max_epochs=0).fit(X, y)  # built for 5 features, never trained
    assert len(net.history) == 0
    before = [p.detach().clone() for p in net.module_.parameters()]
    with pytest.raises(ValueError, match=r"samples of shape \(3,\) does not fit"):
        net.set_params(max_epochs=1).partial_fit(X[:, :3], y)
    assert all(torch.equal(p, q) for p, q in zip(before, net.module_.parameters()))
    assert net.module_.n_features == 5
