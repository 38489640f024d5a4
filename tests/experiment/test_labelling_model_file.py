"""Safe model folders (skfral.nn.save_model / load_model): issue 26, item 4."""

import hashlib
import json
import os
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skfral.datasets import make_tabular_preprocessor
from skfral.nn import (
    MLP,
    ModelFileError,
    ModelVersionWarning,
    RobustNeuralNetClassifier,
    load_model,
    save_model,
)


@pytest.fixture(scope="module")
def table():
    rng = np.random.RandomState(0)
    X = pd.DataFrame(
        {
            "income": rng.randn(60),
            "job": np.where(rng.rand(60) > 0.5, "clerk", "nurse"),
        }
    )
    X.loc[3, "income"] = np.nan
    y = np.where(X["income"].fillna(0) > 0, "yes", "no")
    return X, y


@pytest.fixture
def saved(tmp_path, table):
    X, y = table
    pre = make_tabular_preprocessor(X)
    net = RobustNeuralNetClassifier(
        MLP, max_epochs=2, attack_n_steps=1, random_state=0, lr=0.05
    )
    est = make_pipeline(pre, net).fit(X, y)
    path = save_model(est, tmp_path / "model", metadata={"target": "approved"})
    return est, path


def rehash(path, name):
    """What an attacker who edits a file and fixes the checksums would do."""
    settings = json.loads((path / "model.json").read_text())
    digest = hashlib.sha256((path / name).read_bytes()).hexdigest()
    settings["files"][name] = digest
    rest = {k: v for k, v in settings.items() if k != "checksum"}
    text = json.dumps(rest, sort_keys=True, allow_nan=False)
    settings["checksum"] = hashlib.sha256(text.encode()).hexdigest()
    (path / "model.json").write_text(json.dumps(settings))


def test_round_trip_gives_the_same_probabilities(saved, table):
    est, path = saved
    X, _ = table
    twin, meta = load_model(path)
    np.testing.assert_array_equal(twin.predict_proba(X), est.predict_proba(X))
    assert meta == {"target": "approved"}
    assert sorted(p.name for p in path.iterdir()) == [
        "model.json",
        "preprocess.skops",
        "weights.pt",
    ]


@pytest.mark.parametrize("name", ["weights.pt", "preprocess.skops"])
def test_a_changed_file_is_refused(saved, name):
    _, path = saved
    data = bytearray((path / name).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (path / name).write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=f"{name} does not match the checksum"):
        load_model(path)


def test_edited_settings_are_refused(saved):
    _, path = saved
    settings = json.loads((path / "model.json").read_text())
    settings["net"]["params"]["attack_eps"] = 0.0
    (path / "model.json").write_text(json.dumps(settings))
    with pytest.raises(ModelFileError, match="model.json does not match its checksum"):
        load_model(path)


def test_a_preprocessing_with_foreign_code_is_refused(saved):
    import skops.io as sio

    _, path = saved
    evil = FunctionTransformer(os.getcwd)  # any function outside the trusted list
    sio.dump(evil, path / "preprocess.skops")
    rehash(path, "preprocess.skops")
    with pytest.raises(ModelFileError, match=r"outside the trusted list.*posix.getcwd"):
        load_model(path)


class _Payload:
    def __reduce__(self):
        return (os.getcwd, ())


def test_weights_holding_a_pickle_of_code_are_refused(saved):
    _, path = saved
    with open(path / "weights.pt", "wb") as fh:
        torch.save({"module": _Payload()}, fh, pickle_module=pickle)
    rehash(path, "weights.pt")
    with pytest.raises(ModelFileError, match="holds more than weights"):
        load_model(path)


def test_another_skfral_version_warns_and_a_newer_format_is_refused(saved, table):
    est, path = saved
    settings = json.loads((path / "model.json").read_text())
    settings["skfral_version"] = "0.0.1"
    rest = {k: v for k, v in settings.items() if k != "checksum"}
    text = json.dumps(rest, sort_keys=True, allow_nan=False)
    settings["checksum"] = hashlib.sha256(text.encode()).hexdigest()
    (path / "model.json").write_text(json.dumps(settings))
    with pytest.warns(ModelVersionWarning, match="saved by skfral 0.0.1"):
        twin, _ = load_model(path)
    np.testing.assert_array_equal(
        twin.predict_proba(table[0]), est.predict_proba(table[0])
    )
    settings["format_version"] = 99
    rest = {k: v for k, v in settings.items() if k != "checksum"}
    text = json.dumps(rest, sort_keys=True, allow_nan=False)
    settings["checksum"] = hashlib.sha256(text.encode()).hexdigest()
    (path / "model.json").write_text(json.dumps(settings))
    with pytest.raises(ModelFileError, match="format version 99.*upgrade skfral"):
        load_model(path)


def test_unsavable_nets_get_a_clear_error(tmp_path, table):
    X, y = table
    with pytest.raises(ValueError, match="not initialized"):
        save_model(RobustNeuralNetClassifier(MLP), tmp_path / "m")
    with pytest.raises(TypeError, match="not one of skfral's modules"):
        save_model(RobustNeuralNetClassifier(torch.nn.Linear), tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_saving_over_a_non_model_folder_is_refused(tmp_path, saved):
    est, _ = saved
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not a skfral model folder"):
        save_model(est, tmp_path / "notes")
    assert (tmp_path / "notes" / "keep.txt").read_text() == "mine"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
